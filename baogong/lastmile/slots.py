"""Staggered pickup (错峰领取): building-by-building slots, telling households, calling them.

A slot's length follows the spacing rule: at most `max_waiting'` people wait at the pick-up
point at once, 2 m apart, where max_waiting' is the delivery's `max_waiting` capped by the
place's counted capacity; each wave takes `minutes_per_household`. So a building of n
households needs ceil(n / max_waiting') × minutes_per_household minutes.

Households with door delivery get no slot (their building volunteers bring the bag); void
bags (missing at the gate, dropped orders) need none. Slots run one after another in the
buildings' natural order ("3号楼" before "10号楼"); the liaison may reorder and shift them.

Every write locks the delivery row first: two liaisons on the same page (or a double
submit) would otherwise interleave positions or call two buildings at once. Given a
user, every write checks that they run the compound's delivery (NotAllowed otherwise).
"""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from baogong.areas.models import Area, Gate
from baogong.areas.queries import natural_key
from baogong.core.errors import Conflict, InvalidInput
from baogong.lastmile.followup import delivery_pickup_close
from baogong.lastmile.models import Bag, Delivery, PickupSlot
from baogong.lastmile.queries import require_run
from baogong.notify.models import Message
from baogong.notify.services import send
from baogong.payments.services import save_audited

if TYPE_CHECKING:
    from baogong.accounts.models import User

SLOT_KINDS = ("pickup_slot", "pickup_slot_changed")
# Passed as `seen_slot_id` when the caller does not say which building it saw being called.
ANY_SLOT = object()


# --- arithmetic (no database) ------------------------------------------------------------


def effective_waiting(max_waiting: int, capacity: int | None) -> int:
    """People who may wait at once: the spacing rule, capped by the place's capacity."""
    return max(1, min(max_waiting, capacity) if capacity else max_waiting)


def slot_minutes(households: int, *, waiting: int, minutes_per_household: int) -> int:
    """Minutes one building needs: one wave of `waiting` households per `minutes_per_household`."""
    return math.ceil(households / waiting) * minutes_per_household


@dataclass(frozen=True)
class PlannedSlot:
    building: Area
    households: int
    waiting: int
    starts_at: dt.datetime
    ends_at: dt.datetime


def plan_slots(
    buildings: Iterable[tuple[Area, int, int]],
    *,
    start_at: dt.datetime,
    minutes_per_household: int,
) -> list[PlannedSlot]:
    """Lay (building, households, waiting) out back to back from `start_at`, in the given order."""
    plans, start = [], start_at
    for building, households, waiting in buildings:
        end = start + dt.timedelta(
            minutes=slot_minutes(
                households, waiting=waiting, minutes_per_household=minutes_per_household
            )
        )
        plans.append(PlannedSlot(building, households, waiting, start, end))
        start = end
    return plans


def window_text(starts_at: dt.datetime, ends_at: dt.datetime) -> str:
    """'11-28 14:00–14:20' in local time, as notifications and pages show a slot."""
    start, end = timezone.localtime(starts_at), timezone.localtime(ends_at)
    if start.date() == end.date():
        return f"{start:%m-%d %H:%M}–{end:%H:%M}"
    return f"{start:%m-%d %H:%M}–{end:%m-%d %H:%M}"


# --- reads the services and pages share --------------------------------------------------


def slot_bags(delivery: Delivery):
    """Bags handed out at the pick-up point: not void, not missing, not door-delivered."""
    return (
        Bag.objects.filter(delivery=delivery, door_delivery=False)
        .exclude(state=Bag.State.VOID)
        .exclude(gate_state=Bag.GateState.MISSING)
    )


def households_by_building(delivery: Delivery) -> dict[int, int]:
    counts: dict[int, int] = defaultdict(int)
    for building_id in slot_bags(delivery).values_list("building_id", flat=True):
        counts[building_id] += 1
    return dict(counts)


def places_of(delivery: Delivery, building_ids: Iterable[int]) -> dict[int, Gate | None]:
    """Where each building collects: its own pick-up point, else the delivery's."""
    own = {
        g.building_id: g
        for g in Gate.objects.filter(
            compound_id=delivery.compound_id,
            kind=Gate.Kind.PICKUP_POINT,
            building_id__in=list(building_ids),
        ).order_by("-pk")
    }
    return {b: own.get(b, delivery.pickup_point) for b in building_ids}


def place_name(place: Gate | None) -> str:
    return place.name if place else _("the pick-up point at the compound gate")


# --- writes ------------------------------------------------------------------------------


