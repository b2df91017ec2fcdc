"""Orders in a spreadsheet: download the template, upload it filled in, preview, commit.

The same pipeline as the order chain (`intake`), with channel=EXCEL and Excel's row
numbers. The file is read once, at upload; the preview form carries the rows it read,
signed (django.core.signing), so the commit places exactly what was previewed without
the file being sent again. Whole-file problems (not a spreadsheet, empty, no heading
row, too big) are shown on the upload form.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth.decorators import login_required
from django.core import signing
from django.core.files.uploadedfile import UploadedFile
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods

from baogong.accounts.models import User
from baogong.areas.addresses import Address
from baogong.core.errors import InvalidInput
from baogong.core.http import domain_errors, is_htmx
from baogong.orders import chain, intake, sheet_intake
from baogong.orders.models import Order, Round
from baogong.orders.views.chain import intake_round, kept_rows, page_context

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PAYLOAD_SALT = "baogong.orders.excel_upload"
PAYLOAD_MAX_AGE = 6 * 3600  # seconds: a preview left open overnight is uploaded again


class SheetForm(forms.Form):
    file = forms.FileField(
        label=gettext_lazy("Order sheet"),
        help_text=gettext_lazy(
            "An Excel file (.xlsx) with the columns 楼栋, 单元, 房号 (or 地址), 联系电话, one "
            "column per package and 备注. Download the template to start from."
        ),
        error_messages={"required": gettext_lazy("Choose the file to upload.")},
        widget=forms.ClearableFileInput(
            attrs={"accept": ".xlsx,.xls,.ods,application/vnd.ms-excel," + XLSX}
        ),
    )


@require_http_methods(["GET", "POST"])
@login_required
@domain_errors
def excel_upload(request: HttpRequest, pk: int) -> HttpResponse:
    """GET: the upload form. POST a file: the preview. POST action=commit: the result."""
    round_ = intake_round(request, pk)
    committing = request.POST.get("action") == "commit"
    bound = request.method == "POST" and not committing
    form = SheetForm(request.POST if bound else None, request.FILES if bound else None)
    context = page_context(request, round_, form, kind="sheet")
    if committing:
        context.update(_commit(request, round_))
    elif form.is_valid():
        try:
            preview = _preview(round_, form.cleaned_data["file"], request.user)
        except InvalidInput as error:
            form.add_error("file", error.message)
        else:
            context.update(preview=preview, payload=pack(preview))
    template = "orders/excel_region.html" if is_htmx(request) else "orders/excel_upload.html"
    return render(request, template, context)


@require_GET
@login_required
@domain_errors
def excel_template(request: HttpRequest, pk: int) -> HttpResponse:
    """The order sheet to fill in: the user's households of the round, a column per package."""
    round_ = intake_round(request, pk)
    response = HttpResponse(sheet_intake.order_template(round_, by=request.user), content_type=XLSX)
    response["Content-Disposition"] = f'attachment; filename="round-{round_.pk}-orders.xlsx"'
    return response


def _preview(round_: Round, upload: UploadedFile, user: User) -> intake.Preview:
    sheet_intake.check_sheet_size(upload.size or 0)
    return sheet_intake.sheet_preview(round_, upload.read(), by=user)


def _commit(request: HttpRequest, round_: Round) -> dict[str, Any]:
    try:
        lines = unpack(request.POST.get("payload", ""), round_)
    except signing.BadSignature:
        return {"notice": _("This preview has expired or is damaged: upload the file again.")}
    preview = intake.intake_preview(round_, lines, by=request.user, kind="sheet")
    report = intake.intake_commit(
        preview, keep=kept_rows(request.POST), channel=Order.Channel.EXCEL, by=request.user
    )
    return {"report": report}


# --- the rows a preview carries to its commit ------------------------------------------


def pack(preview: intake.Preview) -> str:
    """Sign the rows read from the file, compactly, for the preview form."""
    rows = [
        [
            line.line,
            line.text,
            list(line.address.natural_key) if line.address else None,
            line.address_text,
            line.phone,
            line.name,
            [[i.code, i.quantity, i.written] for i in line.items],
            [[p.code, p.written] for p in line.problems],
            line.note,
        ]
        for line in (row.source for row in preview.rows)
    ]
    data = {"round": preview.round.pk, "rows": rows}
    return signing.dumps(data, salt=PAYLOAD_SALT, compress=True)


def unpack(payload: str, round_: Round) -> list[chain.ChainLine]:
    """The rows `pack` signed; BadSignature if altered, expired or for another round."""
    data = signing.loads(payload, salt=PAYLOAD_SALT, max_age=PAYLOAD_MAX_AGE)
    if data.get("round") != round_.pk:
        raise signing.BadSignature("another round")
    return [
        chain.ChainLine(
            line=number,
            text=text,
            address=Address(*address) if address else None,
            address_text=address_text,
            phone=phone,
            name=name,
            items=[chain.Item(code, quantity, written) for code, quantity, written in items],
            problems=[chain.Problem(code, written) for code, written in problems],
            note=note,
        )
        for number, text, address, address_text, phone, name, items, problems, note in data["rows"]
    ]
