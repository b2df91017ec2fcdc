"""The slots page, slot editing and the calling screen: who reaches them, forms, messages."""

from __future__ import annotations

import pytest
from django.urls import reverse

from baogong.lastmile import slots as services
from baogong.lastmile.models import Bag, Delivery, PickupSlot
from baogong.notify.models import Message
from tests.lastmile.test_slots_notify import START, ready_for_pickup


@pytest.fixture
def proposed(lastmile):
    services.slots_propose(delivery=lastmile.delivery, start_at=START, by=None)
    return lastmile


def url(name: str, pk: int) -> str:
    return reverse(f"lastmile:{name}", kwargs={"pk": pk})


@pytest.mark.parametrize("who", ["liaison", "staff"])
def test_people_running_the_delivery_reach_the_pages(client, proposed, who):
    client.force_login(getattr(proposed, who))
    pk = proposed.delivery.pk
    for name in ("slots", "calling", "calling_status"):
        assert client.get(url(name, pk)).status_code == 200, name


@pytest.mark.parametrize("who", ["volunteer", "resident", "supplier_user", "other_liaison"])
def test_others_do_not(client, proposed, who):
    client.force_login(getattr(proposed, who))
    pk = proposed.delivery.pk
    slot = proposed.delivery.slots.first()
    for name in ("slots", "calling", "calling_status"):
        assert client.get(url(name, pk)).status_code in (403, 404), name
    assert client.post(url("call_next", pk)).status_code in (403, 404)
    assert client.post(url("slots_notify", pk)).status_code in (403, 404)
    assert client.post(url("slot_move", slot.pk), {"direction": "down"}).status_code in (403, 404)
    assert client.get(url("slot_edit", slot.pk)).status_code in (403, 404)
    assert not Message.objects.exists()
    assert list(proposed.delivery.slots.values_list("position", flat=True)) == [1, 2]


def test_propose_from_the_page_saves_the_spacing_rule(client, lastmile):
    client.force_login(lastmile.liaison)
    response = client.post(
        url("slots", lastmile.delivery.pk),
        {"max_waiting": "2", "minutes_per_household": "3", "start_at": "2026-11-28T15:00"},
    )
    assert response.status_code == 302
    lastmile.delivery.refresh_from_db()
    assert (lastmile.delivery.max_waiting, lastmile.delivery.minutes_per_household) == (2, 3)
    page = client.get(url("slots", lastmile.delivery.pk)).content.decode()
    assert "3号楼" in page and "10号楼" in page
    # 3号楼: 3 households, 2 at once → 2 waves × 3 min.
    assert "11-28 15:00–15:06" in page


def test_propose_with_bad_input_names_the_field_and_writes_nothing(client, lastmile):
    client.force_login(lastmile.liaison)
    response = client.post(
        url("slots", lastmile.delivery.pk),
        {"max_waiting": "0", "minutes_per_household": "2", "start_at": "soon"},
    )
    assert response.status_code == 200
    form = response.context["form"]
    assert set(form.errors) == {"max_waiting", "start_at"}
    assert not PickupSlot.objects.exists()


def test_move_and_edit_from_the_page(client, proposed):
    client.force_login(proposed.liaison)
    slot_10 = proposed.delivery.slots.get(position=2)
    response = client.post(url("slot_move", slot_10.pk), {"direction": "up", "position": "2"})
    assert response.status_code == 302
    slot_10.refresh_from_db()
    assert slot_10.position == 1
    slot_3 = proposed.delivery.slots.get(position=2)
    response = client.post(
        url("slot_edit", slot_10.pk),
        {"starts_at": "2026-11-28T14:00", "ends_at": "2026-11-28T14:05"},
    )
    assert response.status_code == 200
    assert "overlap the slot of 3号楼" in response.content.decode()
    response = client.post(
        url("slot_edit", slot_10.pk),
        {"starts_at": "2026-11-28T14:00", "ends_at": "2026-11-28T13:50", "later_follow": "on"},
    )
    assert "must be after the start" in response.content.decode()
    response = client.post(
        url("slot_edit", slot_10.pk),
        {"starts_at": "2026-11-28T14:00", "ends_at": "2026-11-28T14:05", "later_follow": "on"},
    )
    assert response.status_code == 302
    slot_3.refresh_from_db()
    assert slot_3.starts_at.astimezone(START.tzinfo).strftime("%H:%M") == "14:05"


def test_move_of_the_first_slot_up_says_why_not(client, proposed):
    client.force_login(proposed.liaison)
    first = proposed.delivery.slots.get(position=1)
    response = client.post(url("slot_move", first.pk), {"direction": "up"}, follow=True)
    assert "already first" in response.content.decode()


def test_notify_from_the_page_reports_counts(client, proposed):
    client.force_login(proposed.liaison)
    response = client.post(url("slots_notify", proposed.delivery.pk), follow=True)
    assert "Told 5 households their slot, 0 that their slot changed, 1 that" in (
        response.content.decode()
    )


def test_calling_screen_lists_the_building_with_masked_phones_and_tel_links(client, proposed):
    delivery = ready_for_pickup(proposed)
    household = proposed.households[1]
    household.phone = "17012345678"
    household.save()
    client.force_login(proposed.liaison)
    page = client.get(url("calling", delivery.pk)).content.decode()
    assert "Call the first building: 3号楼" in page
    response = client.post(url("call_next", delivery.pk), {"seen": ""}, follow=True)
    page = response.content.decode()
    assert "3号楼 is called" in page
    assert "170****5678" in page and 'href="tel:17012345678"' in page
    assert "Call the next building: 10号楼" in page
    Bag.objects.filter(pk=proposed.bag(1).pk).update(state=Bag.State.COLLECTED)
    status = client.get(url("calling_status", delivery.pk))
    assert [r["done"] for r in status.context["rows"]].count(True) == 1
    assert status.context["waiting"] == 2


def test_calling_to_the_end_from_the_screen(client, proposed):
    delivery = ready_for_pickup(proposed)
    client.force_login(proposed.liaison)
    client.post(url("call_next", delivery.pk), {"seen": ""})
    first = delivery.slots.get(position=1).pk
    # A second press from the same (stale) screen changes nothing.
    client.post(url("call_next", delivery.pk), {"seen": ""})
    assert delivery.slots.get(position=2).state == PickupSlot.State.PLANNED
    client.post(url("call_next", delivery.pk), {"seen": str(first)})
    second = delivery.slots.get(position=2).pk
    response = client.post(url("call_next", delivery.pk), {"seen": str(second)}, follow=True)
    assert "Pickup closed" in response.content.decode()
    delivery.refresh_from_db()
    assert delivery.state == Delivery.State.DONE


def test_call_next_before_the_gate_receipt_says_why(client, proposed):
    client.force_login(proposed.liaison)
    response = client.post(url("call_next", proposed.delivery.pk), follow=True)
    assert "once the gate receipt is finished" in response.content.decode()
