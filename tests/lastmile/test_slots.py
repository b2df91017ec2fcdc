"""Slot arithmetic, proposing, reordering and shifting slots (lastmile.slots)."""

from __future__ import annotations

import datetime as dt
import itertools
import random

import pytest
from django.utils import timezone

from baogong.areas.models import Area, Gate
from baogong.core.errors import Conflict, InvalidInput
from baogong.lastmile import slots as services
from baogong.lastmile.bags import NewBag, bags_add
from baogong.lastmile.models import Bag, PickupSlot
from tests.factories import HouseholdFactory, make_area

START = timezone.make_aware(dt.datetime(2026, 11, 28, 14, 0))


def at(hour: int, minute: int = 0) -> dt.datetime:
    return START.replace(hour=hour, minute=minute)


def windows(delivery) -> list[tuple[str, str, str]]:
    return [
        (
            s.building.name,
            timezone.localtime(s.starts_at).strftime("%H:%M"),
            timezone.localtime(s.ends_at).strftime("%H:%M"),
        )
        for s in delivery.slots.select_related("building").order_by("position")
    ]


# --- arithmetic ------------------------------------------------------------------------


def test_slot_minutes_counts_waves_of_waiting_households():
    assert services.slot_minutes(1, waiting=5, minutes_per_household=2) == 2
    assert services.slot_minutes(5, waiting=5, minutes_per_household=2) == 2
    assert services.slot_minutes(6, waiting=5, minutes_per_household=2) == 4
    assert services.slot_minutes(23, waiting=5, minutes_per_household=3) == 15


def test_effective_waiting_is_capped_by_the_places_capacity():
    assert services.effective_waiting(5, None) == 5
    assert services.effective_waiting(5, 3) == 3
    assert services.effective_waiting(5, 8) == 5
    assert services.effective_waiting(5, 0) == 5  # not counted


def test_planned_slots_never_overlap_and_fit_their_households():
    rng = random.Random(6)
    for _ in range(200):
        n = rng.randint(1, 12)
        buildings = [
            (Area(name=f"{i}号楼"), rng.randint(1, 90), rng.randint(1, 8)) for i in range(n)
        ]
        minutes = rng.randint(1, 5)
        plans = services.plan_slots(buildings, start_at=START, minutes_per_household=minutes)
        assert [p.building for p in plans] == [b for b, _, _ in buildings]
        assert plans[0].starts_at == START
        for before, after in itertools.pairwise(plans):
            assert before.ends_at <= after.starts_at
        for plan in plans:
            length = (plan.ends_at - plan.starts_at).total_seconds() / 60
            # Each wave of at most `waiting` households gets its minutes, no more.
            assert length >= plan.households / plan.waiting * minutes
            assert length < (plan.households / plan.waiting + 1) * minutes


# --- proposing ---------------------------------------------------------------------------


def test_propose_gives_buildings_slots_in_natural_order_without_door_households(lastmile):
    slots = services.slots_propose(delivery=lastmile.delivery, start_at=START, by=lastmile.liaison)
    assert [s.building.name for s in slots] == ["3号楼", "10号楼"]
    # 3号楼: 3 households (the sealed one gets door delivery), 2 min each, 5 at once.
    assert [s.households for s in slots] == [3, 2]
    assert windows(lastmile.delivery) == [("3号楼", "14:00", "14:02"), ("10号楼", "14:02", "14:04")]


def test_every_pickup_household_has_exactly_one_slot(lastmile):
    services.slots_propose(delivery=lastmile.delivery, start_at=START, by=None)
    slotted = {s.building_id: s.households for s in lastmile.delivery.slots.all()}
    pickup = services.slot_bags(lastmile.delivery)
    for building_id in set(pickup.values_list("building_id", flat=True)):
        assert slotted[building_id] == pickup.filter(building_id=building_id).count()
    assert sum(slotted.values()) == pickup.count() == 5
    assert not pickup.filter(door_delivery=True).exists()


