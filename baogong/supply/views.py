"""Supplier pages: the list, a supplier's page, its outlets and catalog, and assignments.

Each view: parse → scoped lookup (queries over scope_for) → service → render.
Domain errors become HTTP answers in one place (`domain_errors`): NotFound → 404,
NotAllowed → 403; a refused change (InvalidInput) is shown on the form.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core import signing
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from baogong.accounts.scoping import BROWSE_ROLES, scope_for
from baogong.core.errors import InvalidInput, NotAllowed
from baogong.core.http import domain_errors, is_htmx
from baogong.core.phones import mask_phone
from baogong.supply import importer, queries, services
from baogong.supply.forms import (
    AssignmentForm,
    AssignmentImportForm,
    LineFormSet,
    OutletForm,
    PackageForm,
    SupplierFilterForm,
    SupplierForm,
    line_initial,
    with_extra_line,
)
from baogong.supply.models import Package, Supplier, SupplierArea

PAGE_SIZE = 25
IMPORT_MAX_AGE = 3600  # seconds a previewed import may wait for its confirmation
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _require(allowed: bool) -> None:
    if not allowed:
        raise NotAllowed()


def _save(form: Any, call: Callable[[], Any]) -> Any:
    """Run a service for a valid form; put its refusal on the form and return None."""
    try:
        return call()
    except InvalidInput as error:
        form.add_error(None, error.message)
        return None


def _page(request: HttpRequest, items: Any, size: int = PAGE_SIZE) -> Any:
    return Paginator(items, size).get_page(request.GET.get("page"))


def _shown_phone(phone: str, full: bool) -> str:
    return phone if full else mask_phone(phone)


def _may_administer(user: Any) -> bool:
    scope = scope_for(user)
    return scope.superuser or bool(scope.paths_for(services.SUPPLIER_ADMIN_ROLES))


# --- suppliers -------------------------------------------------------------------------


@require_GET
@login_required
@domain_errors
def supplier_list(request: HttpRequest) -> HttpResponse:
    """Staff: the suppliers serving their areas. A supplier's users: their own page."""
    scope = scope_for(request.user)
    staff = scope.has_any(BROWSE_ROLES)
    _require(staff or bool(scope.supplier_ids))
    if not staff and len(scope.supplier_ids) == 1:
        return redirect("supply:supplier_detail", pk=next(iter(scope.supplier_ids)))
    form = SupplierFilterForm(request.GET or None)
    criteria = form.cleaned_data if form.is_valid() else {}
    suppliers = queries.supplier_list(
        request.user, kind=criteria.get("kind", ""), search=criteria.get("q", "").strip()
    )
    page = _page(request, suppliers)
    for supplier in page.object_list:
        supplier.shown_phone = _shown_phone(supplier.contact_phone, staff)
    query = request.GET.copy()
    query.pop("page", None)
    template = "supply/_supplier_results.html" if is_htmx(request) else "supply/supplier_list.html"
    return render(
        request,
        template,
        {
            "form": form,
            "page": page,
            "query": query.urlencode(),
            "full_phone": staff,
            "may_administer": _may_administer(request.user),
        },
    )


@require_GET
@login_required
@domain_errors
def supplier_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """A supplier's facts, outlets, catalog and the areas it serves."""
    supplier = queries.supplier_for(request.user, pk)
    scope = scope_for(request.user)
    may_manage = services.may_manage_supplier(request.user, supplier)
    full_phone = scope.has_any(BROWSE_ROLES) or supplier.pk in scope.supplier_ids
    outlets = list(queries.outlets_of(supplier))
    for outlet in outlets:
        outlet.shown_phone = _shown_phone(outlet.phone, full_phone)
    return render(
        request,
        "supply/supplier_detail.html",
        {
            "supplier": supplier,
            "contact_phone": _shown_phone(supplier.contact_phone, full_phone),
            "outlets": outlets,
            "packages": queries.packages_of(supplier),
            "assignments": queries.areas_served(supplier),
            "full_phone": full_phone,
            "may_manage": may_manage,
            "may_edit": may_manage or supplier.pk in scope.supplier_ids,
            "may_edit_catalog": services.may_edit_catalog(request.user, supplier),
        },
    )


