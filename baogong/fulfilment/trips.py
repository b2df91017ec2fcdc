"""配送车次: trips and their stops, crew health declarations, dispatch checks, disinfection.

States: planned → dispatched → arrived → unloaded → closed, each step a service here,
audited. Dispatch is where the rules bite: the pass must be valid for the whole trip and
its areas, every crew member (driver included) must have a fresh, clean declaration,
and a sealed compound needs an approved entry request covering the arrival window.
Every failed rule is named, for the person it concerns.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from baogong.accounts.scoping import Scope, scope_for
from baogong.areas.models import Area, Containment, Gate
from baogong.core.errors import Conflict, InvalidInput, NotAllowed
from baogong.fulfilment.models import (
    Attestation,
    CrewMember,
    Disinfection,
    EntryRequest,
    Stop,
    Trip,
    Vehicle,
    VehiclePass,
)
from baogong.fulfilment.passes import EXPIRED, REVOKED, pass_status
from baogong.fulfilment.transport import SITE_ROLES, _paths_q, fleet_q, reaches_site
from baogong.lastmile.bags import deliveries_moved, round_deliveries_sync
from baogong.lastmile.models import Delivery
from baogong.orders.models import Round
from baogong.orders.services import round_transition
from baogong.payments.services import save_audited

if TYPE_CHECKING:
    from baogong.accounts.models import User

# Rounds whose goods may ride on a trip: confirmed (not yet gone) or already dispatched
# by an earlier trip (a second vehicle for the same round).
TRIP_ROUND_STATES = (Round.State.CONFIRMED, Round.State.DISPATCHED)


class DispatchRefused(InvalidInput):
    """Dispatch refused: `reasons` names each failed rule (and whom it concerns)."""

    code = "dispatch_refused"

    def __init__(self, reasons: list[str]) -> None:
        super().__init__(_("The trip cannot leave yet: %(reasons)s"), reasons="; ".join(reasons))
        self.reasons = reasons


@dataclass
class StopSpec:
    place: Gate
    window_from: datetime
    window_to: datetime
    rounds: list[Round] = field(default_factory=list)
    # Other deliveries for the place's compound (a free distribution's).
    deliveries: list[Delivery] = field(default_factory=list)


# --- who sees what ---------------------------------------------------------------------


def trips_for(scope: Scope) -> QuerySet[Trip]:
    """Trips of the user's fleets, and trips with a stop at a site they look after."""
    if scope.superuser:
        q = Q()
    else:
        q = fleet_q(scope, "vehicle__") | _paths_q(scope, SITE_ROLES, "stops__place__compound__")
    ids = Trip.objects.filter(q).values("pk")
    return Trip.objects.filter(pk__in=ids).select_related("vehicle", "vehicle_pass", "driver")


def runs_trip(scope: Scope, trip: Trip) -> bool:
    """The trip's fleet: its supplier's users, or the street's transport staff."""
    return Trip.objects.filter(fleet_q(scope, "vehicle__"), pk=trip.pk).exists()


def works_stop(scope: Scope, stop: Stop) -> bool:
    """The fleet, or staff of the stop's compound (who meet the truck at the gate)."""
    return runs_trip(scope, stop.trip) or reaches_site(scope, stop.place.compound, SITE_ROLES)


def _require(ok: bool) -> None:
    if not ok:
        raise NotAllowed()


def _next_number(departs_at: datetime) -> str:
    prefix = f"CC{timezone.localtime(departs_at):%Y%m%d}-"
    last = (
        Trip.objects.filter(number__startswith=prefix)
        .order_by("-number")
        .values_list("number", flat=True)
        .first()
    )
    return f"{prefix}{int(last[len(prefix) :]) + 1 if last else 1:03d}"


# --- planning --------------------------------------------------------------------------


def _stop_add(trip: Trip, position: int, spec: StopSpec) -> Stop:
    if spec.window_to <= spec.window_from:
        raise InvalidInput(_("Stop %(n)s: “arrive by” must be after “arrive from”."), n=position)
    compound = spec.place.compound
    deliveries: list[Delivery] = list(spec.deliveries)
    for round_ in spec.rounds:
        if round_.state not in TRIP_ROUND_STATES:
            raise InvalidInput(
                _("Round “%(round)s” is %(state)s: only a confirmed round can go on a trip."),
                round=round_.title,
                state=round_.get_state_display(),
            )
        if trip.supplier_id and round_.supplier_id != trip.supplier_id:
            raise InvalidInput(_("Round “%(round)s” is another supplier's."), round=round_.title)
        found = [d for d in round_deliveries_sync(round_) if d.compound_id == compound.pk]
        if not found:
            raise InvalidInput(
                _("Round “%(round)s” has no bags for %(compound)s."),
                round=round_.title,
                compound=compound.name,
            )
        deliveries += found
    if any(d.compound_id != compound.pk for d in deliveries):
        raise InvalidInput(_("Stop %(n)s: a delivery is for another compound."), n=position)
    stop = Stop(
        trip=trip,
        position=position,
        place=spec.place,
        window_from=spec.window_from,
        window_to=spec.window_to,
    )
    save_audited(stop, by=trip.created_by, reason="stop_add")
    stop.deliveries.set(deliveries)
    return stop


