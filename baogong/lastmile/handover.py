"""Handing a bag over: finding it by pickup code (or room and phone), and recording who
handed it to whom, once.

A code can be used once: the bag row is locked (SELECT … FOR UPDATE) before the
handover is written, and the database keeps one handover per bag, so when two
volunteers scan the same code at the same moment one wins and the other is told when
and by whom the bag went. Every handover writes the bag's line in the distribution
ledger (分发台账), so ordered and free bags are both accounted for down to the household.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import TYPE_CHECKING

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from baogong.areas.models import Resident
from baogong.core.errors import Conflict, InvalidInput, NotAllowed, NotFound
from baogong.lastmile.models import Bag, Delivery, Handover
from baogong.lastmile.queries import reaches_bag
from baogong.requisitions.models import DistributionEntry

if TYPE_CHECKING:
    from django.core.files import File

    from baogong.accounts.models import User

# Handovers at the door leave the bag DELIVERED; the rest COLLECTED at the pick-up point.
DOOR_METHODS = frozenset({Handover.Method.DOOR_CODE, Handover.Method.LEFT_AT_DOOR})
BAG_UNIT = "袋"
_NOT_CODE = re.compile(r"[\s\-_]+")
_LAST4 = re.compile(r"^\d{4}$")
_NOT_DIGIT = re.compile(r"\D")


def normalize_code(raw: str) -> str:
    """Codes are read aloud and typed on phones: ignore case, spaces and dashes."""
    return _NOT_CODE.sub("", str(raw or "")).upper()


def mask_name(name: str) -> str:
    """王小明 → 王**: enough for a volunteer to recognise, not to identify."""
    name = (name or "").strip()
    if not name:
        return ""
    return name[0] + "*" * max(len(name) - 1, 1)


def _time_text(when: dt.datetime, now: dt.datetime) -> str:
    local = timezone.localtime(when)
    same_day = local.date() == timezone.localtime(now).date()
    return local.strftime("%H:%M" if same_day else "%m-%d %H:%M")


def bag_by_code(*, delivery: Delivery, code: str) -> Bag:
    """The delivery's bag with this pickup code (a scanned QR holds exactly the code)."""
    clean = normalize_code(code)
    if not clean:
        raise InvalidInput(_("Enter the pickup code."))
    bag = (
        Bag.objects.select_related("household", "building")
        .filter(delivery=delivery, pickup_code=clean[:8])
        .first()
    )
    if bag is None or len(clean) > 8:
        raise NotFound(_("No bag with pickup code %(code)s in this delivery."), code=clean[:12])
    return bag


def bag_by_room_phone(
    *, delivery: Delivery, building_id: int, room: str, last4: str, unit: str = ""
) -> Bag:
    """For people without a phone to show a code: building + room + last 4 phone digits.

    The digits may match the household's contact numbers or any of its residents'.
    """
    room, unit, last4 = (room or "").strip(), (unit or "").strip(), (last4 or "").strip()
    if not room:
        raise InvalidInput(_("Enter the room number."))
    if not _LAST4.match(last4):
        raise InvalidInput(_("Enter the last 4 digits of the household's phone."))
    bags = Bag.objects.select_related("household", "building").filter(
        delivery=delivery, building_id=building_id, household__room__iexact=room
    )
    if unit:
        bags = bags.filter(household__unit__iexact=unit)
    matches = [bag for bag in bags if _phone_ends_with(bag, last4)]
    if not matches:
        raise NotFound(_("No bag in this delivery for that building, room and phone digits."))
    if len(matches) > 1:
        raise InvalidInput(_("Several households match: enter the entrance (unit) as well."))
    return matches[0]


def _phone_ends_with(bag: Bag, last4: str) -> bool:
    household = bag.household
    phones = [household.phone, household.phone_alt]
    phones += list(
        Resident.objects.filter(household=household)
        .exclude(Q(phone="") | Q(phone__isnull=True))
        .values_list("phone", flat=True)
    )
    digits = (_NOT_DIGIT.sub("", p or "") for p in phones)
    return any(d.endswith(last4) for d in digits if len(d) >= 4)


