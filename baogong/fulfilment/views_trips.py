"""Trip pages: the list, planning a trip, its detail with stops and the crew's declarations,
dispatch (with every refusal named), and the stop page (arrive, disinfect, countdown,
unload, and the way to each compound delivery's gate receipt).

The trip's fleet runs it; the staff of a stop's compound see the trip and work their stop
(they meet the truck at the gate). Declarations (health data) are for the fleet only.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from baogong.accounts.scoping import Scope, scope_for
from baogong.areas.models import Gate
from baogong.core.errors import Conflict, InvalidInput, NotAllowed, NotFound
from baogong.core.http import domain_errors, form_key, new_form_key
from baogong.fulfilment import passes, transport, trips
from baogong.fulfilment.forms_transport import (
    AttestationForm,
    DisinfectionForm,
    StopForm,
    TripForm,
)
from baogong.fulfilment.models import Attestation, Stop, Trip
from baogong.fulfilment.transport import FLEET_ROLES, get_visible
from baogong.lastmile.models import Bag
from baogong.orders.models import Round


def _rounds_for_trips(scope: Scope):
    """Confirmed rounds the user's fleets may carry: their supplier's, or rounds for areas
    under their street."""
    q = Q(supplier_id__in=scope.supplier_ids)
    for path in scope.paths_for(FLEET_ROLES):
        q |= Q(round_areas__area__path__startswith=path)
    rounds = Round.objects.filter(state__in=trips.TRIP_ROUND_STATES)
    return (rounds if scope.superuser else rounds.filter(q)).distinct().order_by("-pk")


def _places(scope: Scope):
    compounds = transport.served_sites(scope)
    q = Q(pk__in=[])
    for path in compounds.values_list("path", flat=True):
        q |= Q(compound__path__startswith=path)
    return Gate.objects.filter(q).select_related("compound").order_by("compound__path", "name")


@require_GET
@login_required
@domain_errors
def trip_list(request: HttpRequest) -> HttpResponse:
    """The transport home: trips, and the ways to vehicles, passes and entry requests."""
    scope = scope_for(request.user)
    if not transport.uses_transport(scope):
        raise NotAllowed()
    return render(
        request,
        "fulfilment/trip_list.html",
        {
            "trips": trips.trips_for(scope).prefetch_related("stops__place__compound")[:100],
            "can_plan": transport.vehicles_for(scope).exists(),
        },
    )


@require_http_methods(["GET", "POST"])
@login_required
@domain_errors
def trip_create(request: HttpRequest) -> HttpResponse:
    scope = scope_for(request.user)
    vehicles = transport.vehicles_for(scope)
    if not vehicles.exists():
        raise NotAllowed()
    form = TripForm(
        request.POST or None,
        vehicles=vehicles,
        passes=passes.passes_for(scope).filter(vehicle__in=vehicles),
        crew=transport.crew_for(scope),
        places=_places(scope),
        rounds=_rounds_for_trips(scope),
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            trip = trips.trip_create(
                vehicle=data["vehicle"],
                vehicle_pass=data["vehicle_pass"],
                driver=data["driver"],
                crew=list(data["crew"]),
                departs_at=data["departs_at"],
                stops=[_stop_spec(data)],
                by=request.user,
                request_key=form_key(request),
            )
        except (InvalidInput, Conflict) as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, _("Trip %(number)s planned.") % {"number": trip.number})
            return redirect("fulfilment:trip_detail", trip.pk)
    return render(
        request,
        "fulfilment/trip_form.html",
        {"form": form, "request_key": new_form_key(request)},
    )


def _stop_spec(data: dict) -> trips.StopSpec:
    return trips.StopSpec(
        place=data["place"],
        window_from=data["window_from"],
        window_to=data["window_to"],
        rounds=list(data["rounds"]),
    )


def _visible_trip(request: HttpRequest, pk: int) -> tuple[Scope, Trip]:
    scope = scope_for(request.user)
    return scope, get_visible(trips.trips_for(scope), pk)


@require_GET
@login_required
@domain_errors
def trip_detail(request: HttpRequest, pk: int) -> HttpResponse:
    scope, trip = _visible_trip(request, pk)
    runs = trips.runs_trip(scope, trip)
    declared = {a.crew_member_id: a for a in trip.attestations.all()}
    stops = list(trip.stops.select_related("place__compound").order_by("position"))
    arrive_by = max((s.window_to for s in stops), default=trip.departs_at)
    members = [
        {
            "member": m,
            "declared": m.pk in declared,
            "problems": trips.attestation_problems(declared.get(m.pk), m, arrive_by=arrive_by),
        }
        for m in trips.trip_members(trip)
    ]
    stop_form = None
    if runs and trip.state == Trip.State.PLANNED:
        stop_form = StopForm(places=_places(scope), rounds=_rounds_for_trips(scope))
    return render(
        request,
        "fulfilment/trip_detail.html",
        {
            "trip": trip,
            "stops": stops,
            "members": members,
            "runs": runs,
            "problems": trips.dispatch_problems(trip, timezone.now())
            if trip.state == Trip.State.PLANNED
            else [],
            "stop_form": stop_form,
        },
    )


@require_POST
@login_required
@domain_errors
def stop_add(request: HttpRequest, pk: int) -> HttpResponse:
    scope, trip = _visible_trip(request, pk)
    if not trips.runs_trip(scope, trip):
        raise NotAllowed()
    form = StopForm(request.POST, places=_places(scope), rounds=_rounds_for_trips(scope))
    try:
        if not form.is_valid():
            raise InvalidInput(
                _("Stop: %(errors)s")
                % {"errors": " ".join(str(e) for errs in form.errors.values() for e in errs)}
            )
        trips.stop_add(trip=trip, spec=_stop_spec(form.cleaned_data), by=request.user)
        messages.success(request, _("Stop added."))
    except (InvalidInput, Conflict) as error:
        messages.error(request, error.message)
    return redirect("fulfilment:trip_detail", trip.pk)


@require_http_methods(["GET", "POST"])
@login_required
@domain_errors
def trip_attestation(request: HttpRequest, pk: int, member_pk: int) -> HttpResponse:
    """One crew member's health declaration for the trip (the fleet fills it in)."""
    scope, trip = _visible_trip(request, pk)
    if not trips.runs_trip(scope, trip):
        raise NotAllowed()
    member = next((m for m in trips.trip_members(trip) if m.pk == member_pk), None)
    if member is None:
        raise NotFound()
    existing = Attestation.objects.filter(trip=trip, crew_member=member).first()
    initial = {"signed_name": member.name}
    if existing is not None:
        initial = {
            f: getattr(existing, f)
            for f in (
                "health_code",
                "travel_record",
                "travel_ok",
                "last_test_at",
                "symptoms",
                "commitment_signed",
                "signed_name",
            )
        }
    form = AttestationForm(request.POST or None, request.FILES or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            trips.attestation_record(trip=trip, member=member, by=request.user, **form.cleaned_data)
        except (InvalidInput, Conflict) as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, _("Declaration saved for %(name)s.") % {"name": member.name})
            return redirect("fulfilment:trip_detail", trip.pk)
    return render(
        request,
        "fulfilment/trip_attestation.html",
        {
            "trip": trip,
            "member": member,
            "form": form,
            "existing": existing,
            "hours": settings.FULFILMENT_TEST_WINDOW_HOURS,
        },
    )


