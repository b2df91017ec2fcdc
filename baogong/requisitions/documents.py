"""Printed documents of the chain: the allocation order (with its verify QR) and the
settlement statement, as PDF (reportlab, built-in CJK font) and Excel (openpyxl).

Labels are translated in the active language (Chinese by default); phone numbers
are masked on paper, which travels further than the screen.
"""

from __future__ import annotations

import io
from decimal import Decimal

import segno
from django.utils import timezone
from django.utils.formats import number_format
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Font
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.platypus import Image, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from baogong.core.phones import mask_phone
from baogong.requisitions.models import AllocationOrder, Settlement

FONT = "STSong-Light"
MONEY_FORMAT = '"¥"#,##0.00'
# Spreadsheet programs read a text cell starting with one of these as a formula.
_FORMULA_START = ("=", "+", "-", "@")


def _font() -> str:
    if FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont(FONT))
    return FONT


def _styles() -> dict[str, ParagraphStyle]:
    font = _font()
    return {
        "title": ParagraphStyle("title", fontName=font, fontSize=18, leading=24, alignment=1),
        "body": ParagraphStyle("body", fontName=font, fontSize=10.5, leading=15),
        "small": ParagraphStyle("small", fontName=font, fontSize=9, leading=12),
    }


def money(value: Decimal) -> str:
    return "¥" + number_format(value, decimal_pos=2, force_grouping=True)


def qty(value: Decimal | None) -> str:
    return "—" if value is None else format(value.normalize(), "f")


def _table(rows: list[list], widths: list[float], *, total_row: bool = False) -> Table:
    # Headings wrap inside their column instead of running into the next one.
    heading = ParagraphStyle("heading", fontName=_font(), fontSize=9, leading=11)
    rows = [[Paragraph(str(cell), heading) for cell in rows[0]], *rows[1:]]
    table = Table(rows, colWidths=widths, repeatRows=1)
    style = [
        ("FONTNAME", (0, 0), (-1, -1), _font()),
        ("FONTSIZE", (0, 0), (-1, -1), 9.5),
        ("GRID", (0, 0), (-1, -1), 0.5, colors.black),
        ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e8e8e8")),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ("ALIGN", (3, 1), (-1, -1), "RIGHT"),
    ]
    if total_row:
        style.append(("BACKGROUND", (0, -1), (-1, -1), colors.HexColor("#f4f4f4")))
    table.setStyle(TableStyle(style))
    return table


def _qr(url: str, size: float) -> Image:
    buffer = io.BytesIO()
    segno.make(url, error="m").save(buffer, kind="png", scale=6, border=2)
    buffer.seek(0)
    return Image(buffer, width=size, height=size)


def allocation_pdf(order: AllocationOrder, verify_url: str) -> bytes:
    """The numbered allocation order with a QR code that opens its public verify page."""
    styles = _styles()
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=16 * mm,
        rightMargin=16 * mm,
        topMargin=14 * mm,
        bottomMargin=14 * mm,
        title=order.number,
    )
    district = order.request.street.parent
    facts = [
        (_("Number"), order.number),
        (_("Issued by"), _("%(district)s commerce bureau") % {"district": district.name}),
        (_("Supply enterprise"), order.supplier.name),
        (_("Allocation date"), order.allocation_date.strftime("%Y-%m-%d")),
        (_("Requested by"), f"{order.request.street.name} ({order.request.number})"),
        (_("Delivery place"), f"{order.delivery_area.name}，{order.delivery_place}"),
        (_("Delivery time"), timezone.localtime(order.delivery_at).strftime("%Y-%m-%d %H:%M")),
        (_("Contact"), f"{order.contact_name} {mask_phone(order.contact_phone)}"),
        (_("Payer"), order.payer.name),
    ]
    head = Table(
        [
            [
                Paragraph("<br/>".join(f"{k}：{v}" for k, v in facts), styles["body"]),
                _qr(verify_url, 34 * mm),
            ]
        ],
        colWidths=[140 * mm, 38 * mm],
    )
    head.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP")]))
    rows = [
        [
            _("No."),
            _("Item"),
            _("Specification"),
            _("Quantity"),
            _("Unit"),
            _("Unit price"),
            _("Amount"),
        ]
    ]
    total = Decimal("0.00")
    for number, line in enumerate(order.lines.order_by("pk"), start=1):
        total += line.amount
        rows.append(
            [
                str(number),
                line.item,
                line.spec,
                qty(line.quantity),
                line.unit,
                money(line.unit_price),
                money(line.amount),
            ]
        )
    rows.append(["", _("Total"), "", "", "", "", money(total)])
    story = [
        Paragraph(_("Emergency supply allocation order"), styles["title"]),
        Spacer(1, 6 * mm),
        head,
        Spacer(1, 5 * mm),
        _table(
            rows, [12 * mm, 38 * mm, 32 * mm, 22 * mm, 14 * mm, 28 * mm, 32 * mm], total_row=True
        ),
        Spacer(1, 6 * mm),
        Paragraph(
            _(
                "Apply first, allocate next, settle last; whoever uses the goods pays for "
                "them. Settlement within 15 working days at the market price on the "
                "allocation day."
            ),
            styles["small"],
        ),
        Paragraph(
            _("Scan the QR code to check that this order is genuine and still valid."),
            styles["small"],
        ),
    ]
    doc.build(story)
    return buffer.getvalue()


