"""Vehicles, crews and entry requests: who owns a fleet, who sees it, and the writes on it.

A fleet belongs to a supplier (its users manage it) or to a street office's own transport
team (street staff and the district above manage it). Sites (compounds, communities) are
looked after by their staff: they see the trips and entry requests that come to them, and
community staff or the liaison decide entry requests.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from baogong.accounts.models import Role
from baogong.accounts.scoping import Scope, scope_for
from baogong.areas.models import Area
from baogong.core.errors import Conflict, InvalidInput, NotAllowed, NotFound
from baogong.core.phones import PhoneError, normalize_phone
from baogong.fulfilment.models import CrewMember, EntryRequest, Vehicle
from baogong.payments.services import save_audited
from baogong.supply.models import Supplier, SupplierArea

if TYPE_CHECKING:
    from baogong.accounts.models import User

# Street staff and the district above run a street office's own transport team.
FLEET_ROLES = frozenset({Role.STREET_STAFF, Role.DISTRICT_ADMIN})
# Staff of a site see the trips and entry requests that come to it.
SITE_ROLES = frozenset({Role.DISTRICT_ADMIN, Role.STREET_STAFF, Role.COMMUNITY_STAFF, Role.LIAISON})
# "Approved by the site's staff": the community and the compound's liaison.
ENTRY_DECIDE_ROLES = frozenset({Role.COMMUNITY_STAFF, Role.LIAISON})
# Everyone who may open the transport pages at all.
TRANSPORT_ROLES = SITE_ROLES | FLEET_ROLES

_PLATE = re.compile(r"^[\u4e00-\u9fff][A-Z][A-Z0-9]{4,6}[\u4e00-\u9fff]?$")
_ID_NUMBER = re.compile(r"^(\d{17}[\dX]|\d{15})$")


@dataclass(frozen=True)
class Owner:
    """A supplier or a street office's transport team."""

    supplier: Supplier | None = None
    street: Area | None = None

    @property
    def label(self) -> str:
        return self.supplier.name if self.supplier else str(self.street.name)

    @property
    def key(self) -> str:
        return f"s{self.supplier.pk}" if self.supplier else f"a{self.street.pk}"


def uses_transport(scope: Scope) -> bool:
    return bool(scope.supplier_ids) or scope.has_any(TRANSPORT_ROLES)


def _paths_q(scope: Scope, roles: frozenset[str], prefix: str) -> Q:
    q = Q(pk__in=[])
    for path in scope.paths_for(roles):
        q |= Q(**{f"{prefix}path__startswith": path})
    return q


def fleet_q(scope: Scope, prefix: str = "") -> Q:
    """Rows (vehicles, crew; trips with prefix "vehicle__") of fleets the user manages."""
    if scope.superuser:
        return Q()
    return Q(**{f"{prefix}supplier_id__in": scope.supplier_ids}) | _paths_q(
        scope, FLEET_ROLES, f"{prefix}street__"
    )


def owners_for(scope: Scope) -> list[Owner]:
    """The fleets the user may add vehicles and crew to."""
    suppliers = (
        Supplier.objects.all()
        if scope.superuser
        else Supplier.objects.filter(pk__in=scope.supplier_ids)
    )
    streets = scope.areas(FLEET_ROLES).filter(kind=Area.Kind.STREET)
    return [Owner(supplier=s) for s in suppliers.order_by("name")] + [
        Owner(street=a) for a in streets.order_by("path")
    ]


def owner_by_key(scope: Scope, key: str) -> Owner:
    for owner in owners_for(scope):
        if owner.key == key:
            return owner
    raise InvalidInput(_("Choose whose vehicle or crew member this is."))


def vehicles_for(scope: Scope) -> QuerySet[Vehicle]:
    return Vehicle.objects.filter(fleet_q(scope)).select_related("supplier", "street")


def crew_for(scope: Scope) -> QuerySet[CrewMember]:
    return CrewMember.objects.filter(fleet_q(scope)).select_related("supplier", "street")


def get_visible(queryset: QuerySet, pk: int):
    try:
        return queryset.get(pk=pk)
    except (queryset.model.DoesNotExist, ValueError, TypeError):
        raise NotFound() from None


