"""Stock on hand, the distribution ledger with its trace back, and settlements."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.dateparse import parse_date
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from baogong.accounts.scoping import HOUSEHOLD_ROLES, scope_for
from baogong.areas.models import Area
from baogong.core.errors import Conflict, InvalidInput, NotAllowed
from baogong.core.http import domain_errors, form_key, new_form_key
from baogong.requisitions import documents, ledger, prices, queries
from baogong.requisitions.access import RECEIVE_ROLES, SETTLE_ROLES, VIEW_ROLES, reaches
from baogong.requisitions.models import AllocationOrder, Settlement
from baogong.requisitions.views.common import field, require_viewer, visible

PAGE_SIZE = 25
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@require_GET
@login_required
@domain_errors
def stock_list(request: HttpRequest) -> HttpResponse:
    """Goods on hand per holder and lot, and the latest distribution records."""
    scope = scope_for(request.user)
    if not scope.has_any(VIEW_ROLES):
        raise NotAllowed()
    stocks = queries.stocks_for(scope)
    if request.GET.get("all") != "1":
        stocks = stocks.filter(on_hand__gt=0)
    stocks = list(stocks[:200])
    for stock in stocks:
        stock.can_hand_out = reaches(scope, RECEIVE_ROLES, stock.holder)
    entries = Paginator(queries.distributions_for(scope), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "requisitions/stock_list.html",
        {
            "stocks": stocks,
            "page": entries,
            "show_all": request.GET.get("all") == "1",
        },
    )


@require_http_methods(["GET", "POST"])
@login_required
@domain_errors
def distribute(request: HttpRequest, pk: int) -> HttpResponse:
    """Hand goods of one lot to a community or compound below, a household or a resident."""
    scope = scope_for(request.user)
    stock = visible(queries.stocks_for(scope), pk)
    holder = stock.holder
    if not reaches(scope, RECEIVE_ROLES, holder):
        raise NotAllowed()
    areas = (
        Area.objects.filter(
            path__startswith=holder.path, kind__in=(Area.Kind.COMMUNITY, Area.Kind.COMPOUND)
        )
        .exclude(pk=holder.pk)
        .order_by("path")
    )
    compound = None
    if request.GET.get("compound") or request.POST.get("compound"):
        compound = visible(
            areas.filter(kind=Area.Kind.COMPOUND),
            request.GET.get("compound") or request.POST.get("compound"),
        )
    households = (
        scope.households(HOUSEHOLD_ROLES)
        .filter(compound=compound)
        .select_related("building")
        .order_by("building__name", "unit", "room")
        if compound
        else None
    )
    residents = (
        scope.residents(HOUSEHOLD_ROLES)
        .filter(special_group=True, household__building__path__startswith=holder.path)
        .select_related("household", "household__building")
    )
    error = None
    if request.method == "POST":
        target = {}
        try:
            kind = request.POST.get("to")
            if kind == "area":
                target["to_area"] = visible(areas, request.POST.get("area"))
            elif kind == "household" and households is not None:
                target["to_household"] = visible(households, request.POST.get("household"))
            elif kind == "resident":
                target["to_resident"] = visible(residents, request.POST.get("resident"))
            else:
                raise InvalidInput(_("Choose one recipient: an area, a household or a resident."))
            ledger.distribute(
                stock=stock,
                quantity=field(request, "quantity"),
                by=request.user,
                note=field(request, "note"),
                request_key=form_key(request),
                **target,
            )
        except (InvalidInput, Conflict) as refusal:
            error = (
                refusal.message
                if refusal.code != "not_found"
                else _("Choose a recipient from the list.")
            )
        else:
            messages.success(request, _("Distribution recorded."))
            return redirect("requisitions:stock_list")
    return render(
        request,
        "requisitions/distribute.html",
        {
            "stock": stock,
            "areas": areas,
            "compound": compound,
            "households": households,
            "residents": residents[:200],
            "error": error,
            "posted": request.POST,
            "request_key": new_form_key(request),
            "compounds": areas.filter(kind=Area.Kind.COMPOUND),
        },
        status=422 if error else 200,
    )


@require_GET
@login_required
@domain_errors
def distribution_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """One distribution line, traced back to its receipt, allocation order and requisitions."""
    scope = scope_for(request.user)
    if not scope.has_any(VIEW_ROLES):
        raise NotAllowed()
    entry = visible(queries.distributions_for(scope), pk)
    return render(
        request,
        "requisitions/distribution_detail.html",
        {
            "entry": entry,
            "trace": queries.trace_back(entry),
        },
    )


# --- settlements -----------------------------------------------------------------------


@require_GET
@login_required
@domain_errors
def settlement_list(request: HttpRequest) -> HttpResponse:
    scope = scope_for(request.user)
    require_viewer(scope)
    settlements = queries.settlements_for(scope)
    state = request.GET.get("state", "")
    if state == "overdue":
        settlements = settlements.filter(
            state=Settlement.State.OPEN, due_on__lt=timezone.localdate()
        )
    elif state in Settlement.State.values:
        settlements = settlements.filter(state=state)
    page = Paginator(settlements, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "requisitions/settlement_list.html",
        {
            "page": page,
            "state": state,
            "query": f"state={state}" if state else "",
        },
    )


@require_http_methods(["GET", "POST"])
@login_required
@domain_errors
def settlement_create(request: HttpRequest, pk: int) -> HttpResponse:
    """Start settling a received order: the allocation day's market price per line, sourced."""
    scope = scope_for(request.user)
    order = visible(queries.allocations_for(scope), pk)
    if not reaches(scope, SETTLE_ROLES, order.payer):
        raise NotAllowed()
    lines = [
        {
            "line": line,
            "received": ledger.accepted_so_far(line),
            "known": prices.market_price(
                line.item, line.unit, order.allocation_date, order.request.street.parent
            ),
        }
        for line in order.lines.all()
    ]
    error = None
    if request.method == "POST":
        try:
            settlement = ledger.settlement_start(
                order=order,
                by=request.user,
                started_on=parse_date(field(request, "started_on")) or None,
                prices={
                    row["line"].pk: ledger.PriceSpec(
                        field(request, f"price-{row['line'].pk}"),
                        field(request, f"source-{row['line'].pk}"),
                    )
                    for row in lines
                },
            )
        except (InvalidInput, Conflict) as refusal:
            error = refusal.message
        else:
            messages.success(
                request, _("Settlement %(number)s started.") % {"number": settlement.number}
            )
            return redirect("requisitions:settlement_detail", settlement.pk)
    return render(
        request,
        "requisitions/settlement_form.html",
        {
            "order": order,
            "lines": lines,
            "error": error,
            "posted": request.POST,
            "today": timezone.localdate(),
            "open": order.state == AllocationOrder.State.RECEIVED
            and not Settlement.objects.filter(order=order).exists(),
        },
        status=422 if error else 200,
    )


