"""Staff and resident pages of the area tree and the household register.

Each view: parse → scoped lookup (scope_for) → service → render. Domain errors
become HTTP answers in one place (`domain_errors`): NotFound → 404,
NotAllowed → 403.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from baogong.accounts.models import Role
from baogong.accounts.scoping import BROWSE_ROLES, HOUSEHOLD_ROLES, Scope, scope_for
from baogong.accounts.services import grantable_roles
from baogong.areas import queries, services
from baogong.areas.forms import GateForm, HouseholdForm, HouseholdSearchForm, ResidentForm
from baogong.areas.models import Area, Gate, Household, Resident
from baogong.core.errors import InvalidInput, NotAllowed, NotFound
from baogong.core.http import domain_errors, is_htmx

SEARCH_PAGE_SIZE = 25


def _staff_household(scope: Scope, pk: int) -> Household:
    """A household the user works with (household roles), else raise."""
    scope.require(HOUSEHOLD_ROLES)
    return scope.household(pk, roles=HOUSEHOLD_ROLES)


def _editable_household(scope: Scope, pk: int) -> Household:
    household = _staff_household(scope, pk)
    if not scope.can_edit_area(household.building):
        raise NotAllowed()
    return household


def _editable_resident(scope: Scope, pk: int) -> Resident:
    scope.require(HOUSEHOLD_ROLES)
    try:
        resident = (
            scope.residents()
            .select_related("household__building", "household__compound")
            .get(pk=pk)
        )
    except Resident.DoesNotExist:
        raise NotFound() from None
    if not scope.can_edit_area(resident.household.building):
        raise NotAllowed()
    return resident


def _save_through(form: Any, save: Callable[..., Any], field: str, by: Any) -> bool:
    """Hand a valid form's instance to a service; put its refusal on the form."""
    try:
        save(**{field: form.save(commit=False)}, by=by)
    except InvalidInput as error:
        form.add_error(None, error.message)
        return False
    return True


# --- the area tree -------------------------------------------------------------------


@require_GET
@login_required
@domain_errors
def browse(request: HttpRequest) -> HttpResponse:
    """The areas a user's grants start from, with what lies under each."""
    scope = scope_for(request.user)
    scope.require(BROWSE_ROLES)
    summaries = queries.summarize(scope.root_areas)
    return render(
        request,
        "areas/browse.html",
        {
            "summaries": summaries,
            "totals": queries.total(summaries),
        },
    )


@require_GET
@login_required
@domain_errors
def area_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """One node: where it sits, its facts, and its children (or a building's households)."""
    scope = scope_for(request.user)
    scope.require(BROWSE_ROLES)
    area = scope.area(pk)
    context: dict[str, Any] = {
        "area": area,
        "breadcrumbs": queries.breadcrumbs(scope, area),
        "can_add_person": bool(grantable_roles(request.user, area)),
    }
    if area.kind == Area.Kind.BUILDING:
        # Counts for everyone who may browse; the flats only for household roles.
        context["totals"] = queries.count_under([area])[area.pk]
        context["households"] = households = list(queries.building_households(scope, area))
        context["full_phone"] = bool(households) and scope.sees_full_phone(households[0])
    else:
        context["children"] = queries.summarize(area.children.all())
        context["totals"] = queries.total(context["children"])
    if area.kind == Area.Kind.COMPOUND:
        context["gates"] = list(area.gates.select_related("building").order_by("kind", "name"))
        context["can_edit_gates"] = scope.can_edit_area(area)
    return render(request, "areas/area_detail.html", context)


def _gate_form(request: HttpRequest, gate: Gate) -> HttpResponse:
    if not scope_for(request.user).can_edit_area(gate.compound):
        raise NotAllowed()
    form = GateForm(request.POST or None, instance=gate)
    if form.is_valid() and _save_through(form, services.gate_save, "gate", request.user):
        messages.success(request, _("Place saved."))
        return redirect("areas:detail", pk=gate.compound_id)
    return render(request, "areas/gate_form.html", {"gate": gate, "form": form})


@require_http_methods(["GET", "POST"])
@login_required
@domain_errors
def gate_add(request: HttpRequest, pk: int) -> HttpResponse:
    """Add a gate, pick-up point, transfer point or temporary storage to a compound."""
    compound = scope_for(request.user).area(pk)
    if compound.kind != Area.Kind.COMPOUND:
        raise NotFound()
    return _gate_form(request, Gate(compound=compound))


@require_http_methods(["GET", "POST"])
@login_required
@domain_errors
def gate_edit(request: HttpRequest, pk: int) -> HttpResponse:
    scope = scope_for(request.user)
    try:
        gate = Gate.objects.select_related("compound").get(
            pk=pk, compound__in=scope.areas().filter(kind=Area.Kind.COMPOUND)
        )
    except Gate.DoesNotExist:
        raise NotFound() from None
    return _gate_form(request, gate)


