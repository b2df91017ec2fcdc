"""Bag labels: one per household bag, in packing order, in two layouts.

- A4 sheets of 14 labels (99.1 × 38.1 mm, 2 × 7, the common L7163 label stock);
- 100 × 150 mm thermal labels, one per page.

Each label shows compound, building · entrance · room, the masked phone, the package
lines, a paid/unpaid mark, and the pickup code in large type and as a QR code that
decodes to exactly the code. Plain module: it reads `rows.Bag`s and writes a PDF.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import BinaryIO

from django.utils.translation import gettext as _
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas

from baogong.fulfilment.pdf.common import (
    CJK,
    LATIN_BOLD,
    Progress,
    draw_qr,
    fit,
    new_canvas,
    wrap,
)
from baogong.fulfilment.rows import FREE, PAID, TO_CONFIRM, Bag, RoundHeader

# L7163: 2 columns × 7 rows of 99.1 × 38.1 mm on A4.
A4_COLUMNS, A4_ROWS = 2, 7
A4_LABEL_W, A4_LABEL_H = 99.1 * mm, 38.1 * mm
A4_LEFT, A4_TOP, A4_GAP = 4.65 * mm, 15.15 * mm, 2.5 * mm
THERMAL = (100 * mm, 150 * mm)
PROGRESS_EVERY = 500
# Free-distribution bags (issue 10): bilingual on purpose, whatever language the labels are
# made in, so packers and residents alike see at once that nothing is to be paid.
FREE_MARK = "免费发放/FREE"


def _marks() -> dict[str, str]:
    return {PAID: _("PAID"), TO_CONFIRM: _("PAYMENT TO CONFIRM"), FREE: FREE_MARK}


def _unpaid() -> str:
    return _("UNPAID")


def _items_text(bag: Bag) -> str:
    return "  ".join(f"{i.code}.{i.name}×{i.quantity}" for i in bag.items)


def _mark(canvas: Canvas, text: str, x: float, y: float, size: float, *, filled: bool) -> float:
    """A boxed payment mark at (x, y) baseline; filled black when unpaid, so it stands out."""
    width = len(text) * size * (1.0 if not text.isascii() else 0.62) + size * 0.8
    height = size * 1.35
    canvas.setLineWidth(0.8)
    canvas.rect(x, y - size * 0.3, width, height, stroke=1, fill=1 if filled else 0)
    if filled:
        canvas.setFillGray(1)
    canvas.setFont(CJK if not text.isascii() else LATIN_BOLD, size)
    canvas.drawString(x + size * 0.4, y, text)
    canvas.setFillGray(0)
    return width


def _draw_a4_label(canvas: Canvas, bag: Bag, x: float, y: float, marks: dict, unpaid: str) -> None:
    """One label with its lower-left corner at (x, y)."""
    pad = 2.5 * mm
    qr = A4_LABEL_H - 2 * mm
    text_w = A4_LABEL_W - qr - pad - 1 * mm
    left = x + pad
    top = y + A4_LABEL_H - pad
    canvas.setFont(CJK, 8.5)
    canvas.drawString(left, top - 8, fit(bag.compound, 8.5, text_w))
    canvas.setFont(CJK, 13)
    canvas.drawString(left, top - 23, fit(bag.place, 13, text_w))
    canvas.setFont(CJK, 8.5)
    canvas.drawString(left, top - 35, bag.phone)
    mark = marks.get(bag.payment)
    _mark(canvas, mark or unpaid, left + 62, top - 35, 7.5, filled=mark is None)
    canvas.setFont(CJK, 7)
    for i, line in enumerate(wrap(_items_text(bag), 7, text_w, 2)):
        canvas.drawString(left, top - 46 - i * 8.5, line)
    canvas.setFont(LATIN_BOLD, 20)
    canvas.drawString(left, y + pad + 1, bag.pickup_code)
    draw_qr(canvas, bag.pickup_code, x + A4_LABEL_W - qr - 1 * mm, y + 1 * mm, qr)


def labels_a4(
    out: BinaryIO, bags: Iterable[Bag], *, header: RoundHeader, progress: Progress | None = None
) -> int:
    """Write A4 label sheets for `bags` (already in packing order); return the labels drawn."""
    canvas = new_canvas(out, A4, _("Bag labels: %(title)s") % {"title": header.title})
    marks, unpaid = _marks(), _unpaid()
    per_page = A4_COLUMNS * A4_ROWS
    page_h = A4[1]
    count = 0
    for count, bag in enumerate(bags, start=1):
        slot = (count - 1) % per_page
        if slot == 0 and count > 1:
            canvas.showPage()
        col, row = slot % A4_COLUMNS, slot // A4_COLUMNS
        x = A4_LEFT + col * (A4_LABEL_W + A4_GAP)
        y = page_h - A4_TOP - (row + 1) * A4_LABEL_H
        _draw_a4_label(canvas, bag, x, y, marks, unpaid)
        if progress and count % PROGRESS_EVERY == 0:
            progress(count)
    if count == 0:
        canvas.setFont(CJK, 14)
        canvas.drawString(20 * mm, page_h - 30 * mm, _("No bags to label in this round."))
    canvas.showPage()
    canvas.save()
    return count


def _draw_thermal_label(
    canvas: Canvas, bag: Bag, header: RoundHeader, marks: dict, unpaid: str
) -> None:
    width, height = THERMAL
    left, right = 6 * mm, width - 6 * mm
    text_w = right - left
    top = height - 6 * mm
    canvas.setFont(CJK, 9)
    canvas.drawString(left, top - 9, fit(f"{header.supplier}  {header.title}", 9, text_w))
    canvas.setFont(CJK, 16)
    canvas.drawString(left, top - 30, fit(bag.compound, 16, text_w))
    canvas.setFont(CJK, 24)
    canvas.drawString(left, top - 60, fit(bag.place, 24, text_w))
    canvas.setFont(CJK, 14)
    canvas.drawString(left, top - 82, bag.phone)
    mark = marks.get(bag.payment)
    _mark(canvas, mark or unpaid, left + 115, top - 82, 12, filled=mark is None)
    canvas.setLineWidth(0.6)
    canvas.line(left, top - 92, right, top - 92)
    canvas.setFont(CJK, 12)
    y = top - 108
    items = list(bag.items)
    shown = items[:8]
    for item in shown:
        canvas.drawString(left, y, fit(f"{item.code}. {item.name}", 12, text_w - 40))
        canvas.drawRightString(right, y, f"×{item.quantity}")
        y -= 15
    if len(items) > len(shown):
        canvas.drawString(left, y, _("and %(n)s more lines") % {"n": len(items) - len(shown)})
    qr = 42 * mm
    draw_qr(canvas, bag.pickup_code, right - qr + 4 * mm, 5 * mm, qr)
    canvas.setFont(CJK, 10)
    canvas.drawString(left, 5 * mm + 40, _("Pickup code"))
    canvas.setFont(LATIN_BOLD, 28)
    canvas.drawString(left, 5 * mm + 8, bag.pickup_code)


def labels_thermal(
    out: BinaryIO, bags: Iterable[Bag], *, header: RoundHeader, progress: Progress | None = None
) -> int:
    """Write one 100 × 150 mm page per bag; return the labels drawn."""
    canvas = new_canvas(out, THERMAL, _("Bag labels: %(title)s") % {"title": header.title})
    marks, unpaid = _marks(), _unpaid()
    count = 0
    for count, bag in enumerate(bags, start=1):
        _draw_thermal_label(canvas, bag, header, marks, unpaid)
        canvas.showPage()
        if progress and count % PROGRESS_EVERY == 0:
            progress(count)
    if count == 0:
        canvas.setFont(CJK, 12)
        canvas.drawString(6 * mm, THERMAL[1] - 20 * mm, _("No bags to label in this round."))
        canvas.showPage()
    canvas.save()
    return count