@require_POST
@login_required
@domain_errors
def trip_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    """Dispatch or close; a refused dispatch lists every failed rule."""
    _scope, trip = _visible_trip(request, pk)
    try:
        if action == "dispatch":
            trips.trip_dispatch(trip=trip, by=request.user)
            messages.success(request, _("Trip dispatched: the compounds see it on its way."))
        elif action == "close":
            trips.trip_close(trip=trip, by=request.user)
            messages.success(request, _("Trip closed."))
        else:
            raise NotFound()
    except trips.DispatchRefused as refusal:
        messages.error(request, _("The trip cannot leave yet:"))
        for reason in refusal.reasons:
            messages.error(request, reason)
    except (InvalidInput, Conflict) as error:
        messages.error(request, error.message)
    return redirect("fulfilment:trip_detail", trip.pk)


# --- the stop --------------------------------------------------------------------------


def _visible_stop(request: HttpRequest, pk: int) -> Stop:
    scope = scope_for(request.user)
    stop = get_visible(
        Stop.objects.filter(trip__in=trips.trips_for(scope)).select_related(
            "trip__vehicle", "place__compound"
        ),
        pk,
    )
    if not trips.works_stop(scope, stop):
        raise NotFound()
    return stop


@require_GET
@login_required
@domain_errors
def stop_detail(request: HttpRequest, pk: int) -> HttpResponse:
    stop = _visible_stop(request, pk)
    now = timezone.now()
    released = trips.unload_released_at(stop)
    remaining = int((released - now).total_seconds()) if released and released > now else 0
    deliveries = [
        {
            "delivery": d,
            "receipt_url": reverse("lastmile:receipt", kwargs={"pk": d.pk}),
            "bags": d.bags.exclude(state=Bag.State.VOID).count(),
        }
        for d in stop.deliveries.select_related("round", "distribution").order_by("pk")
    ]
    return render(
        request,
        "fulfilment/stop_detail.html",
        {
            "stop": stop,
            "trip": stop.trip,
            "deliveries": deliveries,
            "disinfections": stop.disinfections.all(),
            "released": released,
            "remaining": remaining,
            "remaining_minutes": (remaining + 59) // 60,
            "form": DisinfectionForm(initial={"done_at": timezone.localtime(now)}),
        },
    )


@require_POST
@login_required
@domain_errors
def stop_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    stop = _visible_stop(request, pk)
    try:
        if action == "arrive":
            trips.stop_arrive(stop=stop, by=request.user)
            messages.success(request, _("Arrival recorded."))
        elif action == "unload":
            trips.stop_unload(stop=stop, by=request.user)
            messages.success(request, _("Unloaded. The liaison can start the gate receipt."))
        else:
            raise NotFound()
    except (InvalidInput, Conflict) as error:
        messages.error(request, error.message)
    return redirect("fulfilment:stop_detail", stop.pk)


@require_POST
@login_required
@domain_errors
def stop_disinfection(request: HttpRequest, pk: int) -> HttpResponse:
    stop = _visible_stop(request, pk)
    form = DisinfectionForm(request.POST)
    try:
        if not form.is_valid():
            raise InvalidInput(
                _("Disinfection: %(errors)s")
                % {
                    "errors": " ".join(
                        f"{form.fields[name].label}: {e}"
                        for name, errs in form.errors.items()
                        if name in form.fields
                        for e in errs
                    )
                }
            )
        trips.disinfection_record(stop=stop, by=request.user, **form.cleaned_data)
        messages.success(request, _("Disinfection recorded."))
    except (InvalidInput, Conflict) as error:
        messages.error(request, error.message)
    return redirect("fulfilment:stop_detail", stop.pk)