def _locked(delivery: Delivery) -> Delivery:
    return (
        Delivery.objects.select_for_update(of=("self",))
        .select_related("compound", "pickup_point", "round", "distribution")
        .get(pk=delivery.pk)
    )


def _require_open(delivery: Delivery) -> None:
    if delivery.state == Delivery.State.DONE:
        raise Conflict(_("The pickup of this delivery is already closed."))


def _ordered(delivery: Delivery) -> list[PickupSlot]:
    return list(delivery.slots.select_related("building").order_by("position", "pk"))


def _set_window(slot: PickupSlot, starts_at: dt.datetime, ends_at: dt.datetime) -> bool:
    """Give the slot a new window; households told of the old one must be told again."""
    if (slot.starts_at, slot.ends_at) == (starts_at, ends_at):
        return False
    slot.starts_at, slot.ends_at = starts_at, ends_at
    slot.notified_at = None
    return True


@transaction.atomic
def pickup_settings_update(
    *,
    delivery: Delivery,
    max_waiting: int,
    minutes_per_household: int,
    pickup_point: Gate | None,
    by: User | None,
) -> Delivery:
    """Change the spacing rule and the pick-up point; InvalidInput for values that cannot work."""
    delivery = _locked(delivery)
    require_run(by, delivery)
    _require_open(delivery)
    errors = []
    if not 1 <= max_waiting <= 500:
        errors.append(_("People waiting at once must be between 1 and 500."))
    if not 1 <= minutes_per_household <= 60:
        errors.append(_("Minutes per household must be between 1 and 60."))
    if pickup_point is not None and pickup_point.compound_id != delivery.compound_id:
        errors.append(_("The pick-up point must be in this compound."))
    if errors:
        raise InvalidInput(" ".join(errors))
    delivery.max_waiting = max_waiting
    delivery.minutes_per_household = minutes_per_household
    delivery.pickup_point = pickup_point
    save_audited(delivery, by=by, reason="pickup settings")
    return delivery


@transaction.atomic
def slots_propose(
    *, delivery: Delivery, start_at: dt.datetime, by: User | None
) -> list[PickupSlot]:
    """Propose one slot per building with pickup bags, back to back from `start_at`.

    Slots already called or finished stay as they are and the new ones follow them;
    planned slots are replaced (kept rows, new windows), so proposing twice with the same
    start changes nothing. Raises Conflict when the pickup is closed.
    """
    delivery = _locked(delivery)
    require_run(by, delivery)
    _require_open(delivery)
    if timezone.is_naive(start_at):
        raise InvalidInput(_("The start time needs a time zone."))
    existing = _ordered(delivery)
    kept = [s for s in existing if s.state != PickupSlot.State.PLANNED]
    planned = {s.building_id: s for s in existing if s.state == PickupSlot.State.PLANNED}
    counts = households_by_building(delivery)
    kept_buildings = {s.building_id for s in kept}
    buildings = sorted(
        Area.objects.filter(pk__in=set(counts) - kept_buildings),
        key=lambda b: natural_key(b.name),
    )
    places = places_of(delivery, [b.pk for b in buildings])
    plans = plan_slots(
        [
            (
                b,
                counts[b.pk],
                effective_waiting(delivery.max_waiting, places[b.pk] and places[b.pk].capacity),
            )
            for b in buildings
        ],
        start_at=max([start_at, *(s.ends_at for s in kept)]),
        minutes_per_household=delivery.minutes_per_household,
    )
    position = max((s.position for s in kept), default=0)
    slots = []
    for plan in plans:
        position += 1
        slot = planned.pop(plan.building.pk, None) or PickupSlot(
            delivery=delivery, building=plan.building
        )
        moved = _set_window(slot, plan.starts_at, plan.ends_at)
        fresh = slot.pk is None or (slot.position, slot.households) != (position, plan.households)
        if moved or fresh:
            slot.position, slot.households = position, plan.households
            save_audited(slot, by=by, reason="slots proposed")
        slots.append(slot)
    # Buildings left without pickup bags (all door delivery now, or bags withdrawn).
    for slot in planned.values():
        slot._history_user = by
        slot.delete()
    return [*kept, *slots]