def sites_for_owner(owner_q: Q) -> QuerySet[Area]:
    """Compounds and communities a fleet may be sent to: under its supplier's assigned
    areas, or under its street."""
    return Area.objects.filter(owner_q, kind__in=[Area.Kind.COMMUNITY, Area.Kind.COMPOUND])


def served_sites(scope: Scope) -> QuerySet[Area]:
    if scope.superuser:
        return Area.objects.filter(kind__in=[Area.Kind.COMMUNITY, Area.Kind.COMPOUND])
    q = _paths_q(scope, FLEET_ROLES, "")
    for path in SupplierArea.objects.filter(supplier_id__in=scope.supplier_ids).values_list(
        "area__path", flat=True
    ):
        q |= Q(path__startswith=path)
    return sites_for_owner(q).order_by("path")


def reaches_site(scope: Scope, area: Area, roles: frozenset[str] = SITE_ROLES) -> bool:
    return scope.superuser or any(area.path.startswith(p) for p in scope.paths_for(roles))


# --- registers -------------------------------------------------------------------------


def normalize_plate(raw: str) -> str:
    plate = re.sub(r"[\s·.\-]", "", raw or "").upper()
    if not _PLATE.match(plate):
        raise InvalidInput(
            _("Plate number “%(plate)s” is not a plate: province character, letter, 5–6 more."),
            plate=raw,
        )
    return plate


def mask_id_number(raw: str) -> str:
    """Keep only the first 3 and last 4 characters of an ID number: 420***********1234.

    The full number is never stored; an already masked number is kept as it is."""
    value = re.sub(r"\s", "", raw or "").upper()
    if not value:
        return ""
    if "*" in value and re.match(r"^\d{3}\*+[\dX]{4}$", value) and len(value) in (15, 18):
        return value
    if not _ID_NUMBER.match(value):
        raise InvalidInput(_("ID number: 18 characters (digits, last may be X) or 15 digits."))
    return value[:3] + "*" * (len(value) - 7) + value[-4:]


def _check_owner(scope: Scope, row: Vehicle | CrewMember) -> None:
    if not scope.superuser and not (
        (row.supplier_id and row.supplier_id in scope.supplier_ids)
        or (row.street_id and reaches_site(scope, row.street, FLEET_ROLES))
    ):
        raise NotAllowed()


@transaction.atomic
def vehicle_save(
    *,
    owner: Owner,
    plate: str,
    kind: str,
    capacity_bags: int,
    capacity_kg: int,
    by: User | None,
    vehicle: Vehicle | None = None,
) -> Vehicle:
    """Add a vehicle to a fleet, or correct one. Raises InvalidInput (plate), Conflict
    (plate already registered) or NotAllowed."""
    plate = normalize_plate(plate)
    if kind not in Vehicle.Kind.values:
        raise InvalidInput(_("Choose the vehicle type."))
    if capacity_bags < 0 or capacity_kg < 0:
        raise InvalidInput(_("Capacity cannot be negative."))
    vehicle = vehicle or Vehicle()
    vehicle.plate, vehicle.kind = plate, kind
    vehicle.capacity_bags, vehicle.capacity_kg = capacity_bags, capacity_kg
    vehicle.supplier, vehicle.street = owner.supplier, owner.street
    if by is not None:
        _check_owner(scope_for(by), vehicle)
    try:
        with transaction.atomic():
            save_audited(vehicle, by=by, reason="vehicle_save")
    except IntegrityError:
        raise Conflict(_("Vehicle %(plate)s is already registered."), plate=plate) from None
    return vehicle


@transaction.atomic
def crew_save(
    *,
    owner: Owner,
    name: str,
    phone: str,
    id_number: str,
    by: User | None,
    member: CrewMember | None = None,
) -> CrewMember:
    """Add a driver or loader to a fleet, or correct one; the ID number is kept masked."""
    name = (name or "").strip()
    if not name:
        raise InvalidInput(_("Name: enter the crew member's name."))
    try:
        phone = normalize_phone(phone)
    except PhoneError:
        raise InvalidInput(_("Phone: enter a mobile or landline number.")) from None
    member = member or CrewMember()
    member.name, member.phone = name[:50], phone
    member.id_number_masked = mask_id_number(id_number)
    member.supplier, member.street = owner.supplier, owner.street
    if by is not None:
        _check_owner(scope_for(by), member)
    save_audited(member, by=by, reason="crew_save")
    return member