@require_http_methods(["GET", "POST"])
@login_required
@domain_errors
def supplier_create(request: HttpRequest) -> HttpResponse:
    """Street office staff register a supplier for an area of theirs."""
    _require(_may_administer(request.user))
    form = SupplierForm(request.POST or None, areas=queries.assignable_areas(request.user))
    if form.is_valid():
        supplier = _save(
            form,
            lambda: services.supplier_create(
                area=form.cleaned_data["area"], by=request.user, **form.values()
            ),
        )
        if supplier is not None:
            messages.success(request, _("Supplier registered."))
            return redirect("supply:supplier_detail", pk=supplier.pk)
    return render(request, "supply/supplier_form.html", {"form": form})


@require_http_methods(["GET", "POST"])
@login_required
@domain_errors
def supplier_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """Staff who manage it edit everything; its own users edit contact and capability."""
    supplier = queries.supplier_for(request.user, pk)
    may_manage = services.may_manage_supplier(request.user, supplier)
    _require(may_manage or supplier.pk in scope_for(request.user).supplier_ids)
    form = SupplierForm(request.POST or None, instance=supplier, contact_only=not may_manage)
    if form.is_valid() and _save(
        form, lambda: services.supplier_update(supplier=supplier, by=request.user, **form.values())
    ):
        messages.success(request, _("Supplier saved."))
        return redirect("supply:supplier_detail", pk=supplier.pk)
    return render(request, "supply/supplier_form.html", {"form": form, "supplier": supplier})


# --- outlets ---------------------------------------------------------------------------


def _outlet_page(request: HttpRequest, supplier: Supplier, outlet: Any = None) -> HttpResponse:
    _require(services.may_edit_catalog(request.user, supplier))
    form = OutletForm(
        request.POST or None, instance=outlet, areas=queries.outlet_area_choices(supplier)
    )
    if form.is_valid():
        if outlet is None:
            values = form.values()
            call = functools.partial(
                services.outlet_create,
                supplier=supplier,
                name=values.pop("name"),
                by=request.user,
                **values,
            )
        else:
            call = functools.partial(
                services.outlet_update, outlet=outlet, by=request.user, **form.values()
            )
        if _save(form, call):
            messages.success(request, _("Outlet saved."))
            return redirect("supply:supplier_detail", pk=supplier.pk)
    return render(
        request, "supply/outlet_form.html", {"form": form, "supplier": supplier, "outlet": outlet}
    )


@require_http_methods(["GET", "POST"])
@login_required
@domain_errors
def outlet_create(request: HttpRequest, pk: int) -> HttpResponse:
    return _outlet_page(request, queries.supplier_for(request.user, pk))


@require_http_methods(["GET", "POST"])
@login_required
@domain_errors
def outlet_edit(request: HttpRequest, pk: int) -> HttpResponse:
    outlet = queries.outlet_for(request.user, pk)
    return _outlet_page(request, outlet.supplier, outlet)


# --- catalog ---------------------------------------------------------------------------


@require_GET
@login_required
@domain_errors
def catalog(request: HttpRequest, pk: int) -> HttpResponse:
    """A supplier's packages, in catalog and out, for those who keep them."""
    supplier = queries.supplier_for(request.user, pk)
    _require(services.may_edit_catalog(request.user, supplier))
    packages = list(queries.packages_of(supplier, active_only=False))
    return render(
        request,
        "supply/catalog.html",
        {
            "supplier": supplier,
            "active": [p for p in packages if p.is_active],
            "inactive": [p for p in packages if not p.is_active],
        },
    )


