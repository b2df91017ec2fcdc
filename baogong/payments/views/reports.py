"""The money report (page and Excel) per round and per supplier, and the supplier's QR upload."""

from __future__ import annotations

import io

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from baogong.accounts.scoping import scope_for
from baogong.core.errors import InvalidInput, NotFound
from baogong.core.http import domain_errors
from baogong.payments import queries, services
from baogong.payments.forms import QrUploadForm
from baogong.payments.money import MoneyTotals
from baogong.payments.views.common import collect_round
from baogong.supply.models import Supplier

COLUMNS = ("orders", "due", "paid", "unpaid", "waived", "refunded", "credit", "received")


def _own_supplier(request: HttpRequest, pk: int) -> Supplier:
    scope = scope_for(request.user)
    supplier = Supplier.objects.filter(pk=pk).first()
    if supplier is None or not (scope.superuser or supplier.pk in scope.supplier_ids):
        raise NotFound()
    return supplier


@require_GET
@login_required
@domain_errors
def money_report(request: HttpRequest, pk: int) -> HttpResponse:
    round_, compounds = collect_round(request.user, pk)
    report = queries.round_money_report(round_, compounds)
    return render(request, "payments/money_report.html", {"round": round_, "report": report})


def _headings() -> list[str]:
    return [
        _("Compound"), _("Orders"), _("Due"), _("Paid"), _("Unpaid"), _("Waived"),
        _("Refunded"), _("To refund"), _("Received"),
    ]  # fmt: skip


@require_GET
@login_required
@domain_errors
def money_report_export(request: HttpRequest, pk: int) -> HttpResponse:
    from openpyxl import Workbook

    round_, compounds = collect_round(request.user, pk)
    report = queries.round_money_report(round_, compounds)
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = _("Money")[:31]
    sheet.append([round_.title])
    sheet.append(_headings())
    for name, row in [*report.rows, (_("Total"), report.total)]:
        sheet.append([name, *(getattr(row, c) for c in COLUMNS)])
    for cells in sheet.iter_rows(min_row=3, min_col=3):
        for cell in cells:
            cell.number_format = "0.00"
    out = io.BytesIO()
    workbook.save(out)
    response = HttpResponse(
        out.getvalue(),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    response["Content-Disposition"] = f'attachment; filename="money-{round_.pk}.xlsx"'
    return response


@require_GET
@login_required
@domain_errors
def supplier_report(request: HttpRequest, pk: int) -> HttpResponse:
    supplier = _own_supplier(request, pk)
    rows = queries.supplier_money_report(supplier.pk)
    total = MoneyTotals()
    for _round, totals in rows:
        total.merge(totals)
    context = {"supplier": supplier, "rows": rows, "total": total}
    return render(request, "payments/supplier_report.html", context)


@require_http_methods(["GET", "POST"])
@login_required
@domain_errors
def supplier_qr(request: HttpRequest, pk: int) -> HttpResponse:
    """The supplier uploads (or removes) the collection QR code residents pay with."""
    supplier = _own_supplier(request, pk)
    form = QrUploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        image = form.cleaned_data["image"]
        if image or form.cleaned_data["remove"]:
            try:
                services.supplier_payment_qr_set(supplier=supplier, upload=image, by=request.user)
            except InvalidInput as error:
                form.add_error("image", error.message)
            else:
                messages.success(request, _("Payment code saved."))
                return redirect("payments:supplier_qr", pk=supplier.pk)
        else:
            form.add_error("image", _("Choose a picture to upload."))
    return render(request, "payments/supplier_qr.html", {"supplier": supplier, "form": form})