@transaction.atomic
def slot_move(
    *, slot: PickupSlot, direction: str, by: User | None, expect_position: int | None = None
) -> PickupSlot:
    """Swap a planned slot with its neighbour ("up" earlier, "down" later); the pair keeps
    its start, gap and end, each slot keeps its length.

    `expect_position` makes a double submit harmless: when the slot has already moved away
    from it, nothing happens. Raises InvalidInput (direction), Conflict (first/last, or a
    neighbour already called).
    """
    if direction not in ("up", "down"):
        raise InvalidInput(_("Move a slot up or down."))
    delivery = _locked(slot.delivery)
    require_run(by, delivery)
    _require_open(delivery)
    slots = _ordered(delivery)
    index = next((i for i, s in enumerate(slots) if s.pk == slot.pk), None)
    if index is None:
        raise Conflict(_("This slot no longer exists; reload the page."))
    slot = slots[index]
    if expect_position is not None and slot.position != expect_position:
        return slot
    other = index - 1 if direction == "up" else index + 1
    if not 0 <= other < len(slots):
        raise Conflict(
            _("%(building)s is already first.")
            if direction == "up"
            else _("%(building)s is already last."),
            building=slot.building.name,
        )
    first, second = sorted([slots[index], slots[other]], key=lambda s: s.position)
    if first.state != PickupSlot.State.PLANNED or second.state != PickupSlot.State.PLANNED:
        raise Conflict(_("Only slots not yet called can be moved."))
    gap = second.starts_at - first.ends_at
    first_length, second_length = first.ends_at - first.starts_at, second.ends_at - second.starts_at
    start = first.starts_at
    _set_window(second, start, start + second_length)
    _set_window(first, second.ends_at + gap, second.ends_at + gap + first_length)
    first.position, second.position = second.position, first.position
    for s in (first, second):
        save_audited(s, by=by, reason=f"slot moved {direction}")
    return slot


@transaction.atomic
def slot_reschedule(
    *,
    slot: PickupSlot,
    starts_at: dt.datetime,
    ends_at: dt.datetime,
    later_follow: bool,
    by: User | None,
) -> list[PickupSlot]:
    """Give one slot a new window. With `later_follow`, every later slot moves by the same
    amount as this slot's end (a late truck pushes the whole afternoon); without, the slot
    must fit between its neighbours. Returns the slots whose window changed.

    Raises InvalidInput (end not after start, overlap), Conflict (slot finished, or a called
    slot's start).
    """
    if ends_at <= starts_at:
        raise InvalidInput(
            _("The end (%(end)s) must be after the start (%(start)s)."),
            end=timezone.localtime(ends_at).strftime("%H:%M"),
            start=timezone.localtime(starts_at).strftime("%H:%M"),
        )
    delivery = _locked(slot.delivery)
    require_run(by, delivery)
    _require_open(delivery)
    slots = _ordered(delivery)
    index = next((i for i, s in enumerate(slots) if s.pk == slot.pk), None)
    if index is None:
        raise Conflict(_("This slot no longer exists; reload the page."))
    slot = slots[index]
    if slot.state == PickupSlot.State.DONE:
        raise Conflict(
            _("%(building)s has finished; its slot cannot change."), building=slot.building.name
        )
    if slot.state == PickupSlot.State.CALLED and starts_at != slot.starts_at:
        raise Conflict(
            _("%(building)s has been called; only the end of its slot can change."),
            building=slot.building.name,
        )
    before, after = slots[:index], slots[index + 1 :]
    if before and starts_at < before[-1].ends_at:
        raise InvalidInput(
            _("The slot would overlap the slot of %(building)s (%(window)s)."),
            building=before[-1].building.name,
            window=window_text(before[-1].starts_at, before[-1].ends_at),
        )
    delta = ends_at - slot.ends_at
    changed = [slot] if _set_window(slot, starts_at, ends_at) else []
    if later_follow:
        for later in after:
            if later.state != PickupSlot.State.PLANNED:
                raise Conflict(
                    _("A later slot has been called already; move the slots one by one.")
                )
            if _set_window(later, later.starts_at + delta, later.ends_at + delta):
                changed.append(later)
    elif after and ends_at > after[0].starts_at:
        raise InvalidInput(
            _("The slot would overlap the slot of %(building)s (%(window)s)."),
            building=after[0].building.name,
            window=window_text(after[0].starts_at, after[0].ends_at),
        )
    for s in changed:
        save_audited(s, by=by, reason="slot rescheduled")
    return changed


@dataclass(frozen=True)
class NotifyResult:
    told: int  # households told of their slot for the first time
    changed: int  # households told their slot changed
    door: int  # households told their bag comes to the door


def _source_title(delivery: Delivery) -> str:
    return delivery.round.title if delivery.round_id else delivery.distribution.title


