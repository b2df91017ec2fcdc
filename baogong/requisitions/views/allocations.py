"""Allocation orders: issue (bureau), confirm (enterprise), print, verify, receive."""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from baogong.accounts.scoping import scope_for
from baogong.core.errors import Conflict, InvalidInput, NotAllowed
from baogong.core.http import domain_errors, form_key, new_form_key
from baogong.requisitions import documents, ledger, queries, services
from baogong.requisitions.access import BUREAU_ROLES, RECEIVE_ROLES, SETTLE_ROLES, reaches
from baogong.requisitions.models import AllocationOrder, Settlement, StreetRequest
from baogong.requisitions.views.common import field, require_viewer, visible
from baogong.supply.models import Supplier

PAGE_SIZE = 25


def _aware(value: str) -> dt.datetime | None:
    moment = parse_datetime(value) if value else None
    if moment is not None and timezone.is_naive(moment):
        moment = timezone.make_aware(moment)
    return moment


@require_http_methods(["GET", "POST"])
@login_required
@domain_errors
def allocation_create(request: HttpRequest, pk: int) -> HttpResponse:
    """The bureau issues an allocation order to a supply enterprise for approved lines."""
    scope = scope_for(request.user)
    street_request = visible(queries.requests_for(scope), pk)
    if not reaches(scope, BUREAU_ROLES, street_request.street):
        raise NotAllowed()
    suppliers = Supplier.objects.filter(is_active=True).order_by("-kind", "name")
    places = [street_request.street, *street_request.street.children.order_by("name")]
    lines = []
    for line in street_request.lines.all():
        remaining = (line.bureau_quantity or 0) - services.allocated_so_far(line)
        lines.append(
            {
                "line": line,
                "remaining": remaining,
                "quantity": request.POST.get(f"quantity-{line.pk}", f"{remaining.normalize():f}"),
                "price": request.POST.get(f"price-{line.pk}", ""),
            }
        )
    error = None
    if request.method == "POST":
        try:
            supplier = visible(suppliers, request.POST.get("supplier"))
            place = next(
                (a for a in places if str(a.pk) == request.POST.get("delivery_area")), None
            )
            delivery_at = _aware(field(request, "delivery_at"))
            if place is None or delivery_at is None:
                raise InvalidInput(_("Choose where and when the goods are delivered."))
            order = services.allocation_issue(
                request=street_request,
                supplier=supplier,
                lines={
                    row["line"].pk: services.AllocationSpec(
                        field(request, f"quantity-{row['line'].pk}"),
                        field(request, f"price-{row['line'].pk}"),
                    )
                    for row in lines
                },
                delivery_area=place,
                delivery_place=field(request, "delivery_place"),
                delivery_at=delivery_at,
                contact_name=field(request, "contact_name"),
                contact_phone=field(request, "contact_phone"),
                by=request.user,
                allocation_date=parse_date(field(request, "allocation_date")) or None,
            )
        except (InvalidInput, Conflict) as refusal:
            error = refusal.message
        else:
            messages.success(
                request, _("Allocation order %(number)s issued.") % {"number": order.number}
            )
            return redirect("requisitions:allocation_detail", order.pk)
    return render(
        request,
        "requisitions/allocation_form.html",
        {
            "street_request": street_request,
            "suppliers": suppliers,
            "places": places,
            "lines": lines,
            "error": error,
            "posted": request.POST,
            "today": timezone.localdate(),
            "open": street_request.state
            in (StreetRequest.State.APPROVED, StreetRequest.State.ALLOCATED),
        },
        status=422 if error else 200,
    )


@require_GET
@login_required
@domain_errors
def allocation_list(request: HttpRequest) -> HttpResponse:
    """Allocation orders the user sees: the enterprise's own, or those of their area."""
    scope = scope_for(request.user)
    require_viewer(scope)
    state = request.GET.get("state", "")
    orders = queries.allocations_for(scope)
    if state in AllocationOrder.State.values:
        orders = orders.filter(state=state)
    page = Paginator(orders, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "requisitions/allocation_list.html",
        {
            "page": page,
            "state": state,
            "states": AllocationOrder.State.choices,
            "query": f"state={state}" if state else "",
        },
    )


@require_GET
@login_required
@domain_errors
def allocation_detail(request: HttpRequest, pk: int) -> HttpResponse:
    scope = scope_for(request.user)
    require_viewer(scope)
    order = visible(queries.allocations_for(scope), pk)
    settlement = Settlement.objects.filter(order=order).first()
    return render(
        request,
        "requisitions/allocation_detail.html",
        {
            "order": order,
            "lines": order.lines.select_related("request_line"),
            "receipts": order.receipts.prefetch_related("lines__allocation_line").select_related(
                "received_by"
            ),
            "settlement": settlement,
            "can_confirm": order.state == AllocationOrder.State.ISSUED
            and (scope.superuser or order.supplier_id in scope.supplier_ids),
            "can_cancel": order.state
            in (AllocationOrder.State.ISSUED, AllocationOrder.State.CONFIRMED)
            and reaches(scope, BUREAU_ROLES, order.request.street),
            "can_receive": order.state
            in (AllocationOrder.State.CONFIRMED, AllocationOrder.State.RECEIVED)
            and reaches(scope, RECEIVE_ROLES, order.delivery_area),
            "can_settle": order.state == AllocationOrder.State.RECEIVED
            and settlement is None
            and reaches(scope, SETTLE_ROLES, order.payer),
        },
    )