def test_propose_respects_the_pickup_points_capacity(lastmile, tree):
    for room in range(1, 8):
        HouseholdFactory(building=lastmile.building_10, unit="2", room=f"{room}01")
    bags_10 = [(h.pk, f"X{h.pk:05d}") for h in lastmile.building_10.households.filter(unit="2")]
    bags_add(
        lastmile.delivery,
        [NewBag(hid, lastmile.building_10.pk, code) for hid, code in bags_10],
    )
    gate = Gate.objects.create(
        compound=tree.compound_a, kind=Gate.Kind.PICKUP_POINT, name="南门广场", capacity=3
    )
    lastmile.delivery.pickup_point = gate
    lastmile.delivery.save()
    services.slots_propose(delivery=lastmile.delivery, start_at=START, by=None)
    # 10号楼: 9 households, 3 at once (capacity below the rule's 5) → 3 waves × 2 min.
    assert windows(lastmile.delivery) == [("3号楼", "14:00", "14:02"), ("10号楼", "14:02", "14:08")]


def test_a_buildings_own_pickup_point_sets_its_capacity(lastmile, tree):
    Gate.objects.create(
        compound=tree.compound_a,
        kind=Gate.Kind.PICKUP_POINT,
        name="3号楼门口",
        capacity=1,
        building=lastmile.building_3,
    )
    services.slots_propose(delivery=lastmile.delivery, start_at=START, by=None)
    assert windows(lastmile.delivery)[0] == ("3号楼", "14:00", "14:06")


def test_propose_twice_changes_nothing(lastmile):
    first = services.slots_propose(delivery=lastmile.delivery, start_at=START, by=None)
    before = list(PickupSlot.objects.values_list("pk", "position", "starts_at", "ends_at"))
    history = PickupSlot.history.count()
    again = services.slots_propose(delivery=lastmile.delivery, start_at=START, by=None)
    assert [s.pk for s in again] == [s.pk for s in first]
    assert list(PickupSlot.objects.values_list("pk", "position", "starts_at", "ends_at")) == before
    assert PickupSlot.history.count() == history


def test_propose_again_replaces_planned_slots_but_keeps_called_ones(lastmile):
    services.slots_propose(delivery=lastmile.delivery, start_at=START, by=None)
    called = lastmile.delivery.slots.get(position=1)
    PickupSlot.objects.filter(pk=called.pk).update(state=PickupSlot.State.CALLED)
    lastmile.delivery.minutes_per_household = 10
    lastmile.delivery.save()
    services.slots_propose(delivery=lastmile.delivery, start_at=at(13), by=None)
    # 3号楼 keeps its window; 10号楼 follows it with the new rule (1 wave × 10 min).
    assert windows(lastmile.delivery) == [("3号楼", "14:00", "14:02"), ("10号楼", "14:02", "14:12")]


def test_propose_drops_the_slot_of_a_building_left_without_pickup_bags(lastmile):
    services.slots_propose(delivery=lastmile.delivery, start_at=START, by=None)
    Bag.objects.filter(building=lastmile.building_10).update(state=Bag.State.VOID)
    services.slots_propose(delivery=lastmile.delivery, start_at=START, by=None)
    assert [name for name, _, _ in windows(lastmile.delivery)] == ["3号楼"]


def test_settings_refuse_values_that_cannot_work(lastmile, tree):
    other_gate = Gate.objects.create(compound=tree.compound_b, name="北门")
    with pytest.raises(InvalidInput) as error:
        services.pickup_settings_update(
            delivery=lastmile.delivery,
            max_waiting=0,
            minutes_per_household=2,
            pickup_point=other_gate,
            by=None,
        )
    assert "between 1 and 500" in error.value.message
    assert "in this compound" in error.value.message
    lastmile.delivery.refresh_from_db()
    assert lastmile.delivery.max_waiting == 5 and lastmile.delivery.pickup_point is None


# --- reordering and shifting -------------------------------------------------------------


@pytest.fixture
def three_slots(lastmile, tree):
    """3号楼 14:00–14:02, 10号楼 14:02–14:04, 12号楼 14:10–14:12 (a gap before it)."""
    building_12 = make_area(Area.Kind.BUILDING, tree.compound_a, "12号楼")
    household = HouseholdFactory(building=building_12, unit="1", room="101")
    bags_add(lastmile.delivery, [NewBag(household.pk, building_12.pk, "Z12345")])
    services.slots_propose(delivery=lastmile.delivery, start_at=START, by=None)
    last = lastmile.delivery.slots.get(building=building_12)
    services.slot_reschedule(
        slot=last, starts_at=at(14, 10), ends_at=at(14, 12), later_follow=False, by=None
    )
    return lastmile