@transaction.atomic
def slots_notify(
    *, delivery: Delivery, by: User | None, now: dt.datetime | None = None
) -> NotifyResult:
    """Tell every household of its slot (kind "pickup_slot": building, window, place,
    pickup code), and door-delivery households that their bag comes to them.

    Safe to repeat: a household already told of its current window is not told again; one
    whose window moved since gets "pickup_slot_changed". Slots already finished are skipped.
    """
    delivery = _locked(delivery)
    require_run(by, delivery)
    _require_open(delivery)
    now = now or timezone.now()
    slots = [s for s in _ordered(delivery) if s.state != PickupSlot.State.DONE]
    places = places_of(delivery, [s.building_id for s in slots])
    bags_of: dict[int, list[Bag]] = defaultdict(list)
    for bag in slot_bags(delivery).filter(state=Bag.State.WAITING).order_by("pk"):
        bags_of[bag.building_id].append(bag)
    prefix = f"pickup_slot:{delivery.pk}:"
    told_before = set(
        Message.objects.filter(kind__in=SLOT_KINDS, dedupe_key__startswith=prefix)
        .values_list("household_id", flat=True)
        .distinct()
    )
    told = changed = 0
    for slot in slots:
        context = {
            "building": slot.building.name,
            "window": window_text(slot.starts_at, slot.ends_at),
            "place": place_name(places[slot.building_id]),
        }
        stamp = f"{slot.starts_at:%Y%m%d%H%M}-{slot.ends_at:%Y%m%d%H%M}"
        for bag in bags_of.get(slot.building_id, ()):
            again = bag.household_id in told_before
            written = send(
                "pickup_slot_changed" if again else "pickup_slot",
                households=[bag.household_id],
                context={**context, "pickup_code": bag.pickup_code},
                dedupe_key=f"{prefix}{bag.household_id}:{stamp}",
            )
            if written:
                changed += again
                told += not again
        if slot.notified_at is None:
            slot.notified_at = now
            save_audited(slot, by=by, reason="households told")
    door = 0
    door_bags = Bag.objects.filter(
        delivery=delivery, door_delivery=True, state=Bag.State.WAITING
    ).order_by("pk")
    for bag in door_bags:
        door += bool(
            send(
                "door_delivery_coming",
                households=[bag.household_id],
                context={"source": _source_title(delivery), "pickup_code": bag.pickup_code},
                dedupe_key=f"door_delivery_coming:{delivery.pk}:{bag.household_id}",
            )
        )
    return NotifyResult(told=told, changed=changed, door=door)


@transaction.atomic
def slot_call_next(
    *,
    delivery: Delivery,
    by: User | None,
    seen_slot_id: int | object | None = ANY_SLOT,
    now: dt.datetime | None = None,
) -> PickupSlot | None:
    """Finish the building being called and call the next planned slot: its households
    with bags still waiting are told "come down now, keep 2 m apart" (kind "pickup_now").
    After the last slot, close the pickup (`delivery_pickup_close`: waiting bags go to the
    follow-up list) and return None.

    `seen_slot_id` is the building the caller's screen showed as called; when another
    press has moved on since (double submit, two liaisons), nothing happens and the slot
    being called now is returned. Raises Conflict before the gate receipt is finished.
    """
    delivery = _locked(delivery)
    require_run(by, delivery)
    if delivery.state != Delivery.State.PICKUP:
        raise Conflict(
            _("Buildings can be called once the gate receipt is finished (now: %(state)s)."),
            state=delivery.get_state_display(),
        )
    if seen_slot_id is not ANY_SLOT and seen_slot_id != delivery.current_slot_id:
        return delivery.current_slot
    now = now or timezone.now()
    current = delivery.current_slot
    if current is not None:
        current.state = PickupSlot.State.DONE
        save_audited(current, by=by, reason="building finished")
    following = (
        delivery.slots.filter(state=PickupSlot.State.PLANNED)
        .select_related("building")
        .order_by("position", "pk")
        .first()
    )
    delivery.current_slot = following
    save_audited(delivery, by=by, reason="next building called")
    if following is None:
        delivery_pickup_close(delivery=delivery, by=by)
        return None
    following.state = PickupSlot.State.CALLED
    following.called_at = now
    save_audited(following, by=by, reason="building called")
    households = (
        slot_bags(delivery)
        .filter(building_id=following.building_id, state=Bag.State.WAITING)
        .values_list("household_id", flat=True)
    )
    send(
        "pickup_now",
        households=households,
        context={
            "building": following.building.name,
            "place": place_name(
                places_of(delivery, [following.building_id])[following.building_id]
            ),
            "until": timezone.localtime(following.ends_at).strftime("%H:%M"),
        },
        dedupe_key=f"pickup_now:{delivery.pk}:{following.pk}",
    )
    return following