# --- households ----------------------------------------------------------------------


@require_GET
@login_required
@domain_errors
def household_search(request: HttpRequest) -> HttpResponse:
    """Find a household by building, entrance, room or phone, within the user's scope."""
    scope = scope_for(request.user)
    scope.require(HOUSEHOLD_ROLES)
    compounds = scope.areas(HOUSEHOLD_ROLES).filter(kind=Area.Kind.COMPOUND).order_by("name")
    form = HouseholdSearchForm(request.GET or None, compounds=compounds)
    page = None
    if form.is_valid() and (criteria := form.criteria()):
        paginator = Paginator(queries.household_search(scope, criteria), SEARCH_PAGE_SIZE)
        page = paginator.get_page(request.GET.get("page"))
        for household in page.object_list:
            household.shown_phone = (
                household.phone if scope.sees_full_phone(household) else household.masked_phone
            )
    query = request.GET.copy()
    query.pop("page", None)
    template = "areas/_household_search.html" if is_htmx(request) else "areas/household_search.html"
    return render(
        request,
        template,
        {"form": form, "page": page, "query": query.urlencode(), "searched": form.is_bound},
    )


@require_GET
@login_required
@domain_errors
def household_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """A household: address, people, containment and who changed what."""
    scope = scope_for(request.user)
    household = _staff_household(scope, pk)
    full_phone = scope.sees_full_phone(household)
    special_care = queries.sees_special_care(scope, household)
    return render(
        request,
        "areas/household_detail.html",
        {
            "household": household,
            "breadcrumbs": [*queries.breadcrumbs(scope, household.building), household.building],
            "residents": queries.residents_of(household),
            "full_phone": full_phone,
            "special_care": special_care,
            "can_edit": scope.can_edit_area(household.building),
            "history": queries.household_history(
                household, full_phone=full_phone, special_care=special_care
            ),
        },
    )


@require_http_methods(["GET", "POST"])
@login_required
@domain_errors
def household_edit(request: HttpRequest, pk: int) -> HttpResponse:
    household = _editable_household(scope_for(request.user), pk)
    form = HouseholdForm(request.POST or None, instance=household)
    if form.is_valid() and _save_through(form, services.household_save, "household", request.user):
        messages.success(request, _("Household saved."))
        return redirect("areas:household_detail", pk=household.pk)
    return render(request, "areas/household_form.html", {"household": household, "form": form})


@require_http_methods(["GET", "POST"])
@login_required
@domain_errors
def resident_add(request: HttpRequest, pk: int) -> HttpResponse:
    scope = scope_for(request.user)
    household = _editable_household(scope, pk)
    form = ResidentForm(
        request.POST or None,
        instance=Resident(household=household),
        special_care=queries.sees_special_care(scope, household),
    )
    if form.is_valid() and _save_through(form, services.resident_save, "resident", request.user):
        messages.success(request, _("Resident added."))
        return redirect("areas:household_detail", pk=household.pk)
    return render(request, "areas/resident_form.html", {"household": household, "form": form})


@require_http_methods(["GET", "POST"])
@login_required
@domain_errors
def resident_edit(request: HttpRequest, pk: int) -> HttpResponse:
    scope = scope_for(request.user)
    resident = _editable_resident(scope, pk)
    household = resident.household
    form = ResidentForm(
        request.POST or None,
        instance=resident,
        special_care=queries.sees_special_care(scope, household),
    )
    if form.is_valid() and _save_through(form, services.resident_save, "resident", request.user):
        messages.success(request, _("Resident saved."))
        return redirect("areas:household_detail", pk=household.pk)
    return render(
        request,
        "areas/resident_form.html",
        {"household": household, "resident": resident, "form": form},
    )


@require_http_methods(["GET", "POST"])
@login_required
@domain_errors
def resident_delete(request: HttpRequest, pk: int) -> HttpResponse:
    """Ask first (GET), remove on POST."""
    resident = _editable_resident(scope_for(request.user), pk)
    household = resident.household
    if request.method == "POST":
        services.resident_delete(resident=resident, by=request.user)
        messages.success(request, _("Resident removed."))
        return redirect("areas:household_detail", pk=household.pk)
    return render(
        request,
        "areas/resident_confirm_delete.html",
        {"household": household, "resident": resident},
    )


# --- residents -----------------------------------------------------------------------


@require_GET
@login_required
@domain_errors
def my_household(request: HttpRequest) -> HttpResponse:
    """A resident's own household: address, people with full phones, containment."""
    scope = scope_for(request.user)
    scope.require(frozenset({Role.RESIDENT}))
    households = (
        scope.households(frozenset({Role.RESIDENT}))
        .select_related("building", "compound")
        .prefetch_related("residents")
    )
    return render(request, "areas/my_household.html", {"households": households})