def _check_crew(vehicle: Vehicle, driver: CrewMember, crew: list[CrewMember]) -> None:
    for member in [driver, *crew]:
        if member.supplier_id != vehicle.supplier_id or member.street_id != vehicle.street_id:
            raise InvalidInput(
                _("Crew: %(name)s is not in the fleet of vehicle %(plate)s."),
                name=member.name,
                plate=vehicle.plate,
            )


@transaction.atomic
def trip_create(
    *,
    vehicle: Vehicle,
    driver: CrewMember,
    departs_at: datetime,
    stops: list[StopSpec],
    vehicle_pass: VehiclePass | None = None,
    crew: list[CrewMember] | None = None,
    by: User | None,
    request_key: str | None = None,
) -> Trip:
    """Plan a trip: vehicle, pass, driver, crew, departure and stops, each carrying the
    compound deliveries of its rounds (made or refreshed with `round_deliveries_sync`).

    A `request_key` already used returns the trip planned with it (a double tap or a
    retried form plans one trip). Raises InvalidInput naming the field or stop,
    NotAllowed for another fleet's vehicle."""
    if request_key and (planned := _planned_with(request_key)) is not None:
        return planned
    crew = [m for m in (crew or []) if m.pk != driver.pk]
    if by is not None:
        _require(Vehicle.objects.filter(fleet_q(scope_for(by)), pk=vehicle.pk).exists())
    _check_crew(vehicle, driver, crew)
    if vehicle_pass is not None and vehicle_pass.vehicle_id != vehicle.pk:
        raise InvalidInput(
            _("Pass: pass %(number)s is for another vehicle."), number=vehicle_pass.number
        )
    if not stops:
        raise InvalidInput(_("Stops: add at least one stop."))
    trip = Trip(
        supplier=vehicle.supplier,
        vehicle=vehicle,
        vehicle_pass=vehicle_pass,
        driver=driver,
        departs_at=departs_at,
        created_by=by,
        request_key=request_key or None,
    )
    # Two trips planned at the same moment may take the same number: retry with the next.
    for _attempt in range(5):
        trip.number = _next_number(departs_at)
        try:
            with transaction.atomic():
                save_audited(trip, by=by, reason="trip_create")
            break
        except IntegrityError:
            # The same form submitted twice at once: the other submit planned the trip.
            if request_key and (planned := _planned_with(request_key)) is not None:
                return planned
            trip.pk = None
    else:
        raise Conflict(_("Could not number the trip; try again."))
    trip.crew.set(crew)
    for position, spec in enumerate(stops, start=1):
        _stop_add(trip, position, spec)
    return trip


def _planned_with(request_key: str) -> Trip | None:
    return Trip.objects.filter(request_key=request_key).first()


@transaction.atomic
def stop_add(*, trip: Trip, spec: StopSpec, by: User | None) -> Stop:
    """Add a stop to a planned trip."""
    trip = Trip.objects.select_for_update().get(pk=trip.pk)
    if by is not None:
        _require(runs_trip(scope_for(by), trip))
    if trip.state != Trip.State.PLANNED:
        raise Conflict(_("Stops can only be added before the trip leaves."))
    last = trip.stops.order_by("-position").values_list("position", flat=True).first() or 0
    return _stop_add(trip, last + 1, spec)


def trip_members(trip: Trip) -> list[CrewMember]:
    """Driver first, then the crew, each once."""
    crew = [m for m in trip.crew.order_by("name") if m.pk != trip.driver_id]
    return [trip.driver, *crew]