def _package_page(
    request: HttpRequest, supplier: Supplier, package: Package | None
) -> HttpResponse:
    _require(services.may_edit_catalog(request.user, supplier))
    instance = package or Package(supplier=supplier)
    form = PackageForm(request.POST or None, request.FILES or None, instance=instance)
    if request.method == "POST" and "add_line" in request.POST:
        # One more row, nothing saved: the rows as typed (no errors yet), the new one focused.
        lines = LineFormSet(with_extra_line(request.POST), prefix="lines")
        lines.forms[-1].fields["item"].widget.attrs["autofocus"] = True
        context = {
            "lines": lines,
            "supplier": supplier,
            "package": package,
            "added_line": True,
            "form": PackageForm(initial=request.POST.dict(), instance=instance),
        }
        template = "supply/_line_rows.html" if is_htmx(request) else "supply/package_form.html"
        return render(request, template, context)
    lines = LineFormSet(request.POST or None, initial=line_initial(package), prefix="lines")
    if (
        form.is_valid()
        and lines.is_valid()
        and _save(form, lambda: _package_save(request, supplier, package, form, lines))
    ):
        messages.success(request, _("Package saved."))
        return redirect("supply:catalog", pk=supplier.pk)
    return render(
        request,
        "supply/package_form.html",
        {"form": form, "lines": lines, "supplier": supplier, "package": package},
    )


def _package_save(
    request: HttpRequest, supplier: Supplier, package: Package | None, form: PackageForm, lines: Any
) -> Package:
    photo = form.cleaned_data.get("photo") or None
    if package is None:
        values = form.values()
        return services.package_create(
            supplier=supplier,
            name=values.pop("name"),
            price=values.pop("price"),
            lines=lines.lines(),
            photo=photo,
            by=request.user,
            **values,
        )
    return services.package_update(
        package=package,
        lines=lines.lines(),
        photo=photo,
        remove_photo=form.cleaned_data.get("remove_photo", False),
        by=request.user,
        **form.values(),
    )


@require_http_methods(["GET", "POST"])
@login_required
@domain_errors
def package_create(request: HttpRequest, pk: int) -> HttpResponse:
    return _package_page(request, queries.supplier_for(request.user, pk), None)


@require_http_methods(["GET", "POST"])
@login_required
@domain_errors
def package_edit(request: HttpRequest, pk: int) -> HttpResponse:
    package = queries.package_for(request.user, pk)
    return _package_page(request, package.supplier, package)


@require_POST
@login_required
@domain_errors
def package_active(request: HttpRequest, pk: int) -> HttpResponse:
    """Take a package out of the catalog (active=0) or put it back (active=1)."""
    package = queries.package_for(request.user, pk)
    active = request.POST.get("active") == "1"
    service = services.package_reactivate if active else services.package_deactivate
    try:
        service(package=package, by=request.user)
    except InvalidInput as error:
        messages.error(request, error.message)
    else:
        messages.success(
            request,
            _("“%(name)s” is back in the catalog.") % {"name": package.name}
            if active
            else _("“%(name)s” is out of the catalog.") % {"name": package.name},
        )
    return redirect("supply:catalog", pk=package.supplier_id)


@require_GET
@login_required
def package_photo(request: HttpRequest, pk: int) -> HttpResponse:
    """A package's photo: product pictures, shown to anyone signed in (residents shop)."""
    package = Package.objects.filter(pk=pk).only("photo").first()
    if package is None or not package.photo:
        raise Http404
    try:
        handle = package.photo.open("rb")
    except OSError:
        raise Http404 from None
    content_type = "image/png" if package.photo.name.endswith(".png") else "image/jpeg"
    response = FileResponse(handle, content_type=content_type)
    response["Cache-Control"] = "private, max-age=86400"
    return response


# --- assignments -----------------------------------------------------------------------


def _assignment_context(request: HttpRequest, form: AssignmentForm) -> dict[str, Any]:
    return {
        "form": form,
        "partial": is_htmx(request),
        "page": _page(request, queries.assignments_managed_by(request.user), 50),
        "above": queries.assignments_above(request.user),
    }


