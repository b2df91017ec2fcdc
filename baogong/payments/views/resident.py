"""The resident's payment page: the amount, the supplier's collection QR code, "I have paid"."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Q
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from baogong.accounts.scoping import scope_for
from baogong.core.errors import Conflict, InvalidInput
from baogong.core.http import domain_errors
from baogong.orders.models import Order
from baogong.payments import access, services
from baogong.payments.forms import PaymentReportForm
from baogong.payments.models import Payment
from baogong.payments.queries import order_money
from baogong.payments.views.common import order_for
from baogong.supply.models import Supplier
from baogong.supply.queries import suppliers_visible_to


@require_http_methods(["GET", "POST"])
@login_required
@domain_errors
def order_pay(request: HttpRequest, pk: int) -> HttpResponse:
    order = order_for(request.user, pk, access.is_household_of)
    form = PaymentReportForm(request.POST or None)
    refusal = ""
    if request.method == "POST" and form.is_valid():
        try:
            services.payment_report(order=order, by=request.user, **form.cleaned_data)
        except (InvalidInput, Conflict) as error:
            refusal = error.message
        else:
            messages.success(
                request, _("Thank you. The supplier or your liaison will confirm your payment.")
            )
            return redirect("payments:order_pay", pk=order.pk)
    context = {
        "order": order,
        "money": order_money(order),
        "form": form,
        "refusal": refusal,
        "payments": order.payments.exclude(state=Payment.State.REJECTED),
        "rejected": order.payments.filter(state=Payment.State.REJECTED).exists(),
        "payable": order.state == Order.State.PLACED,
    }
    return render(request, "payments/order_pay.html", context)


@require_GET
@login_required
def supplier_qr_image(request: HttpRequest, pk: int) -> HttpResponse:
    """The supplier's collection QR image, to those who pay it or may see the supplier."""
    scope = scope_for(request.user)
    payer = Q(rounds__orders__household_id__in=scope.household_ids)
    visible = Supplier.objects.filter(
        Q(pk__in=suppliers_visible_to(request.user).values("pk")) | payer
    )
    supplier = visible.filter(pk=pk).distinct().first()
    if supplier is None or not supplier.payment_qr:
        raise Http404
    try:
        handle = supplier.payment_qr.open("rb")
    except OSError:
        raise Http404 from None
    response = FileResponse(handle, content_type="image/png")
    response["Cache-Control"] = "private, max-age=300"
    return response