@transaction.atomic
def attestation_record(
    *,
    trip: Trip,
    member: CrewMember,
    health_code: str,
    travel_record: str,
    travel_ok: bool,
    last_test_at: datetime,
    symptoms: bool,
    commitment_signed: bool,
    signed_name: str,
    photo: UploadedFile | None = None,
    by: User | None,
    now: datetime | None = None,
) -> Attestation:
    """Record (or correct, before departure) a crew member's declaration for this trip.

    The signing time is the server's. Raises InvalidInput naming the field."""
    now = now or timezone.now()
    if by is not None:
        _require(runs_trip(scope_for(by), trip))
    if member.pk not in {m.pk for m in trip_members(trip)}:
        raise InvalidInput(_("%(name)s is not on this trip."), name=member.name)
    if trip.state != Trip.State.PLANNED:
        raise Conflict(_("Declarations are made before the trip leaves."))
    if health_code not in Attestation.HealthCode.values:
        raise InvalidInput(_("Health code: choose green, yellow or red."))
    if last_test_at > now:
        raise InvalidInput(_("Last negative test: the time is in the future."))
    signed_name = (signed_name or "").strip()
    if commitment_signed and not signed_name:
        raise InvalidInput(_("Commitment: type your name to sign."))
    attestation = Attestation.objects.filter(trip=trip, crew_member=member).first() or Attestation(
        trip=trip, crew_member=member
    )
    attestation.health_code = health_code
    attestation.travel_record = (travel_record or "").strip()[:200]
    attestation.travel_ok = travel_ok
    attestation.last_test_at = last_test_at
    attestation.symptoms = symptoms
    attestation.commitment_signed = commitment_signed
    attestation.signed_name = signed_name[:50] if commitment_signed else ""
    attestation.signed_at = now if commitment_signed else None
    if photo is not None:
        attestation.photo = photo
    save_audited(attestation, by=by, reason="attestation_record")
    return attestation


# --- the dispatch rules -------------------------------------------------------------------


def attestation_problems(
    attestation: Attestation | None, member: CrewMember, *, arrive_by: datetime
) -> list[str]:
    """Every rule this member's declaration fails, worded for the refusal message."""
    name = member.name
    if attestation is None:
        return [str(_("%(name)s: no health declaration for this trip") % {"name": name})]
    problems = []
    if attestation.health_code != Attestation.HealthCode.GREEN:
        problems.append(
            _("%(name)s: health code is %(code)s, not green")
            % {"name": name, "code": attestation.get_health_code_display()}
        )
    hours = settings.FULFILMENT_TEST_WINDOW_HOURS
    if attestation.last_test_at < arrive_by - timedelta(hours=hours):
        problems.append(
            _("%(name)s: last negative test (%(at)s) is more than %(hours)s hours before arrival")
            % {
                "name": name,
                "at": f"{timezone.localtime(attestation.last_test_at):%m-%d %H:%M}",
                "hours": hours,
            }
        )
    if not attestation.travel_ok:
        problems.append(
            _("%(name)s: 14-day travel record not confirmed free of risk areas") % {"name": name}
        )
    if attestation.symptoms:
        problems.append(_("%(name)s: declared fever or symptoms") % {"name": name})
    if not (attestation.commitment_signed and attestation.signed_name and attestation.signed_at):
        problems.append(_("%(name)s: commitment not signed") % {"name": name})
    return [str(p) for p in problems]


def pass_problems(trip: Trip, stops: list[Stop], now: datetime) -> list[str]:
    vehicle_pass = trip.vehicle_pass
    if vehicle_pass is None:
        return [str(_("No vehicle pass chosen for this trip"))]
    number = vehicle_pass.number
    if vehicle_pass.vehicle_id != trip.vehicle_id:
        return [str(_("Pass %(number)s is for another vehicle") % {"number": number})]
    status = pass_status(vehicle_pass, now)
    if status == REVOKED:
        return [str(_("Pass %(number)s has been revoked") % {"number": number})]
    if status == EXPIRED:
        return [str(_("Pass %(number)s has expired") % {"number": number})]
    problems = []
    start = min([trip.departs_at, *(s.window_from for s in stops)])
    end = max(s.window_to for s in stops)
    if vehicle_pass.valid_from > start or vehicle_pass.valid_to < end:
        problems.append(
            _("Pass %(number)s is not valid for the whole trip (valid %(start)s to %(end)s)")
            % {
                "number": number,
                "start": f"{timezone.localtime(vehicle_pass.valid_from):%m-%d %H:%M}",
                "end": f"{timezone.localtime(vehicle_pass.valid_to):%m-%d %H:%M}",
            }
        )
    paths = [a.path for a in vehicle_pass.areas.all()]
    if paths:  # a route-only pass is checked by the checkpoints along the route
        for stop in stops:
            if not any(stop.place.compound.path.startswith(p) for p in paths):
                problems.append(
                    _("Pass %(number)s does not cover %(compound)s")
                    % {"number": number, "compound": stop.place.compound.name}
                )
    return [str(p) for p in problems]