# --- entry requests --------------------------------------------------------------------


def entry_requests_for(scope: Scope) -> QuerySet[EntryRequest]:
    """Requests the user filed (their fleet) or that come to a site they look after."""
    if scope.superuser:
        q = Q()
    else:
        q = fleet_q(scope, "vehicle__") | _paths_q(scope, SITE_ROLES, "site__")
    return EntryRequest.objects.filter(q).select_related("site", "vehicle").distinct()


@transaction.atomic
def entry_request_file(
    *,
    site: Area,
    vehicle: Vehicle,
    crew: list[CrewMember],
    cargo: str,
    arrive_from: datetime,
    arrive_to: datetime,
    by: User | None,
    now: datetime | None = None,
) -> EntryRequest:
    """File an entry request for a site; it must be filed before the day of arrival.

    Raises InvalidInput naming the field, NotAllowed when the vehicle is not the user's."""
    now = now or timezone.now()
    if by is not None:
        _check_owner(scope_for(by), vehicle)
    if site.kind not in (Area.Kind.COMPOUND, Area.Kind.COMMUNITY):
        raise InvalidInput(_("Site: choose a compound or community."))
    if not crew:
        raise InvalidInput(_("Crew: choose at least the driver."))
    if any(m.supplier_id != vehicle.supplier_id or m.street_id != vehicle.street_id for m in crew):
        raise InvalidInput(_("Crew: choose people of the vehicle's own fleet."))
    if not (cargo or "").strip():
        raise InvalidInput(_("Cargo: say what the vehicle carries."))
    if arrive_to <= arrive_from:
        raise InvalidInput(_("Arrival window: “arrive by” must be after “arrive from”."))
    if timezone.localdate(arrive_from) <= timezone.localdate(now):
        raise InvalidInput(
            _(
                "Arrival window: entry must be requested by the day before arrival; "
                "a request filed on %(today)s can be for %(tomorrow)s or later."
            ),
            today=timezone.localdate(now).isoformat(),
            tomorrow=(timezone.localdate(now) + timedelta(days=1)).isoformat(),
        )
    entry = EntryRequest(
        site=site,
        vehicle=vehicle,
        cargo=cargo.strip()[:300],
        arrive_from=arrive_from,
        arrive_to=arrive_to,
        filed_by=by,
    )
    save_audited(entry, by=by, reason="entry_request_file")
    entry.crew.set(crew)
    return entry


@transaction.atomic
def entry_request_decide(
    *,
    entry: EntryRequest,
    approve: bool,
    reason: str = "",
    by: User | None,
    now: datetime | None = None,
) -> EntryRequest:
    """Approve or refuse (with a reason) a pending request. Deciding the same way again is
    not an error; changing a decision is a Conflict."""
    # Lock: two staff deciding at once must not leave a refused request marked approved.
    entry = (
        EntryRequest.objects.select_for_update(of=("self",)).select_related("site").get(pk=entry.pk)
    )
    if by is not None and not reaches_site(scope_for(by), entry.site, ENTRY_DECIDE_ROLES):
        raise NotAllowed()
    target = EntryRequest.State.APPROVED if approve else EntryRequest.State.REFUSED
    if entry.state == target:
        return entry
    if entry.state != EntryRequest.State.PENDING:
        raise Conflict(
            _("This request was already decided: %(state)s."), state=entry.get_state_display()
        )
    reason = (reason or "").strip()
    if not approve and not reason:
        raise InvalidInput(_("Reason: say why entry is refused."))
    entry.state, entry.reason = target, reason[:200]
    entry.decided_by, entry.decided_at = by, now or timezone.now()
    save_audited(entry, by=by, reason=f"entry_request_{target}")
    return entry