@require_http_methods(["GET", "POST"])
@login_required
@domain_errors
def assignment_list(request: HttpRequest) -> HttpResponse:
    """Street office staff: assign a supplier to an area of theirs; see and remove them."""
    _require(_may_administer(request.user))
    form = AssignmentForm(request.POST or None, areas=queries.assignable_areas(request.user))
    if form.is_valid():
        supplier, area = form.cleaned_data["supplier"], form.cleaned_data["area"]
        if _save(form, lambda: services.supplier_assign(supplier, area, by=request.user)):
            messages.success(
                request,
                _("%(supplier)s now serves %(area)s.")
                % {"supplier": supplier.name, "area": area.name},
            )
            if not is_htmx(request):
                return redirect("supply:assignments")
            form = AssignmentForm(areas=queries.assignable_areas(request.user))
    template = "supply/_assignments.html" if is_htmx(request) else "supply/assignments.html"
    return render(request, template, _assignment_context(request, form))


@require_POST
@login_required
@domain_errors
def assignment_remove(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        assignment = queries.assignments_managed_by(request.user).get(pk=pk)
    except SupplierArea.DoesNotExist:
        raise Http404 from None
    services.supplier_unassign(assignment.supplier, assignment.area, by=request.user)
    messages.success(
        request,
        _("%(supplier)s no longer serves %(area)s.")
        % {"supplier": assignment.supplier.name, "area": assignment.area.name},
    )
    if is_htmx(request):
        form = AssignmentForm(areas=queries.assignable_areas(request.user))
        return render(request, "supply/_assignments.html", _assignment_context(request, form))
    return redirect("supply:assignments")


def _import_salt(request: HttpRequest) -> str:
    return f"supply.assignment_import.{request.user.pk}"


@require_http_methods(["GET", "POST"])
@login_required
@domain_errors
def assignment_import(request: HttpRequest) -> HttpResponse:
    """Upload → preview (a dry run) → confirm: assignments from a spreadsheet."""
    _require(_may_administer(request.user))
    form = AssignmentImportForm(request.POST or None, request.FILES or None)
    context: dict[str, Any] = {"form": form}
    if "rows" in request.POST:  # the confirmation of a previewed file
        try:
            rows = [
                importer.AssignmentRow.from_list(r)
                for r in signing.loads(
                    request.POST["rows"], salt=_import_salt(request), max_age=IMPORT_MAX_AGE
                )
            ]
        except (signing.BadSignature, TypeError, ValueError):
            messages.error(request, _("The preview has expired; upload the file again."))
            return redirect("supply:assignment_import")
        context["report"] = importer.assignment_import(rows, by=request.user, dry_run=False)
        context["form"] = AssignmentImportForm()
    elif request.method == "POST" and form.is_valid():
        try:
            rows = importer.read_assignments(form.cleaned_data["file"].read())
        except importer.AssignmentFileError as error:
            form.add_error("file", error.message)
        else:
            context["report"] = importer.assignment_import(rows, by=request.user, dry_run=True)
            context["rows"] = signing.dumps(
                [r.as_list() for r in rows], salt=_import_salt(request), compress=True
            )
    return render(request, "supply/assignment_import.html", context)


@require_GET
@login_required
@domain_errors
def assignment_template(request: HttpRequest) -> HttpResponse:
    """An .xlsx to fill in, with example rows from the user's own area."""
    _require(_may_administer(request.user))
    areas = list(queries.assignable_areas(request.user)[:200])
    labels = queries.area_labels(areas)
    suppliers = list(Supplier.objects.filter(is_active=True).values_list("name", flat=True)[:2])
    examples = []
    for area, supplier in zip(
        [a for a in areas if a.kind != "street"][:2] or areas[:1], suppliers, strict=False
    ):
        parts = labels[area.pk].split(" › ")
        examples.append(importer.AssignmentRow(0, supplier, *[*parts, "", "", ""][:3]))
    response = HttpResponse(importer.template_workbook(examples), content_type=XLSX)
    response["Content-Disposition"] = 'attachment; filename="supplier-assignments.xlsx"'
    return response