def entry_problems(trip: Trip, stops: list[Stop], members: list[CrewMember]) -> list[str]:
    """A sealed compound lets the truck in only with an approved entry request that names
    this vehicle and its crew and covers the stop's arrival window."""
    problems = []
    member_ids = {m.pk for m in members}
    for stop in stops:
        compound: Area = stop.place.compound
        if compound.containment != Containment.SEALED:
            continue
        ancestors = [compound.path[:i] for i in range(1, len(compound.path) + 1)]
        candidates = EntryRequest.objects.filter(
            state=EntryRequest.State.APPROVED,
            vehicle=trip.vehicle,
            site__path__in=ancestors,
            arrive_from__lte=stop.window_from,
            arrive_to__gte=stop.window_to,
        ).prefetch_related("crew")
        if not any(member_ids <= {m.pk for m in c.crew.all()} for c in candidates):
            problems.append(
                _(
                    "%(compound)s is sealed: no approved entry request covers vehicle "
                    "%(plate)s and its crew for %(start)s–%(end)s"
                )
                % {
                    "compound": compound.name,
                    "plate": trip.vehicle.plate,
                    "start": f"{timezone.localtime(stop.window_from):%m-%d %H:%M}",
                    "end": f"{timezone.localtime(stop.window_to):%H:%M}",
                }
            )
    return [str(p) for p in problems]


def dispatch_problems(trip: Trip, now: datetime) -> list[str]:
    stops = list(trip.stops.select_related("place__compound").order_by("position"))
    if not stops:
        return [str(_("The trip has no stops"))]
    members = trip_members(trip)
    arrive_by = max(s.window_to for s in stops)
    declared = {a.crew_member_id: a for a in trip.attestations.all()}
    problems = pass_problems(trip, stops, now)
    for member in members:
        problems += attestation_problems(declared.get(member.pk), member, arrive_by=arrive_by)
    return problems + entry_problems(trip, stops, members)


@transaction.atomic
def trip_dispatch(*, trip: Trip, by: User | None, now: datetime | None = None) -> Trip:
    """Send the trip off: check every rule, then deliveries → ON_THE_WAY and each confirmed
    round → dispatched. Dispatching a dispatched trip again changes nothing.

    Raises DispatchRefused listing each failed rule, Conflict when past dispatch."""
    now = now or timezone.now()
    # Lock the trip: a double tap on "dispatch" sends it once.
    trip = (
        Trip.objects.select_for_update(of=("self",))
        .select_related("vehicle", "vehicle_pass", "driver")
        .get(pk=trip.pk)
    )
    scope = scope_for(by) if by is not None else None
    if scope is not None:
        _require(runs_trip(scope, trip))
    if trip.state != Trip.State.PLANNED:
        if trip.state == Trip.State.DISPATCHED:
            return trip
        raise Conflict(_("The trip has already left (%(state)s)."), state=trip.get_state_display())
    problems = dispatch_problems(trip, now)
    if problems:
        raise DispatchRefused(problems)
    deliveries = Delivery.objects.filter(stops__trip=trip).distinct()
    rounds = Round.objects.filter(pk__in=deliveries.values("round_id")).order_by("pk")
    for round_ in rounds:
        if round_.state == Round.State.CONFIRMED:
            round_deliveries_sync(round_)
            # Dispatching a round is the supplier's act; street transport staff move it
            # as the system (orders.services checks the supplier only for a named user).
            actor = by if scope is not None and round_.supplier_id in scope.supplier_ids else None
            round_transition(round_=round_, action="dispatch", by=actor)
    leaving = list(deliveries.filter(state=Delivery.State.PREPARING).order_by("pk"))
    for delivery in leaving:
        delivery.state = Delivery.State.ON_THE_WAY
        save_audited(delivery, by=by, reason="trip_dispatch", update_fields=["state", "updated_at"])
    deliveries_moved(leaving, by=by)
    trip.state, trip.dispatched_at = Trip.State.DISPATCHED, now
    save_audited(trip, by=by, reason="trip_dispatch")
    return trip


# --- at the stop ----------------------------------------------------------------------------


def _lock_stop(stop: Stop, by: User | None) -> Stop:
    stop = (
        Stop.objects.select_for_update(of=("self",))
        .select_related("trip", "place__compound")
        .get(pk=stop.pk)
    )
    if by is not None:
        _require(works_stop(scope_for(by), stop))
    return stop


