"""Transport pages: vehicles and crew, vehicle passes (with the public check page), and
entry requests. Trips and stops are in `views_trips`.

Fleets are seen by their owners (supplier users; street staff for a street's own team);
passes also by the staff who issued them for their areas; entry requests also by the
site's staff, who decide them. Anyone else gets 404.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from baogong.accounts.scoping import scope_for
from baogong.areas.models import Area
from baogong.core.errors import Conflict, InvalidInput, NotAllowed
from baogong.core.http import domain_errors
from baogong.fulfilment import passes, transport
from baogong.fulfilment.forms_transport import (
    CrewForm,
    EntryDecideForm,
    EntryRequestForm,
    PassIssueForm,
    ReasonForm,
    VehicleForm,
)
from baogong.fulfilment.models import VehiclePass
from baogong.fulfilment.transport import FLEET_ROLES, get_visible


def _transport_scope(request: HttpRequest):
    scope = scope_for(request.user)
    if not transport.uses_transport(scope):
        raise NotAllowed()
    return scope


def _form_page(request, template: str, form, **context) -> HttpResponse:
    return render(request, f"fulfilment/{template}", {"form": form, **context})


# --- vehicles and crew -------------------------------------------------------------------


@require_GET
@login_required
@domain_errors
def vehicle_list(request: HttpRequest) -> HttpResponse:
    """The user's fleets: vehicles with their passes' status, and crew (masked IDs)."""
    scope = _transport_scope(request)
    now = timezone.now()
    vehicles = list(transport.vehicles_for(scope).prefetch_related("passes"))
    for vehicle in vehicles:
        vehicle.pass_rows = [(p, passes.pass_status(p, now)) for p in vehicle.passes.all()]
    return render(
        request,
        "fulfilment/vehicle_list.html",
        {
            "vehicles": vehicles,
            "crew": transport.crew_for(scope),
            "can_add": bool(transport.owners_for(scope)),
        },
    )


def _vehicle_form(request: HttpRequest, vehicle=None) -> HttpResponse:
    scope = _transport_scope(request)
    owners = transport.owners_for(scope)
    if not owners:  # site staff see trips but keep no fleet
        raise NotAllowed()
    initial = {}
    if vehicle is not None:
        initial = {
            "plate": vehicle.plate,
            "kind": vehicle.kind,
            "capacity_bags": vehicle.capacity_bags,
            "capacity_kg": vehicle.capacity_kg,
            "owner": transport.Owner(supplier=vehicle.supplier, street=vehicle.street).key,
        }
    form = VehicleForm(request.POST or None, owners=owners, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            transport.vehicle_save(
                owner=transport.owner_by_key(scope, data["owner"]),
                plate=data["plate"],
                kind=data["kind"],
                capacity_bags=data["capacity_bags"],
                capacity_kg=data["capacity_kg"],
                by=request.user,
                vehicle=vehicle,
            )
        except (InvalidInput, Conflict) as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, _("Vehicle saved."))
            return redirect("fulfilment:vehicle_list")
    return _form_page(request, "vehicle_form.html", form, vehicle=vehicle)


@require_http_methods(["GET", "POST"])
@login_required
@domain_errors
def vehicle_create(request: HttpRequest) -> HttpResponse:
    return _vehicle_form(request)


@require_http_methods(["GET", "POST"])
@login_required
@domain_errors
def vehicle_edit(request: HttpRequest, pk: int) -> HttpResponse:
    vehicle = get_visible(transport.vehicles_for(scope_for(request.user)), pk)
    return _vehicle_form(request, vehicle)


def _crew_form(request: HttpRequest, member=None) -> HttpResponse:
    scope = _transport_scope(request)
    owners = transport.owners_for(scope)
    if not owners:
        raise NotAllowed()
    initial = {}
    if member is not None:
        initial = {
            "name": member.name,
            "phone": member.phone,
            "id_number": member.id_number_masked,
            "owner": transport.Owner(supplier=member.supplier, street=member.street).key,
        }
    form = CrewForm(request.POST or None, owners=owners, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            transport.crew_save(
                owner=transport.owner_by_key(scope, data["owner"]),
                name=data["name"],
                phone=data["phone"],
                id_number=data["id_number"],
                by=request.user,
                member=member,
            )
        except InvalidInput as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, _("Crew member saved."))
            return redirect("fulfilment:vehicle_list")
    return _form_page(request, "vehicle_crew_form.html", form, member=member)


@require_http_methods(["GET", "POST"])
@login_required
@domain_errors
def crew_create(request: HttpRequest) -> HttpResponse:
    return _crew_form(request)


@require_http_methods(["GET", "POST"])
@login_required
@domain_errors
def crew_edit(request: HttpRequest, pk: int) -> HttpResponse:
    member = get_visible(transport.crew_for(scope_for(request.user)), pk)
    return _crew_form(request, member)


# --- passes ------------------------------------------------------------------------------


@require_GET
@login_required
@domain_errors
def pass_list(request: HttpRequest) -> HttpResponse:
    scope = _transport_scope(request)
    now = timezone.now()
    rows = [(p, passes.pass_status(p, now)) for p in passes.passes_for(scope)[:200]]
    return render(
        request,
        "fulfilment/pass_list.html",
        {"rows": rows, "can_issue": scope.has_any(FLEET_ROLES), "labels": passes.STATUS_LABELS},
    )


@require_http_methods(["GET", "POST"])
@login_required
@domain_errors
def pass_issue(request: HttpRequest) -> HttpResponse:
    scope = scope_for(request.user)
    scope.require(FLEET_ROLES)
    areas = scope.areas(FLEET_ROLES).filter(
        kind__in=[Area.Kind.DISTRICT, Area.Kind.STREET, Area.Kind.COMMUNITY, Area.Kind.COMPOUND]
    )
    form = PassIssueForm(
        request.POST or None,
        vehicles=passes.issuable_vehicles(scope),
        areas=areas.order_by("path"),
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            vehicle_pass = passes.pass_issue(
                vehicle=data["vehicle"],
                valid_from=data["valid_from"],
                valid_to=data["valid_to"],
                areas=list(data["areas"]),
                route=data["route"],
                authority=data["authority"],
                by=request.user,
            )
        except (InvalidInput, Conflict) as error:
            form.add_error(None, error.message)
        else:
            messages.success(
                request, _("Pass %(number)s issued.") % {"number": vehicle_pass.number}
            )
            return redirect("fulfilment:pass_detail", vehicle_pass.pk)
    return _form_page(request, "pass_form.html", form)


@require_GET
@login_required
@domain_errors
def pass_detail(request: HttpRequest, pk: int) -> HttpResponse:
    scope = scope_for(request.user)
    vehicle_pass = get_visible(passes.passes_for(scope), pk)
    status = passes.pass_status(vehicle_pass)
    return render(
        request,
        "fulfilment/pass_detail.html",
        {
            "pass": vehicle_pass,
            "status": status,
            "status_label": passes.STATUS_LABELS[status],
            "can_revoke": status != passes.REVOKED and passes.may_administer(scope, vehicle_pass),
            "revoke_form": ReasonForm(),
            "verify_url": request.build_absolute_uri(
                reverse("fulfilment:pass_verify", args=[vehicle_pass.token])
            ),
        },
    )


@require_POST
@login_required
@domain_errors
def pass_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    scope = scope_for(request.user)
    vehicle_pass = get_visible(passes.passes_for(scope), pk)
    if not passes.may_administer(scope, vehicle_pass):
        raise NotAllowed()
    form = ReasonForm(request.POST)
    try:
        if not form.is_valid():
            raise InvalidInput(_("Reason: say why the pass is revoked."))
        passes.pass_revoke(
            vehicle_pass=vehicle_pass, reason=form.cleaned_data["reason"], by=request.user
        )
        messages.success(request, _("Pass revoked. Checkpoints see it at once."))
    except InvalidInput as error:
        messages.error(request, error.message)
    return redirect("fulfilment:pass_detail", vehicle_pass.pk)


@require_GET
@login_required
@domain_errors
def pass_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    vehicle_pass = get_visible(passes.passes_for(scope_for(request.user)), pk)
    url = request.build_absolute_uri(reverse("fulfilment:pass_verify", args=[vehicle_pass.token]))
    response = HttpResponse(passes.pass_pdf(vehicle_pass, url), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{vehicle_pass.number}.pdf"'
    return response


@require_GET
def pass_verify(request: HttpRequest, token: str) -> HttpResponse:
    """Public: a checkpoint scans the pass and learns validity, plate and expiry — nothing
    else. The status is read now, so a revocation shows at once."""
    vehicle_pass = get_object_or_404(VehiclePass.objects.select_related("vehicle"), token=token)
    status = passes.pass_status(vehicle_pass)
    response = render(
        request,
        "fulfilment/pass_verify.html",
        {
            "status": status,
            "status_label": passes.STATUS_LABELS[status],
            "plate": vehicle_pass.vehicle.plate,
            "valid_to": vehicle_pass.valid_to,
        },
    )
    response["Cache-Control"] = "no-store"  # a revoked pass must never show as cached valid
    return response


# --- entry requests -------------------------------------------------------------------------


@require_GET
@login_required
@domain_errors
def entry_list(request: HttpRequest) -> HttpResponse:
    scope = _transport_scope(request)
    return render(
        request,
        "fulfilment/entry_list.html",
        {
            "entries": transport.entry_requests_for(scope)[:200],
            "can_file": transport.vehicles_for(scope).exists(),
        },
    )


@require_http_methods(["GET", "POST"])
@login_required
@domain_errors
def entry_create(request: HttpRequest) -> HttpResponse:
    scope = _transport_scope(request)
    vehicles = transport.vehicles_for(scope)
    if not vehicles.exists():
        raise NotAllowed()
    form = EntryRequestForm(
        request.POST or None,
        sites=transport.served_sites(scope),
        vehicles=vehicles,
        crew=transport.crew_for(scope),
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            transport.entry_request_file(
                site=data["site"],
                vehicle=data["vehicle"],
                crew=list(data["crew"]),
                cargo=data["cargo"],
                arrive_from=data["arrive_from"],
                arrive_to=data["arrive_to"],
                by=request.user,
            )
        except InvalidInput as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, _("Entry request filed; the site's staff decide it."))
            return redirect("fulfilment:entry_list")
    return _form_page(request, "entry_form.html", form)


@require_http_methods(["GET", "POST"])
@login_required
@domain_errors
def entry_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """The request; the site's community staff or liaison approve or refuse it here."""
    scope = scope_for(request.user)
    entry = get_visible(transport.entry_requests_for(scope), pk)
    may_decide = transport.reaches_site(scope, entry.site, transport.ENTRY_DECIDE_ROLES)
    form = EntryDecideForm(request.POST or None)
    if request.method == "POST":
        if not may_decide:
            raise NotAllowed()
        if form.is_valid():
            try:
                transport.entry_request_decide(
                    entry=entry,
                    approve=form.cleaned_data["decision"] == "approve",
                    reason=form.cleaned_data["reason"],
                    by=request.user,
                )
            except (InvalidInput, Conflict) as error:
                form.add_error(None, error.message)
            else:
                messages.success(request, _("Decision saved."))
                return redirect("fulfilment:entry_detail", entry.pk)
    return render(
        request,
        "fulfilment/entry_detail.html",
        {
            "entry": entry,
            "crew": entry.crew.all(),
            "form": form,
            "may_decide": may_decide and entry.state == entry.State.PENDING,
        },
    )
