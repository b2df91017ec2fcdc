"""Pages of the supplier and the liaison: who paid, confirm or reject, record, waive, refund.

Each view: scoped lookup (views/common.py) → service → render. Refusals of the
services are shown on the page (role=alert); NotFound → 404, NotAllowed → 403.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from baogong.accounts.scoping import ROUND_ROLES, scope_for
from baogong.core.errors import Conflict, DomainError, InvalidInput, NotAllowed, NotFound
from baogong.core.http import domain_errors, is_htmx
from baogong.orders import queries as order_queries
from baogong.orders.models import Order, Round, RoundArea
from baogong.payments import access, queries, services
from baogong.payments.forms import ConfirmForm, PaymentRecordForm, RefundForm, WaiverForm
from baogong.payments.models import Payment, Refund
from baogong.payments.views.common import collect_round, may_see_order_money, order_for
from baogong.supply.models import Supplier

PAGE_SIZE = 100
FILTER_LABELS = {
    "": gettext_lazy("All"),
    "unpaid": gettext_lazy("Unpaid"),
    "claimed": gettext_lazy("To confirm"),
    "paid": gettext_lazy("Paid"),
    "waived": gettext_lazy("Waived"),
    "dropped": gettext_lazy("Dropped"),
}


@require_GET
@login_required
@domain_errors
def payments_home(request: HttpRequest) -> HttpResponse:
    """Where collecting starts: the rounds whose money the user handles, and the supplier's
    statements and payment code."""
    scope = scope_for(request.user)
    if not (scope.has_any(ROUND_ROLES) or scope.supplier_ids):
        raise NotAllowed()
    rounds = order_queries.round_list_rows(
        order_queries.rounds_for(scope).exclude(state=Round.State.DRAFT)
    )
    if not scope.superuser:
        rounds = rounds.filter(
            Q(supplier_id__in=scope.supplier_ids)
            | Q(pk__in=_round_ids_under(scope.paths_for(ROUND_ROLES)))
        )
    page = Paginator(rounds, 30).get_page(request.GET.get("page"))
    suppliers = Supplier.objects.filter(pk__in=scope.supplier_ids).order_by("name")
    return render(request, "payments/home.html", {"page": page, "suppliers": suppliers})


def _round_ids_under(paths: list[str]) -> Any:
    """Rounds serving a compound (or community) that meets one of these staff nodes."""
    meets = Q(pk__in=[])
    for path in paths:
        meets |= Q(area__path__startswith=path)
        meets |= Q(area__path__in=order_queries.path_prefixes(path))
    return RoundArea.objects.filter(meets).values("round_id")


@require_GET
@login_required
@domain_errors
def round_payments(request: HttpRequest, pk: int) -> HttpResponse:
    """The round's orders with their money, filtered by payment state, with the actions."""
    round_, compounds = collect_round(request.user, pk)
    which = request.GET.get("show", "")
    which = which if which in queries.FILTERS else ""
    orders = queries.round_money_orders(round_, compounds)
    counts = {key: orders.filter(q).count() for key, q in queries.FILTERS.items()}
    counts[""] = orders.count()
    filters = [(key, label, counts[key]) for key, label in FILTER_LABELS.items()]
    rows = queries.payment_rows(orders, which)
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "round": round_,
        "filters": filters,
        "which": which,
        "page": page,
        "query": f"show={which}" if which else "",
        "report": queries.round_money_report(round_, compounds).total,
        "is_supplier": access.is_supplier_of(request.user, round_),
    }
    return render(request, "payments/round_payments.html", context)


def _row(request: HttpRequest, order: Order) -> HttpResponse:
    row = queries.payment_rows(Order.objects.filter(pk=order.pk))[0]
    return render(request, "payments/payment_row.html", {"order": row})


@require_POST
@login_required
@domain_errors
def payment_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    """Confirm (optionally at another amount) or reject a reported payment."""
    payment = Payment.objects.select_related("order").filter(pk=pk).first()
    if payment is None or action not in ("confirm", "reject"):
        raise NotFound()
    order = order_for(request.user, payment.order_id, access.may_collect)
    form = ConfirmForm(request.POST)
    try:
        if action == "confirm":
            form.is_valid()
            services.payment_confirm(
                payment=payment, by=request.user, amount=form.cleaned_data.get("amount")
            )
        else:
            services.payment_reject(
                payment=payment, by=request.user, reason=request.POST.get("reason", "")
            )
    except (InvalidInput, Conflict) as error:
        messages.error(request, error.message)
    if is_htmx(request):
        return _row(request, order)
    return redirect(request.POST.get("next") or reverse("payments:order_detail", args=[order.pk]))


@require_GET
@login_required
@domain_errors
def order_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """One order's money: what is due, every payment, waiver and refund, and the actions."""
    order = order_for(request.user, pk, may_see_order_money)
    context = {
        "order": order,
        "money": queries.order_money(order),
        "ledger": queries.order_ledger(order),
        "may_collect": access.may_collect(request.user, order),
        "may_waive": access.may_waive(request.user, order),
        "may_take_cash": access.may_take_cash(request.user, order),
    }
    return render(request, "payments/order_detail.html", context)


def _form_page(
    request: HttpRequest, order: Order, form: Any, *, title: str, call: Any, done: str
) -> HttpResponse:
    """Run `call(**cleaned_data)` for a valid posted form; show its refusal on the form."""
    if request.method == "POST" and form.is_valid():
        try:
            call(**form.cleaned_data)
        except (InvalidInput, Conflict) as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, done)
            return redirect("payments:order_detail", pk=order.pk)
    context = {"order": order, "form": form, "title": title, "money": queries.order_money(order)}
    return render(request, "payments/order_form.html", context)


@require_http_methods(["GET", "POST"])
@login_required
@domain_errors
def payment_record(request: HttpRequest, pk: int) -> HttpResponse:
    order = order_for(request.user, pk, access.may_take_cash)
    return _form_page(
        request,
        order,
        PaymentRecordForm(request.POST or None),
        title=_("Record a payment"),
        call=lambda **data: services.payment_record(order=order, by=request.user, **data),
        done=_("Payment recorded."),
    )


@require_http_methods(["GET", "POST"])
@login_required
@domain_errors
def waiver_grant(request: HttpRequest, pk: int) -> HttpResponse:
    order = order_for(request.user, pk, access.may_waive)
    return _form_page(
        request,
        order,
        WaiverForm(request.POST or None),
        title=_("Waive or subsidise"),
        call=lambda **data: services.waiver_grant(order=order, by=request.user, **data),
        done=_("Waiver granted."),
    )


@require_http_methods(["GET", "POST"])
@login_required
@domain_errors
def refund_issue(request: HttpRequest, pk: int) -> HttpResponse:
    order = order_for(request.user, pk, access.may_collect)
    return _form_page(
        request,
        order,
        RefundForm(request.POST or None),
        title=_("Refund or credit note"),
        call=lambda **data: services.refund_issue(order=order, by=request.user, **data),
        done=_("Refund issued; the household is told."),
    )


@require_POST
@login_required
@domain_errors
def refund_complete(request: HttpRequest, pk: int) -> HttpResponse:
    refund = Refund.objects.filter(pk=pk).first()
    if refund is None:
        raise NotFound()
    order = order_for(request.user, refund.order_id, access.may_collect)
    try:
        services.refund_complete(refund=refund, by=request.user)
    except DomainError as error:
        messages.error(request, error.message)
    return redirect("payments:order_detail", pk=order.pk)
