"""Telling households their slot, and the calling flow from the first building to the close."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from django.db import connection
from django.utils import timezone

from baogong.core.errors import Conflict
from baogong.lastmile import slots as services
from baogong.lastmile.models import Bag, Delivery, PickupSlot
from baogong.notify.models import Message

START = timezone.make_aware(dt.datetime(2026, 11, 28, 14, 0))


def households_told(kind: str) -> set[int]:
    return set(Message.objects.filter(kind=kind).values_list("household_id", flat=True))


@pytest.fixture
def proposed(lastmile):
    services.slots_propose(delivery=lastmile.delivery, start_at=START, by=lastmile.liaison)
    return lastmile


def test_notify_tells_each_household_its_slot_and_door_households_theirs(proposed):
    result = services.slots_notify(delivery=proposed.delivery, by=proposed.liaison)
    pickup = [h.pk for i, h in enumerate(proposed.households) if i != 3]
    assert result == services.NotifyResult(told=5, changed=0, door=1)
    assert households_told("pickup_slot") == set(pickup)
    assert households_told("door_delivery_coming") == {proposed.households[3].pk}
    sms = Message.objects.get(
        kind="pickup_slot", household=proposed.households[4], channel=Message.Channel.SMS
    )
    assert proposed.orders[4].pickup_code in sms.body
    assert "10号楼" in sms.body and "14:02" in sms.body
    assert not proposed.delivery.slots.filter(notified_at__isnull=True).exists()


def test_notify_again_sends_nothing(proposed):
    services.slots_notify(delivery=proposed.delivery, by=None)
    count = Message.objects.count()
    assert services.slots_notify(delivery=proposed.delivery, by=None) == services.NotifyResult(
        0, 0, 0
    )
    assert Message.objects.count() == count


def test_after_a_shift_only_affected_households_hear_their_slot_changed(proposed):
    services.slots_notify(delivery=proposed.delivery, by=None)
    slot_10 = proposed.delivery.slots.get(building=proposed.building_10)
    services.slot_reschedule(
        slot=slot_10,
        starts_at=START + dt.timedelta(minutes=30),
        ends_at=START + dt.timedelta(minutes=40),
        later_follow=True,
        by=None,
    )
    slot_10.refresh_from_db()
    assert slot_10.notified_at is None
    result = services.slots_notify(delivery=proposed.delivery, by=None)
    assert result == services.NotifyResult(told=0, changed=2, door=0)
    assert households_told("pickup_slot_changed") == {h.pk for h in proposed.households[4:]}
    message = Message.objects.filter(kind="pickup_slot_changed").first()
    assert "14:30" in message.body


def test_households_without_a_mobile_go_on_the_call_list(proposed):
    household = proposed.households[1]
    household.phone = "0710-3212345"
    household.save()
    household.residents.update(phone="")
    services.slots_notify(delivery=proposed.delivery, by=None)
    assert Message.objects.filter(
        kind="pickup_slot", household=household, channel=Message.Channel.CALL
    ).exists()


# --- calling ------------------------------------------------------------------------------


def ready_for_pickup(lastmile) -> Delivery:
    lastmile.receive_all()
    Delivery.objects.filter(pk=lastmile.delivery.pk).update(state=Delivery.State.PICKUP)
    lastmile.delivery.refresh_from_db()
    return lastmile.delivery


def test_calling_waits_for_the_gate_receipt(proposed):
    with pytest.raises(Conflict, match="gate receipt"):
        services.slot_call_next(delivery=proposed.delivery, by=proposed.liaison)
    assert not PickupSlot.objects.exclude(state=PickupSlot.State.PLANNED).exists()


def test_call_next_calls_the_first_building_and_tells_its_households(proposed):
    delivery = ready_for_pickup(proposed)
    slot = services.slot_call_next(delivery=delivery, by=proposed.liaison, seen_slot_id=None)
    assert slot.building == proposed.building_3 and slot.state == PickupSlot.State.CALLED
    delivery.refresh_from_db()
    assert delivery.current_slot == slot
    assert households_told("pickup_now") == {h.pk for h in proposed.households[:3]}


def test_a_double_press_calls_one_building(proposed):
    delivery = ready_for_pickup(proposed)
    first = services.slot_call_next(delivery=delivery, by=None, seen_slot_id=None)
    again = services.slot_call_next(delivery=delivery, by=None, seen_slot_id=None)
    assert again == first
    assert list(delivery.slots.values_list("state", flat=True)) == ["called", "planned"]


def test_calling_to_the_end_closes_the_pickup(proposed):
    delivery = ready_for_pickup(proposed)
    services.slot_call_next(delivery=delivery, by=None)
    collected = proposed.bag(0)
    Bag.objects.filter(pk=collected.pk).update(state=Bag.State.COLLECTED)
    second = services.slot_call_next(delivery=delivery, by=None)
    assert second.building == proposed.building_10
    assert households_told("pickup_now") == {h.pk for h in proposed.households[:3]} | {
        h.pk for h in proposed.households[4:]
    }
    assert services.slot_call_next(delivery=delivery, by=None) is None
    delivery.refresh_from_db()
    assert delivery.state == Delivery.State.DONE and delivery.current_slot is None
    assert set(delivery.slots.values_list("state", flat=True)) == {"done"}
    # Bags never collected are on the follow-up list; the door-delivery bag is not.
    uncollected = set(
        Bag.objects.filter(delivery=delivery, state=Bag.State.UNCOLLECTED).values_list(
            "household_id", flat=True
        )
    )
    assert uncollected == {h.pk for i, h in enumerate(proposed.households) if i not in (0, 3)}
    with pytest.raises(Conflict):
        services.slot_call_next(delivery=delivery, by=None)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_liaisons_pressing_call_next_at_once_call_one_building(lastmile):
    services.slots_propose(delivery=lastmile.delivery, start_at=START, by=None)
    delivery = ready_for_pickup(lastmile)
    barrier = threading.Barrier(2)
    called: list = []

    def press(user):
        try:
            barrier.wait()
            called.append(services.slot_call_next(delivery=delivery, by=user, seen_slot_id=None))
        finally:
            connection.close()

    threads = [
        threading.Thread(target=press, args=(u,)) for u in (lastmile.liaison, lastmile.staff)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(called) == 2 and called[0] == called[1]
    assert list(delivery.slots.values_list("state", flat=True)) == ["called", "planned"]
    assert Message.objects.filter(kind="pickup_now").values("household").distinct().count() == 3