def _settlement_rows(settlement: Settlement) -> tuple[list[str], list[list]]:
    heading = [
        _("Item"),
        _("Specification"),
        _("Unit"),
        _("Received"),
        _("Market price"),
        _("Price source"),
        _("Amount"),
        _("Order unit price"),
        _("Amount at order price"),
    ]
    rows = [
        [
            line.allocation_line.item,
            line.allocation_line.spec,
            line.allocation_line.unit,
            line.received,
            line.market_price,
            line.price_source,
            line.amount,
            line.order_price,
            line.order_amount,
        ]
        for line in settlement.lines.select_related("allocation_line").order_by("pk")
    ]
    return heading, rows


def settlement_pdf(settlement: Settlement) -> bytes:
    styles = _styles()
    order = settlement.order
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=12 * mm,
        rightMargin=12 * mm,
        topMargin=14 * mm,
        bottomMargin=14 * mm,
        title=settlement.number,
    )
    facts = [
        (_("Number"), settlement.number),
        (_("Allocation order"), f"{order.number} ({order.allocation_date:%Y-%m-%d})"),
        (_("Supply enterprise"), order.supplier.name),
        (_("Payer"), order.payer.name),
        (_("Settlement start"), f"{settlement.started_on:%Y-%m-%d}"),
        (
            _("Due date"),
            f"{settlement.due_on:%Y-%m-%d}"
            + (f" ({_('provisional')})" if settlement.due_provisional else ""),
        ),
        (
            _("State"),
            settlement.get_state_display()
            + (f"，{_('overdue')}" if settlement.is_overdue else "")
            + (
                f"，{settlement.paid_on:%Y-%m-%d} {settlement.payment_reference}"
                if settlement.paid_on
                else ""
            ),
        ),
    ]
    heading, data = _settlement_rows(settlement)
    rows = [heading] + [
        [
            r[0],
            r[1],
            r[2],
            qty(r[3]),
            money(r[4]),
            Paragraph(r[5], styles["small"]),
            money(r[6]),
            money(r[7]),
            money(r[8]),
        ]
        for r in data
    ]
    rows.append(
        [
            _("Total"),
            "",
            "",
            "",
            "",
            "",
            money(settlement.market_total),
            "",
            money(settlement.order_total),
        ]
    )
    story = [
        Paragraph(_("Emergency supply settlement statement"), styles["title"]),
        Spacer(1, 6 * mm),
        Paragraph("<br/>".join(f"{k}：{v}" for k, v in facts), styles["body"]),
        Spacer(1, 5 * mm),
        _table(
            rows,
            [24 * mm, 20 * mm, 11 * mm, 16 * mm, 20 * mm, 33 * mm, 22 * mm, 18 * mm, 22 * mm],
            total_row=True,
        ),
        Spacer(1, 4 * mm),
        Paragraph(
            _("Difference (market price - order price): %(amount)s")
            % {"amount": money(settlement.difference)},
            styles["body"],
        ),
        Spacer(1, 12 * mm),
        Table(
            [
                [
                    Paragraph(_("Payer (seal):"), styles["body"]),
                    Paragraph(_("Supply enterprise (seal):"), styles["body"]),
                ]
            ],
            colWidths=[93 * mm, 93 * mm],
        ),
    ]
    doc.build(story)
    return buffer.getvalue()


def _cell(value):
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def settlement_workbook(settlement: Settlement) -> bytes:
    """The statement as an Excel sheet: facts, one row per line, totals with formulas' results."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = _("Settlement")
    order = settlement.order
    sheet.append([_("Emergency supply settlement statement"), settlement.number])
    sheet["A1"].font = Font(bold=True, size=14)
    for label, value in [
        (_("Allocation order"), order.number),
        (_("Allocation date"), order.allocation_date),
        (_("Supply enterprise"), order.supplier.name),
        (_("Payer"), order.payer.name),
        (_("Settlement start"), settlement.started_on),
        (_("Due date"), settlement.due_on),
        (_("State"), settlement.get_state_display()),
    ]:
        sheet.append([label, _cell(value)])
    sheet.append([])
    heading, rows = _settlement_rows(settlement)
    sheet.append(heading)
    for cell in sheet[sheet.max_row]:
        cell.font = Font(bold=True)
    for row in rows:
        sheet.append([_cell(v) for v in row])
        for column in (5, 7, 8, 9):
            sheet.cell(row=sheet.max_row, column=column).number_format = MONEY_FORMAT
    sheet.append(
        [_("Total"), "", "", "", "", "", settlement.market_total, "", settlement.order_total]
    )
    for column in (7, 9):
        sheet.cell(row=sheet.max_row, column=column).number_format = MONEY_FORMAT
    sheet.append(
        [_("Difference (market price - order price)"), "", "", "", "", "", settlement.difference]
    )
    sheet.cell(row=sheet.max_row, column=7).number_format = MONEY_FORMAT
    for letter, width in zip("ABCDEFGHI", (18, 14, 8, 10, 12, 28, 14, 12, 14), strict=True):
        sheet.column_dimensions[letter].width = width
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
