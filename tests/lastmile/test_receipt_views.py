"""Delivery, receipt, handover and follow-up pages: scope, htmx answers, messages."""

from __future__ import annotations

import pytest
from django.urls import reverse

from baogong.lastmile.models import Bag, Handover
from baogong.lastmile.receipt import bags_check, receipt_finish, receipt_start
from baogong.requisitions.models import DistributionEntry

HTMX = {"HX-Request": "true"}


def _received(lastmile):
    delivery = lastmile.delivery
    receipt_start(delivery=delivery, by=lastmile.liaison)
    bags_check(
        delivery=delivery,
        bag_ids=list(delivery.bags.values_list("pk", flat=True)),
        gate_state=Bag.GateState.RECEIVED,
        by=lastmile.liaison,
    )
    receipt_finish(delivery=delivery, by=lastmile.liaison)


def test_delivery_list_shows_only_the_users_compounds(client, lastmile):
    client.force_login(lastmile.liaison)
    page = client.get(reverse("lastmile:delivery_list")).content.decode()
    assert reverse("lastmile:delivery", args=[lastmile.delivery.pk]) in page
    assert reverse("lastmile:delivery", args=[lastmile.other_delivery.pk]) not in page
    client.force_login(lastmile.volunteer)
    page = client.get(reverse("lastmile:delivery_list")).content.decode()
    assert reverse("lastmile:delivery", args=[lastmile.delivery.pk]) in page
    client.force_login(lastmile.resident)
    assert client.get(reverse("lastmile:delivery_list")).status_code == 403


def test_nav_has_deliveries_for_liaison_and_volunteer(client, lastmile):
    for user in (lastmile.liaison, lastmile.volunteer):
        client.force_login(user)
        page = client.get(reverse("lastmile:delivery_list")).content.decode()
        assert f'href="{reverse("lastmile:delivery_list")}"' in page


def test_delivery_page_counts_and_links(client, lastmile):
    client.force_login(lastmile.liaison)
    page = client.get(reverse("lastmile:delivery", args=[lastmile.delivery.pk])).content.decode()
    assert "Bags expected" in page
    assert reverse("lastmile:receipt", args=[lastmile.delivery.pk]) in page
    assert reverse("lastmile:slots", args=[lastmile.delivery.pk]) in page
    # A volunteer sees the handover, not the receipt.
    client.force_login(lastmile.volunteer)
    page = client.get(reverse("lastmile:delivery", args=[lastmile.delivery.pk])).content.decode()
    assert reverse("lastmile:receipt", args=[lastmile.delivery.pk]) not in page
    assert reverse("lastmile:handover", args=[lastmile.delivery.pk]) in page
    assert client.get(reverse("lastmile:receipt", args=[lastmile.delivery.pk])).status_code == 404


def test_outsiders_get_404(client, lastmile):
    client.force_login(lastmile.other_liaison)
    for name in ("delivery", "receipt", "handover", "followup"):
        url = reverse(f"lastmile:{name}", args=[lastmile.delivery.pk])
        assert client.get(url).status_code == 404, name


def test_round_page_button_makes_the_deliveries(client, lastmile):
    # The round serves two compounds: its supplier (or staff over both) runs it.
    client.force_login(lastmile.staff)
    assert (
        client.post(reverse("lastmile:round_deliveries", args=[lastmile.round.pk])).status_code
        == 404
    )
    client.force_login(lastmile.supplier_user)
    response = client.post(reverse("lastmile:round_deliveries", args=[lastmile.round.pk]))
    assert response.status_code == 302
    page = client.get(reverse("orders:round_detail", args=[lastmile.round.pk])).content.decode()
    assert reverse("lastmile:round_deliveries", args=[lastmile.round.pk]) in page


def test_receipt_scan_answers_with_htmx_and_a_clear_error(client, lastmile):
    client.force_login(lastmile.liaison)
    url = reverse("lastmile:receipt_action", args=[lastmile.delivery.pk, "start"])
    assert client.post(url).status_code == 302
    check = reverse("lastmile:receipt_action", args=[lastmile.delivery.pk, "check"])
    bag = lastmile.bag(0)
    answer = client.post(check, {"code": bag.pickup_code.lower()}, headers=HTMX).content.decode()
    assert "result-ok" in answer and bag.pickup_code in answer
    assert 'aria-live="assertive"' in answer
    answer = client.post(check, {"code": "ZZZZZZ"}, headers=HTMX).content.decode()
    assert "result-bad" in answer and "No bag with pickup code ZZZZZZ" in answer
    answer = client.post(
        check,
        {"code": lastmile.bag(1).pickup_code, "gate_state": "missing", "note": "没到"},
        headers=HTMX,
    )
    assert lastmile.bag(1).gate_state == Bag.GateState.MISSING
    assert lastmile.bag(1).gate_note == "没到"
    page = client.get(reverse("lastmile:receipt", args=[lastmile.delivery.pk])).content.decode()
    assert "jsQR.js" in page and "scanner.js" in page and "autofocus" in page