def used_message(handover: Handover, now: dt.datetime) -> str:
    """'Already collected at 14:32 by 王**': when, and by whom, names masked."""
    when = _time_text(handover.handed_at, now)
    by = mask_name(getattr(handover.handed_by, "name", "")) or str(_("someone"))
    if handover.received_by:
        return str(
            _(
                "This code was already used: collected at %(time)s by %(name)s "
                "(handed over by %(by)s)."
            )
            % {"time": when, "name": mask_name(handover.received_by), "by": by}
        )
    return str(
        _("This code was already used: handed over at %(time)s by %(by)s.")
        % {"time": when, "by": by}
    )


def _refuse_unready(bag: Bag) -> None:
    if bag.state == Bag.State.VOID:
        raise InvalidInput(_("This bag was withdrawn and cannot be handed over."))
    gate = Bag.GateState
    if bag.gate_state == gate.EXPECTED:
        raise InvalidInput(_("This bag has not been received at the gate yet."))
    if bag.gate_state != gate.RECEIVED:
        raise InvalidInput(
            _("This bag was marked %(state)s at the gate and cannot be handed over."),
            state=bag.get_gate_state_display(),
        )


@transaction.atomic
def bag_hand_over(
    *,
    bag: Bag,
    method: str,
    by: User | None,
    received_by: str = "",
    photo: File | None = None,
    now: dt.datetime | None = None,
) -> Handover:
    """Hand `bag` over once: the handover, the bag's state and its ledger line together."""
    now = now or timezone.now()
    if method not in Handover.Method.values:
        raise InvalidInput(_("Choose how the bag was handed over."))
    received_by = (received_by or "").strip()
    if len(received_by) > 50:
        raise InvalidInput(_("The recipient's name is at most 50 characters."))
    # The lock makes two scans of one code queue here; the second sees the first's handover.
    bag = (
        Bag.objects.select_for_update(of=("self",))
        .select_related("delivery", "building", "household", "delivery__compound")
        .get(pk=bag.pk)
    )
    if by is not None and not reaches_bag(by, bag):
        raise NotAllowed()
    existing = Handover.objects.select_related("handed_by").filter(bag=bag).first()
    if existing is not None:
        raise Conflict(used_message(existing, now))
    _refuse_unready(bag)
    handover = Handover(
        bag=bag, method=method, handed_by=by, handed_at=now, received_by=received_by
    )
    if photo is not None:
        handover.photo = photo
    handover._history_user = by
    handover._change_reason = "handed over"
    try:
        # Without row locks (SQLite) the unique bag is the last guard: a savepoint keeps
        # the caller's transaction usable.
        with transaction.atomic():
            handover.save()
    except IntegrityError:
        existing = Handover.objects.select_related("handed_by").get(bag=bag)
        raise Conflict(used_message(existing, now)) from None
    bag.state = Bag.State.DELIVERED if method in DOOR_METHODS else Bag.State.COLLECTED
    bag._history_user = by
    bag._change_reason = "handed over"
    bag.save(update_fields=["state", "updated_at"])
    _ledger_line(bag, by=by, now=now)
    return handover


def _ledger_line(bag: Bag, *, by: User | None, now: dt.datetime) -> DistributionEntry:
    delivery = bag.delivery
    source = delivery.round or delivery.distribution
    entry = DistributionEntry(
        bag=bag,
        from_area=delivery.compound,
        to_household=bag.household,
        quantity=bag.packs,
        unit=BAG_UNIT,
        note=str(
            _("pickup code %(code)s · %(source)s") % {"code": bag.pickup_code, "source": source}
        )[:200],
        distributed_by=by,
        distributed_at=now,
    )
    entry._history_user = by
    entry._change_reason = "bag handed over"
    entry.save()
    return entry