@require_http_methods(["GET", "POST"])
@login_required
@domain_errors
def allocation_confirm(request: HttpRequest, pk: int) -> HttpResponse:
    """The enterprise confirms each line or says what it cannot supply and why."""
    scope = scope_for(request.user)
    order = visible(queries.allocations_for(scope), pk)
    if not (scope.superuser or order.supplier_id in scope.supplier_ids):
        raise NotAllowed()
    lines = list(order.lines.all())
    error = None
    if request.method == "POST":
        try:
            services.allocation_confirm(
                order=order,
                by=request.user,
                lines={
                    line.pk: services.Confirmation(
                        field(request, f"quantity-{line.pk}"), field(request, f"reason-{line.pk}")
                    )
                    for line in lines
                },
            )
        except (InvalidInput, Conflict) as refusal:
            error = refusal.message
        else:
            messages.success(request, _("Confirmed."))
            return redirect("requisitions:allocation_detail", order.pk)
    return render(
        request,
        "requisitions/allocation_confirm.html",
        {
            "order": order,
            "lines": lines,
            "error": error,
            "posted": request.POST,
            "open": order.state == AllocationOrder.State.ISSUED,
        },
        status=422 if error else 200,
    )


@require_POST
@login_required
@domain_errors
def allocation_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    scope = scope_for(request.user)
    order = visible(queries.allocations_for(scope), pk)
    try:
        services.allocation_cancel(order=order, by=request.user, reason=field(request, "reason"))
        messages.success(request, _("Allocation order cancelled."))
    except (InvalidInput, Conflict) as refusal:
        messages.error(request, refusal.message)
    return redirect("requisitions:allocation_detail", order.pk)


@require_GET
@login_required
@domain_errors
def allocation_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    scope = scope_for(request.user)
    require_viewer(scope)
    order = visible(queries.allocations_for(scope), pk)
    url = request.build_absolute_uri(
        reverse("requisitions:allocation_verify", args=[order.verify_token])
    )
    response = HttpResponse(documents.allocation_pdf(order, url), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{order.number}.pdf"'
    return response


@require_GET
def allocation_verify(request: HttpRequest, token: str) -> HttpResponse:
    """Public: whoever scans the QR learns the number, validity and issuer — nothing else."""
    order = get_object_or_404(
        AllocationOrder.objects.select_related("request__street__parent"), verify_token=token
    )
    return render(
        request,
        "requisitions/allocation_verify.html",
        {
            "order": order,
            "valid": order.state != AllocationOrder.State.CANCELLED,
            "district": order.request.street.parent,
        },
    )


@require_http_methods(["GET", "POST"])
@login_required
@domain_errors
def receipt_create(request: HttpRequest, pk: int) -> HttpResponse:
    """The receiving team records what arrived per line: delivered, damaged, rejected, why."""
    scope = scope_for(request.user)
    order = visible(queries.allocations_for(scope), pk)
    if not reaches(scope, RECEIVE_ROLES, order.delivery_area):
        raise NotAllowed()
    lines = [
        {
            "line": line,
            "before": ledger.received_so_far(line),
            **{
                k: request.POST.get(f"{k}-{line.pk}", "")
                for k in ("delivered", "damaged", "rejected", "reason", "over")
            },
        }
        for line in order.lines.all()
    ]
    error = None
    if request.method == "POST":
        specs = {}
        for row in lines:
            pk_ = row["line"].pk
            if field(request, f"delivered-{pk_}"):
                specs[pk_] = ledger.ReceiptSpec(
                    delivered=field(request, f"delivered-{pk_}"),
                    damaged=field(request, f"damaged-{pk_}") or 0,
                    rejected=field(request, f"rejected-{pk_}") or 0,
                    reason=field(request, f"reason-{pk_}"),
                    over_receipt_reason=field(request, f"over-{pk_}"),
                )
        try:
            ledger.receipt_record(
                order=order,
                lines=specs,
                by=request.user,
                note=field(request, "note"),
                request_key=form_key(request),
            )
        except (InvalidInput, Conflict) as refusal:
            error = refusal.message
        else:
            messages.success(request, _("Receipt recorded; the goods are now on hand."))
            return redirect("requisitions:allocation_detail", order.pk)
    return render(
        request,
        "requisitions/receipt_form.html",
        {
            "order": order,
            "lines": lines,
            "error": error,
            "posted": request.POST,
            "request_key": new_form_key(request),
            "open": order.state
            in (AllocationOrder.State.CONFIRMED, AllocationOrder.State.RECEIVED),
        },
        status=422 if error else 200,
    )