def test_receipt_finish_with_unchecked_bags_says_so(client, lastmile):
    client.force_login(lastmile.liaison)
    client.post(reverse("lastmile:receipt_action", args=[lastmile.delivery.pk, "start"]))
    response = client.post(
        reverse("lastmile:receipt_action", args=[lastmile.delivery.pk, "finish"]), follow=True
    )
    assert "6 bags are not checked yet" in response.content.decode()


def test_receipt_tick_list_then_finish_shows_summary(client, lastmile):
    client.force_login(lastmile.liaison)
    client.post(reverse("lastmile:receipt_action", args=[lastmile.delivery.pk, "start"]))
    ids = list(lastmile.delivery.bags.values_list("pk", flat=True))
    client.post(
        reverse("lastmile:receipt_action", args=[lastmile.delivery.pk, "tick"]),
        {"bag": ids, "gate_state": "received"},
    )
    response = client.post(
        reverse("lastmile:receipt_action", args=[lastmile.delivery.pk, "finish"]), follow=True
    )
    page = response.content.decode()
    assert "Receipt summary" in page and "Every bag arrived." in page


def test_handover_by_code_then_reused_code_is_refused(client, lastmile):
    _received(lastmile)
    client.force_login(lastmile.volunteer)
    url = reverse("lastmile:handover", args=[lastmile.delivery.pk])
    bag = lastmile.bag(1)
    answer = client.post(url, {"code": bag.pickup_code, "received_by": "王小明"}, headers=HTMX)
    assert "result-ok" in answer.content.decode()
    # The counts above the banner follow, swapped out of band.
    assert 'id="handover-counts" hx-swap-oob="true"' in answer.content.decode()
    assert "1 handed over" in answer.content.decode()
    handover = Handover.objects.get(bag=bag)
    assert (handover.handed_by, handover.received_by) == (lastmile.volunteer, "王小明")
    assert DistributionEntry.objects.filter(bag=bag).exists()
    again = client.post(url, {"code": bag.pickup_code}, headers=HTMX).content.decode()
    assert "result-bad" in again and "already used" in again and "王**" in again
    # A bag of another building: refused on the banner, not a 403 page.
    other = client.post(url, {"code": lastmile.bag(4).pickup_code}, headers=HTMX)
    assert other.status_code == 200 and "result-bad" in other.content.decode()


def test_handover_by_room_and_phone_digits(client, lastmile):
    _received(lastmile)
    client.force_login(lastmile.liaison)
    household = lastmile.households[4]
    response = client.post(
        reverse("lastmile:handover", args=[lastmile.delivery.pk]),
        {
            "by": "room",
            "building": lastmile.building_10.pk,
            "room": "101",
            "last4": household.phone[-4:],
        },
        headers=HTMX,
    )
    assert "result-ok" in response.content.decode()
    assert Handover.objects.get(bag=lastmile.bag(4)).method == Handover.Method.ROOM_PHONE


def test_handover_before_gate_receipt_warns(client, lastmile):
    client.force_login(lastmile.liaison)
    url = reverse("lastmile:handover", args=[lastmile.delivery.pk])
    assert "not been received at the gate yet" in client.get(url).content.decode()
    answer = client.post(url, {"code": lastmile.bag(0).pickup_code}, headers=HTMX).content.decode()
    assert "result-bad" in answer


def test_followup_page_phones_and_action(client, lastmile):
    _received(lastmile)
    client.force_login(lastmile.liaison)
    client.post(reverse("lastmile:pickup_close", args=[lastmile.delivery.pk]))
    page = client.get(reverse("lastmile:followup", args=[lastmile.delivery.pk])).content.decode()
    household = lastmile.households[1]
    assert household.phone in page  # liaisons phone people: full numbers
    bag = lastmile.bag(1)
    client.post(
        reverse("lastmile:followup_action", args=[bag.pk]),
        {"action": "storage", "note": "放门卫室"},
    )
    bag.refresh_from_db()
    assert (bag.follow_up, bag.follow_up_note) == ("storage", "放门卫室")


@pytest.mark.parametrize("action", ["bogus"])
def test_unknown_receipt_action_is_404(client, lastmile, action):
    client.force_login(lastmile.liaison)
    url = reverse("lastmile:receipt_action", args=[lastmile.delivery.pk, action])
    assert client.post(url).status_code == 404