@require_GET
@login_required
@domain_errors
def settlement_detail(request: HttpRequest, pk: int) -> HttpResponse:
    scope = scope_for(request.user)
    require_viewer(scope)
    settlement = visible(queries.settlements_for(scope), pk)
    return render(
        request,
        "requisitions/settlement_detail.html",
        {
            "settlement": settlement,
            "lines": settlement.lines.select_related("allocation_line"),
            "can_pay": settlement.state == Settlement.State.OPEN
            and reaches(scope, SETTLE_ROLES, settlement.order.payer),
            "today": timezone.localdate(),
        },
    )


@require_GET
@login_required
@domain_errors
def settlement_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    scope = scope_for(request.user)
    require_viewer(scope)
    settlement = visible(queries.settlements_for(scope), pk)
    response = HttpResponse(documents.settlement_pdf(settlement), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{settlement.number}.pdf"'
    return response


@require_GET
@login_required
@domain_errors
def settlement_xlsx(request: HttpRequest, pk: int) -> HttpResponse:
    scope = scope_for(request.user)
    require_viewer(scope)
    settlement = visible(queries.settlements_for(scope), pk)
    response = HttpResponse(documents.settlement_workbook(settlement), content_type=XLSX)
    response["Content-Disposition"] = f'attachment; filename="{settlement.number}.xlsx"'
    return response


@require_POST
@login_required
@domain_errors
def settlement_pay(request: HttpRequest, pk: int) -> HttpResponse:
    scope = scope_for(request.user)
    settlement = visible(queries.settlements_for(scope), pk)
    try:
        ledger.settlement_pay(
            settlement=settlement,
            by=request.user,
            reference=field(request, "reference"),
            paid_on=parse_date(field(request, "paid_on")) or timezone.localdate(),
        )
        messages.success(request, _("Payment recorded."))
    except (InvalidInput, Conflict) as refusal:
        messages.error(request, refusal.message)
    return redirect("requisitions:settlement_detail", settlement.pk)
