"""The supplier's statements: upload with a per-row result, and the review of open lines."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from baogong.core.errors import Conflict, InvalidInput, NotFound
from baogong.core.http import domain_errors
from baogong.orders.models import Order
from baogong.payments import queries, statements
from baogong.payments.forms import LineAssignForm, StatementUploadForm
from baogong.payments.models import Statement, StatementLine
from baogong.supply.models import Supplier

MAX_UPLOAD_BYTES = 5 * 1024 * 1024


def _supplier(request: HttpRequest, pk: int) -> Supplier:
    supplier = Supplier.objects.filter(pk=pk).first()
    if supplier is None or not statements.may_reconcile(request.user, supplier.pk):
        raise NotFound()
    return supplier


@require_http_methods(["GET", "POST"])
@login_required
@domain_errors
def statement_upload(request: HttpRequest, pk: int) -> HttpResponse:
    supplier = _supplier(request, pk)
    form = StatementUploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        if upload.size > MAX_UPLOAD_BYTES:
            form.add_error("file", _("The file is too large; export a shorter period."))
        else:
            try:
                result = statements.statement_import(
                    supplier=supplier, data=upload.read(), filename=upload.name, by=request.user
                )
            except InvalidInput as error:
                form.add_error("file", error.message)
            else:
                if not result.created:
                    messages.info(request, _("This file was imported before; nothing changed."))
                return redirect("payments:statement_detail", pk=result.statement.pk)
    context = {
        "supplier": supplier,
        "form": form,
        "statements": queries.supplier_statements(supplier.pk)[:20],
        "review_count": queries.review_lines(supplier.pk).count(),
    }
    return render(request, "payments/statement_upload.html", context)


@require_GET
@login_required
@domain_errors
def statement_detail(request: HttpRequest, pk: int) -> HttpResponse:
    statement = Statement.objects.select_related("supplier").filter(pk=pk).first()
    if statement is None or not statements.may_reconcile(request.user, statement.supplier_id):
        raise NotFound()
    lines = list(
        statement.lines.select_related("payment__order__household__building").order_by("row_number")
    )
    review = [
        (line, statements.line_suggestions(line))
        for line in lines
        if line.match_state in (StatementLine.Match.UNMATCHED, StatementLine.Match.AMBIGUOUS)
    ]
    context = {
        "statement": statement,
        "lines": lines,
        "review": review,
        "counts": statements.line_counts(statement),
        "assign_form": LineAssignForm(),
    }
    return render(request, "payments/statement_detail.html", context)


@require_POST
@login_required
@domain_errors
def statement_line_resolve(request: HttpRequest, pk: int) -> HttpResponse:
    """Match a line to an order (chosen from the suggestions or by pickup code), or ignore it."""
    line = StatementLine.objects.filter(pk=pk).first()
    if line is None or not statements.may_reconcile(request.user, line.supplier_id):
        raise NotFound()
    try:
        if request.POST.get("action") == "ignore":
            statements.statement_line_ignore(
                line=line, by=request.user, note=request.POST.get("note", "")
            )
        else:
            order = _chosen_order(request, line)
            statements.statement_line_assign(line=line, order=order, by=request.user)
    except (InvalidInput, Conflict) as error:
        messages.error(request, error.message)
    return redirect("payments:statement_detail", pk=line.statement_id)


def _chosen_order(request: HttpRequest, line: StatementLine) -> Order:
    orders = Order.objects.filter(round__supplier_id=line.supplier_id).select_related("round")
    if request.POST.get("order"):
        found = list(orders.filter(pk=request.POST["order"])[:1])
    else:
        code = request.POST.get("pickup_code", "").strip().upper()
        found = (
            list(orders.filter(pickup_code=code).order_by("-round__opens_at")[:2]) if code else []
        )
    if len(found) != 1:
        raise InvalidInput(
            _("No single order of yours has that pickup code; choose one from the list.")
        )
    return found[0]
