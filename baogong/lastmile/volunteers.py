"""The volunteer register of a compound, its coverage per building, and duty shifts.

Community staff (and the street and district above them) keep the register; the
compound's liaison may too, since they know who turns up. The coverage page counts
active, well supply-team (保供) volunteers per building against the target of
`LASTMILE_VOLUNTEERS_PER_BUILDING` (2–3 per building; default 2).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from baogong.accounts.models import Role, User
from baogong.accounts.scoping import REGISTER_ROLES, Scope
from baogong.areas.models import Area, Gate
from baogong.areas.queries import natural_key
from baogong.core.errors import Conflict, InvalidInput, NotFound
from baogong.core.phones import PhoneError, normalize_phone
from baogong.lastmile.models import Shift, Volunteer

# Who keeps the register, plans shifts and runs door delivery for a compound.
STAFF_ROLES = REGISTER_ROLES | frozenset({Role.LIAISON})
# Who issues and revokes work passes (保供人员工作证).
PASS_ROLES = REGISTER_ROLES


def target_per_building() -> int:
    return int(getattr(settings, "LASTMILE_VOLUNTEERS_PER_BUILDING", 2))


def save_audited(obj, *, by: User | None, reason: str) -> None:
    obj._history_user = by
    obj._change_reason = reason
    obj.save()


# --- access ----------------------------------------------------------------------------


def compound_for(scope: Scope, pk: int, roles: frozenset[str] = STAFF_ROLES) -> Area:
    """The compound `pk` if the user holds one of `roles` over it, else NotFound."""
    area = scope.area(pk, roles)
    if area.kind != Area.Kind.COMPOUND:
        raise NotFound()
    return area


def volunteer_for(scope: Scope, pk: int, roles: frozenset[str] = STAFF_ROLES) -> Volunteer:
    try:
        return (
            Volunteer.objects.select_related("compound", "building", "user")
            .filter(compound__in=scope.areas(roles))
            .get(pk=pk)
        )
    except (Volunteer.DoesNotExist, ValueError, TypeError):
        raise NotFound() from None


# --- register --------------------------------------------------------------------------


def volunteers_of(
    compound: Area, *, team: str = "", building_id: int | None = None
) -> list[Volunteer]:
    """Active first, then by building in natural order (3号楼 before 10号楼), then name."""
    rows = Volunteer.objects.filter(compound=compound).select_related("building", "user")
    if team:
        rows = rows.filter(team=team)
    if building_id:
        rows = rows.filter(building_id=building_id)
    return sorted(
        rows,
        key=lambda v: (
            not v.active,
            natural_key(v.building.name if v.building else ""),
            v.name,
        ),
    )


def buildings_of(compound: Area) -> list[Area]:
    return sorted(
        compound.children.filter(kind=Area.Kind.BUILDING), key=lambda b: natural_key(b.name)
    )


def linkable_users(compound: Area) -> QuerySet[User]:
    """Accounts that may be linked to a volunteer: building volunteers granted in the compound."""
    return (
        User.objects.filter(
            grants__role=Role.VOLUNTEER, grants__area__path__startswith=compound.path
        )
        .distinct()
        .order_by("name")
    )


@dataclass(frozen=True)
class VolunteerData:
    name: str
    phone: str
    building: Area | None = None
    team: str = Volunteer.Team.SUPPLY
    availability: str = ""
    health: str = Volunteer.Health.GREEN
    active: bool = True
    user: User | None = None


@transaction.atomic
def volunteer_save(
    *, compound: Area, data: VolunteerData, by: User | None, volunteer: Volunteer | None = None
) -> Volunteer:
    """Register a volunteer in `compound`, or update `volunteer`.

    Raises InvalidInput naming the field: empty name, a phone that is not one, a phone
    already registered in the compound, a building or account outside the compound.
    """
    name = " ".join(data.name.split())
    if not name:
        raise InvalidInput(_("Name: enter the volunteer's name."), field="name")
    try:
        phone = normalize_phone(data.phone)
    except PhoneError:
        raise InvalidInput(
            _("Phone: “%(phone)s” is not a phone number."), phone=data.phone, field="phone"
        ) from None
    if data.building is not None and data.building.parent_id != compound.pk:
        raise InvalidInput(_("Building: choose a building of this compound."), field="building")
    if data.user is not None and not linkable_users(compound).filter(pk=data.user.pk).exists():
        raise InvalidInput(
            _("Account: choose a building volunteer's account of this compound."), field="user"
        )
    same_phone = Volunteer.objects.filter(compound=compound, phone=phone)
    if volunteer is not None:
        same_phone = same_phone.exclude(pk=volunteer.pk)
    if same_phone.exists():
        raise InvalidInput(
            _("Phone: %(phone)s is already registered in this compound."),
            phone=phone,
            field="phone",
        )
    if data.user is not None:
        taken = Volunteer.objects.filter(user=data.user)
        if volunteer is not None:
            taken = taken.exclude(pk=volunteer.pk)
        if taken.exists():
            raise InvalidInput(
                _("Account: this account is already linked to another volunteer."), field="user"
            )
    volunteer = volunteer or Volunteer(compound=compound)
    volunteer.name = name
    volunteer.phone = phone
    volunteer.building = data.building
    volunteer.team = data.team
    volunteer.availability = data.availability.strip()[:100]
    volunteer.health = data.health
    volunteer.active = data.active
    volunteer.user = data.user
    save_audited(volunteer, by=by, reason="volunteer_save")
    return volunteer


# --- coverage --------------------------------------------------------------------------


@dataclass(frozen=True)
class BuildingCoverage:
    building: Area
    compound: Area
    supply: int
    target: int

    @property
    def below(self) -> bool:
        return self.supply < self.target

    @property
    def missing(self) -> int:
        return max(self.target - self.supply, 0)


def supply_volunteers() -> Q:
    """Volunteers who can carry bags now: supply team, active, well."""
    return Q(team=Volunteer.Team.SUPPLY, active=True, health=Volunteer.Health.GREEN)


def coverage(area: Area) -> list[BuildingCoverage]:
    """Every building under `area` with its active supply volunteers: below target first."""
    target = target_per_building()
    buildings = (
        Area.objects.filter(kind=Area.Kind.BUILDING, path__startswith=area.path)
        .select_related("parent")
        .annotate(
            supply=Count(
                "volunteers",
                filter=Q(
                    volunteers__team=Volunteer.Team.SUPPLY,
                    volunteers__active=True,
                    volunteers__health=Volunteer.Health.GREEN,
                ),
            )
        )
    )
    rows = [BuildingCoverage(b, b.parent, b.supply, target) for b in buildings]
    return sorted(
        rows,
        key=lambda r: (not r.below, natural_key(r.compound.name), natural_key(r.building.name)),
    )


# --- shifts ----------------------------------------------------------------------------


def duty_places(compound: Area) -> QuerySet[Gate]:
    """Gates and transfer points (and pick-up points, storage) where someone stands duty."""
    return Gate.objects.filter(compound=compound).order_by("kind", "name")


def shifts_on(compound: Area, day: dt.date) -> QuerySet[Shift]:
    tz = timezone.get_current_timezone()
    start = dt.datetime.combine(day, dt.time.min, tzinfo=tz)
    end = start + dt.timedelta(days=1)
    return (
        Shift.objects.filter(place__compound=compound, starts_at__lt=end, ends_at__gt=start)
        .select_related("volunteer", "place")
        .order_by("starts_at", "place__name")
    )


@transaction.atomic
def shift_create(
    *,
    volunteer: Volunteer,
    place: Gate,
    starts_at: dt.datetime,
    ends_at: dt.datetime,
    by: User | None,
    note: str = "",
) -> Shift:
    """Put `volunteer` on duty at `place`.

    Raises InvalidInput (end not after start, place or volunteer of another compound,
    volunteer inactive) or Conflict (the volunteer already has a shift then).
    """
    if ends_at <= starts_at:
        raise InvalidInput(_("Ends at: the shift must end after it starts."), field="ends_at")
    if place.compound_id != volunteer.compound_id:
        raise InvalidInput(_("Place: choose a place of the volunteer's compound."), field="place")
    if not volunteer.active:
        raise InvalidInput(
            _("Volunteer: %(name)s is not active."), name=volunteer.name, field="volunteer"
        )
    # Lock the volunteer so two planners cannot book overlapping shifts at once.
    Volunteer.objects.select_for_update().get(pk=volunteer.pk)
    clash = (
        Shift.objects.filter(volunteer=volunteer, starts_at__lt=ends_at, ends_at__gt=starts_at)
        .select_related("place")
        .first()
    )
    if clash is not None:
        raise Conflict(
            _("%(name)s already has a shift at %(place)s from %(start)s to %(end)s."),
            name=volunteer.name,
            place=clash.place.name,
            start=timezone.localtime(clash.starts_at).strftime("%m-%d %H:%M"),
            end=timezone.localtime(clash.ends_at).strftime("%m-%d %H:%M"),
        )
    shift = Shift(
        volunteer=volunteer, place=place, starts_at=starts_at, ends_at=ends_at, note=note[:200]
    )
    shift.save()
    return shift


@transaction.atomic
def shift_delete(*, shift: Shift, by: User | None) -> None:
    shift.delete()


def active_volunteers(compound: Area) -> QuerySet[Volunteer]:
    return Volunteer.objects.filter(compound=compound, active=True).order_by("name")