def test_move_up_swaps_two_slots_keeping_lengths_and_gap(three_slots):
    delivery = three_slots.delivery
    slot_12 = delivery.slots.get(position=3)
    services.slot_move(slot=slot_12, direction="up", by=three_slots.liaison)
    assert windows(delivery) == [
        ("3号楼", "14:00", "14:02"),
        ("12号楼", "14:02", "14:04"),
        ("10号楼", "14:10", "14:12"),
    ]


def test_move_twice_by_double_submit_moves_once(three_slots):
    delivery = three_slots.delivery
    slot_12 = delivery.slots.get(position=3)
    for _ in range(2):
        services.slot_move(slot=slot_12, direction="up", by=None, expect_position=3)
    assert [name for name, _, _ in windows(delivery)] == ["3号楼", "12号楼", "10号楼"]


def test_move_refuses_past_the_ends_and_called_slots(three_slots):
    delivery = three_slots.delivery
    with pytest.raises(Conflict, match="already first"):
        services.slot_move(slot=delivery.slots.get(position=1), direction="up", by=None)
    with pytest.raises(Conflict, match="already last"):
        services.slot_move(slot=delivery.slots.get(position=3), direction="down", by=None)
    with pytest.raises(InvalidInput):
        services.slot_move(slot=delivery.slots.get(position=2), direction="sideways", by=None)
    delivery.slots.filter(position=1).update(state=PickupSlot.State.CALLED)
    with pytest.raises(Conflict, match="not yet called"):
        services.slot_move(slot=delivery.slots.get(position=2), direction="up", by=None)


def test_shift_with_later_slots_following(three_slots):
    delivery = three_slots.delivery
    first = delivery.slots.get(position=1)
    changed = services.slot_reschedule(
        slot=first, starts_at=at(14, 30), ends_at=at(14, 35), later_follow=True, by=None
    )
    assert len(changed) == 3
    assert windows(delivery) == [
        ("3号楼", "14:30", "14:35"),
        ("10号楼", "14:35", "14:37"),
        ("12号楼", "14:43", "14:45"),
    ]


def test_shift_single_slot_must_fit_between_neighbours(three_slots):
    delivery = three_slots.delivery
    middle = delivery.slots.get(position=2)
    with pytest.raises(InvalidInput, match="overlap the slot of 12号楼"):
        services.slot_reschedule(
            slot=middle, starts_at=at(14, 5), ends_at=at(14, 11), later_follow=False, by=None
        )
    with pytest.raises(InvalidInput, match="overlap the slot of 3号楼"):
        services.slot_reschedule(
            slot=middle, starts_at=at(14, 1), ends_at=at(14, 4), later_follow=False, by=None
        )
    with pytest.raises(InvalidInput, match="must be after the start"):
        services.slot_reschedule(
            slot=middle, starts_at=at(14, 5), ends_at=at(14, 5), later_follow=False, by=None
        )
    services.slot_reschedule(
        slot=middle, starts_at=at(14, 5), ends_at=at(14, 10), later_follow=False, by=None
    )
    assert windows(delivery)[1] == ("10号楼", "14:05", "14:10")


def test_a_called_slot_can_be_extended_but_not_moved(three_slots):
    delivery = three_slots.delivery
    first = delivery.slots.get(position=1)
    PickupSlot.objects.filter(pk=first.pk).update(state=PickupSlot.State.CALLED)
    with pytest.raises(Conflict, match="only the end"):
        services.slot_reschedule(
            slot=first, starts_at=at(14, 1), ends_at=at(14, 3), later_follow=True, by=None
        )
    services.slot_reschedule(
        slot=first, starts_at=at(14), ends_at=at(14, 5), later_follow=True, by=None
    )
    assert windows(delivery)[:2] == [("3号楼", "14:00", "14:05"), ("10号楼", "14:05", "14:07")]
