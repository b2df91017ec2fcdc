"""Handover: a code is used once, the ledger gets one line per bag, scope is enforced."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from django.db import connection
from django.db.models import Sum
from django.urls import reverse
from django.utils import timezone

from baogong.core.errors import Conflict, InvalidInput, NotAllowed, NotFound
from baogong.lastmile.handover import (
    bag_by_code,
    bag_by_room_phone,
    bag_hand_over,
    mask_name,
    normalize_code,
)
from baogong.lastmile.models import Bag, Handover
from baogong.requisitions.models import DistributionEntry

CODE = Handover.Method.CODE


def test_sync_made_one_bag_per_order_and_marked_the_sealed_household(lastmile, delivery):
    bags = Bag.objects.filter(delivery=delivery)
    assert bags.count() == 6
    assert {b.pickup_code for b in bags} == {o.pickup_code for o in lastmile.orders}
    assert list(bags.filter(door_delivery=True)) == [lastmile.bag(3)]


def test_code_lookup_ignores_case_spaces_and_dashes(lastmile, delivery):
    bag = lastmile.bag(0)
    messy = " " + bag.pickup_code[:3].lower() + "-" + bag.pickup_code[3:] + " "
    assert normalize_code(messy) == bag.pickup_code
    assert bag_by_code(delivery=delivery, code=messy) == bag


def test_unknown_code_and_other_deliverys_code_are_not_found(lastmile, delivery):
    with pytest.raises(NotFound, match="No bag with pickup code ZZZZZZ in this delivery"):
        bag_by_code(delivery=delivery, code="zzzzzz")
    other = lastmile.other_delivery.bags.get()
    with pytest.raises(NotFound):
        bag_by_code(delivery=delivery, code=other.pickup_code)
    with pytest.raises(InvalidInput, match="Enter the pickup code"):
        bag_by_code(delivery=delivery, code="  ")


def test_room_and_last_four_phone_digits_find_the_bag(lastmile, delivery):
    household = lastmile.households[1]
    bag = bag_by_room_phone(
        delivery=delivery,
        building_id=lastmile.building_3.pk,
        room="101",
        last4=household.phone[-4:],
    )
    assert bag == lastmile.bag(1)
    # A resident's number works as well as the household's contact number.
    resident_phone = household.residents.first().phone
    assert (
        bag_by_room_phone(
            delivery=delivery,
            building_id=lastmile.building_3.pk,
            room="101",
            last4=resident_phone[-4:],
        )
        == bag
    )


def test_room_and_phone_refusals(lastmile, delivery):
    building = lastmile.building_3.pk
    with pytest.raises(InvalidInput, match="last 4 digits"):
        bag_by_room_phone(delivery=delivery, building_id=building, room="101", last4="12a")
    with pytest.raises(InvalidInput, match="room number"):
        bag_by_room_phone(delivery=delivery, building_id=building, room=" ", last4="1234")
    with pytest.raises(NotFound):
        bag_by_room_phone(delivery=delivery, building_id=building, room="101", last4="9999")
    # Right room and digits, wrong building.
    with pytest.raises(NotFound):
        bag_by_room_phone(
            delivery=delivery,
            building_id=lastmile.building_10.pk,
            room="201",
            last4=lastmile.households[2].phone[-4:],
        )


def test_hand_over_records_who_when_to_whom_and_writes_the_ledger_line(lastmile, delivery):
    lastmile.receive_all()
    bag = lastmile.bag(0)
    at = timezone.now()
    handover = bag_hand_over(
        bag=bag, method=CODE, by=lastmile.volunteer, received_by="王小明", now=at
    )
    bag.refresh_from_db()
    assert bag.state == Bag.State.COLLECTED
    assert (handover.handed_by, handover.handed_at, handover.received_by) == (
        lastmile.volunteer,
        at,
        "王小明",
    )
    entry = DistributionEntry.objects.get(bag=bag)
    assert entry.from_area == delivery.compound
    assert entry.to_household == bag.household
    assert (entry.quantity, entry.unit, entry.distributed_by) == (1, "袋", lastmile.volunteer)
    assert entry.receipt_line is None
    assert bag.history.first().history_user == lastmile.volunteer


def test_door_methods_leave_the_bag_delivered(lastmile):
    lastmile.receive_all()
    bag = lastmile.bag(3)
    bag_hand_over(bag=bag, method=Handover.Method.LEFT_AT_DOOR, by=lastmile.volunteer)
    bag.refresh_from_db()
    assert bag.state == Bag.State.DELIVERED


def test_a_code_is_used_once_and_the_second_scan_says_when_and_by_whom(lastmile):
    lastmile.receive_all()
    bag = lastmile.bag(1)
    lastmile.volunteer.name = "李志愿"
    lastmile.volunteer.save()
    at = timezone.localtime(timezone.now()).replace(hour=14, minute=32)
    bag_hand_over(bag=bag, method=CODE, by=lastmile.volunteer, received_by="王小明", now=at)
    with pytest.raises(Conflict) as refused:
        bag_hand_over(bag=bag, method=CODE, by=lastmile.liaison, now=at + dt.timedelta(minutes=5))
    message = refused.value.message
    assert "14:32" in message and "王**" in message and "李**" in message
    assert "小明" not in message
    assert Handover.objects.filter(bag=bag).count() == 1
    assert DistributionEntry.objects.filter(bag=bag).count() == 1


def test_bags_not_received_missing_or_withdrawn_cannot_be_handed_over(lastmile):
    bag = lastmile.bag(0)
    with pytest.raises(InvalidInput, match="not been received at the gate"):
        bag_hand_over(bag=bag, method=CODE, by=lastmile.liaison)
    Bag.objects.filter(pk=bag.pk).update(gate_state=Bag.GateState.MISSING)
    with pytest.raises(InvalidInput, match="missing"):
        bag_hand_over(bag=bag, method=CODE, by=lastmile.liaison)
    Bag.objects.filter(pk=bag.pk).update(gate_state=Bag.GateState.RECEIVED, state=Bag.State.VOID)
    with pytest.raises(InvalidInput, match="withdrawn"):
        bag_hand_over(bag=bag, method=CODE, by=lastmile.liaison)
    with pytest.raises(InvalidInput, match="how the bag"):
        bag_hand_over(bag=lastmile.bag(1), method="thrown", by=lastmile.liaison)
    assert not Handover.objects.exists()
    assert not DistributionEntry.objects.exists()


def test_an_uncollected_bag_can_still_be_handed_over(lastmile):
    lastmile.receive_all()
    bag = lastmile.bag(1)
    Bag.objects.filter(pk=bag.pk).update(state=Bag.State.UNCOLLECTED)
    bag_hand_over(bag=bag, method=CODE, by=lastmile.liaison)
    bag.refresh_from_db()
    assert bag.state == Bag.State.COLLECTED


def test_volunteers_hand_over_only_in_their_building(lastmile):
    lastmile.receive_all()
    with pytest.raises(NotAllowed):
        bag_hand_over(bag=lastmile.bag(4), method=CODE, by=lastmile.volunteer)  # 10号楼
    with pytest.raises(NotAllowed):
        bag_hand_over(bag=lastmile.bag(0), method=CODE, by=lastmile.other_liaison)
    with pytest.raises(NotAllowed):
        bag_hand_over(bag=lastmile.bag(0), method=CODE, by=lastmile.resident)
    bag_hand_over(bag=lastmile.bag(4), method=CODE, by=lastmile.volunteer_10)


def test_ledger_lines_add_up_to_the_bags_handed_over(lastmile):
    lastmile.receive_all()
    for index in (0, 1, 4):
        bag_hand_over(bag=lastmile.bag(index), method=CODE, by=lastmile.liaison)
    total = DistributionEntry.objects.filter(bag__delivery=lastmile.delivery).aggregate(
        n=Sum("quantity")
    )["n"]
    assert total == 3
    assert Bag.objects.filter(delivery=lastmile.delivery, state=Bag.State.COLLECTED).count() == 3


def test_mask_name():
    assert mask_name("王小明") == "王**"
    assert mask_name("王") == "王*"
    assert mask_name("") == ""


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_volunteers_scanning_at_once_hand_over_once(lastmile):
    lastmile.receive_all()
    bag = lastmile.bag(0)
    barrier = threading.Barrier(2)
    results: list = []

    def scan(user):
        try:
            barrier.wait()
            results.append(bag_hand_over(bag=bag, method=CODE, by=user))
        except Conflict as error:
            results.append(error)
        finally:
            connection.close()

    threads = [
        threading.Thread(target=scan, args=(user,))
        for user in (lastmile.volunteer, lastmile.liaison)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(type(r).__name__ for r in results) == ["Conflict", "Handover"]
    assert Handover.objects.filter(bag=bag).count() == 1
    assert DistributionEntry.objects.filter(bag=bag).count() == 1


def test_bag_lines_show_in_the_requisitions_ledger_and_leave_stock_alone(client, lastmile):
    from baogong.requisitions.models import Stock

    lastmile.receive_all()
    bag = lastmile.bag(0)
    bag_hand_over(bag=bag, method=CODE, by=lastmile.liaison)
    # Bags are not lots: stock rows (received = distributed + on hand) are untouched.
    assert not Stock.objects.exists()
    client.force_login(lastmile.staff)
    page = client.get(reverse("requisitions:stock_list")).content.decode()
    entry = DistributionEntry.objects.get(bag=bag)
    assert reverse("requisitions:distribution_detail", args=[entry.pk]) in page
    assert bag.pickup_code in page and "袋" in page
    detail = client.get(reverse("requisitions:distribution_detail", args=[entry.pk]))
    assert detail.status_code == 200 and bag.pickup_code in detail.content.decode()