@transaction.atomic
def stop_arrive(*, stop: Stop, by: User | None, now: datetime | None = None) -> Stop:
    """The vehicle is at the stop. Its deliveries stay on the way until the liaison starts
    the gate receipt. Arriving twice changes nothing."""
    stop = _lock_stop(stop, by)
    if stop.state != Stop.State.PLANNED:
        return stop
    trip = Trip.objects.select_for_update().get(pk=stop.trip_id)
    if trip.state not in (Trip.State.DISPATCHED, Trip.State.ARRIVED):
        raise Conflict(_("The trip has not been dispatched yet."))
    stop.state, stop.arrived_at = Stop.State.ARRIVED, now or timezone.now()
    save_audited(stop, by=by, reason="stop_arrive")
    if trip.state == Trip.State.DISPATCHED:
        trip.state = Trip.State.ARRIVED
        save_audited(trip, by=by, reason="stop_arrive")
    return stop


@transaction.atomic
def disinfection_record(
    *,
    stop: Stop,
    done_by: str,
    done_at: datetime,
    agent: str = "84消毒液",
    dilution: str = "1:100",
    rest_minutes: int = 30,
    by: User | None,
    now: datetime | None = None,
) -> Disinfection:
    """Record a disinfection of vehicle and outer packaging at an arrived stop."""
    now = now or timezone.now()
    stop = _lock_stop(stop, by)
    if stop.state != Stop.State.ARRIVED:
        raise Conflict(_("Record disinfection after the vehicle has arrived and before unloading."))
    if not (done_by or "").strip():
        raise InvalidInput(_("Done by: name who disinfected."))
    if not (agent or "").strip() or not (dilution or "").strip():
        raise InvalidInput(_("Agent and dilution: both are needed."))
    if done_at > now + timedelta(minutes=1):
        raise InvalidInput(_("Time: the disinfection cannot be in the future."))
    if not 0 <= rest_minutes <= 240:
        raise InvalidInput(_("Rest time: between 0 and 240 minutes."))
    record = Disinfection.objects.create(
        stop=stop,
        agent=agent.strip()[:50],
        dilution=dilution.strip()[:20],
        done_by=done_by.strip()[:50],
        done_at=done_at,
        rest_minutes=rest_minutes,
        recorded_by=by,
    )
    return record


def unload_released_at(stop: Stop) -> datetime | None:
    """When the latest disinfection's rest time ends (None: not disinfected yet)."""
    latest = stop.disinfections.order_by("-done_at").first()
    return latest.done_at + timedelta(minutes=latest.rest_minutes) if latest else None


@transaction.atomic
def stop_unload(*, stop: Stop, by: User | None, now: datetime | None = None) -> Stop:
    """Unload at the stop, only once the disinfection's rest time has passed. When every
    stop is unloaded the trip is. Unloading twice changes nothing."""
    now = now or timezone.now()
    stop = _lock_stop(stop, by)
    if stop.state == Stop.State.UNLOADED:
        return stop
    if stop.state != Stop.State.ARRIVED:
        raise Conflict(_("The vehicle has not arrived at this stop yet."))
    released = unload_released_at(stop)
    if released is None:
        raise Conflict(_("Disinfect the vehicle and packaging before unloading."))
    if now < released:
        minutes = math.ceil((released - now).total_seconds() / 60)
        raise Conflict(
            _(
                "Unloading is allowed from %(at)s: %(minutes)s more minutes of rest "
                "after disinfection."
            ),
            at=f"{timezone.localtime(released):%H:%M}",
            minutes=minutes,
        )
    stop.state, stop.unloaded_at = Stop.State.UNLOADED, now
    save_audited(stop, by=by, reason="stop_unload")
    trip = Trip.objects.select_for_update().get(pk=stop.trip_id)
    if not trip.stops.exclude(state=Stop.State.UNLOADED).exists():
        trip.state = Trip.State.UNLOADED
        save_audited(trip, by=by, reason="stop_unload")
    return stop


@transaction.atomic
def trip_close(*, trip: Trip, by: User | None, now: datetime | None = None) -> Trip:
    """Close an unloaded trip (the vehicle is back). Closing twice changes nothing."""
    trip = Trip.objects.select_for_update().get(pk=trip.pk)
    if by is not None:
        _require(runs_trip(scope_for(by), trip))
    if trip.state == Trip.State.CLOSED:
        return trip
    if trip.state != Trip.State.UNLOADED:
        raise Conflict(_("Only an unloaded trip can be closed."))
    trip.state, trip.closed_at = Trip.State.CLOSED, now or timezone.now()
    save_audited(trip, by=by, reason="trip_close")
    return trip
