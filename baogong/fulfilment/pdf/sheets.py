"""The supplier order sheet, the compound box manifests and the pick list as PDF.

Plain module: it reads `rows` objects and writes a PDF, a page heading on every page.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import BinaryIO

from django.utils.translation import gettext as _
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas

from baogong.fulfilment.pdf.common import CJK, Column, Progress, Table, draw_qr, fit, new_canvas
from baogong.fulfilment.rows import PAID, TO_CONFIRM, Bag, PickLine, RoundHeader

MARGIN = 12 * mm
PROGRESS_EVERY = 500


def money(value: Decimal) -> str:
    return f"¥{value:,.2f}"


def payment_text(payment: str) -> str:
    return {PAID: _("paid"), TO_CONFIRM: _("to confirm")}.get(payment, _("unpaid"))


def _heading(canvas: Canvas, header: RoundHeader, title: str, lines: Sequence[str] = ()) -> float:
    """Draw a page's heading; return the y below it."""
    width, height = canvas._pagesize
    y = height - MARGIN
    canvas.setFont(CJK, 14)
    canvas.drawString(MARGIN, y - 14, fit(f"{title}  {header.title}", 14, width - 2 * MARGIN))
    canvas.setFont(CJK, 8)
    facts = [_("Supplier: %(name)s") % {"name": header.supplier}]
    if header.delivery:
        facts.append(_("Delivery: %(time)s") % {"time": header.delivery})
    facts.append(_("Made: %(time)s") % {"time": header.generated})
    canvas.drawString(MARGIN, y - 28, "    ".join(facts))
    y -= 34
    for line in lines:
        canvas.drawString(MARGIN, y - 8, line)
        y -= 11
    return y - 6


# --- supplier order sheet ------------------------------------------------------------


def order_sheet(
    out: BinaryIO,
    bags: Iterable[Bag],
    *,
    header: RoundHeader,
    totals: Sequence[tuple[str, int]],
    progress: Progress | None = None,
) -> int:
    """One row per household bag in packing order, then the totals; return the rows."""
    pagesize = landscape(A4)
    title = _("Order sheet")
    canvas = new_canvas(out, pagesize, f"{title} {header.title}")
    columns = [
        Column("#", 10 * mm, "right"),
        Column(_("Compound"), 36 * mm),
        Column(_("Building"), 20 * mm),
        Column(_("Entrance"), 12 * mm),
        Column(_("Room"), 14 * mm),
        Column(_("Phone"), 24 * mm),
        Column(_("Pickup code"), 19 * mm),
        Column(_("Items"), 85 * mm, wraps=True),
        Column(_("Amount"), 22 * mm, "right"),
        Column(_("Payment"), 19 * mm),
    ]
    table = Table(
        canvas,
        columns,
        header=lambda c, _page: _heading(c, header, title),
        footer=f"{header.supplier} {header.title}",
    )
    count, amount = 0, Decimal("0.00")
    for count, bag in enumerate(bags, start=1):
        amount += bag.amount
        table.row(
            [
                str(count),
                bag.compound,
                bag.building,
                bag.unit,
                bag.room,
                bag.phone,
                bag.pickup_code,
                bag.items_text(),
                money(bag.amount),
                payment_text(bag.payment),
            ]
        )
        if progress and count % PROGRESS_EVERY == 0:
            progress(count)
    table.gap(6)
    table.row(
        ["", _("Total"), "", "", "", "", _("%(n)s bags") % {"n": count},
         "，".join(f"{name}×{units}" for name, units in totals), money(amount), ""]
    )  # fmt: skip
    table.finish()
    canvas.save()
    return count


# --- compound box manifests -----------------------------------------------------------


def box_code(round_id: int, compound_id: int) -> str:
    """What a box's QR code says: the round and the compound, checked at the gate."""
    return f"BAOGONG-BOX-{round_id}-{compound_id}"


def manifests(
    out: BinaryIO,
    bags: Iterable[Bag],
    *,
    header: RoundHeader,
    box_sizes: dict[int, tuple[int, int]],
    progress: Progress | None = None,
) -> int:
    """One manifest per compound box (a new page each), with the box's QR code.

    `box_sizes` maps compound id → (bags, units), for the counts at the top of each box.
    Bags must come grouped by compound (packing order does that). Returns the bags listed.
    """
    pagesize = A4
    title = _("Box manifest")
    canvas = new_canvas(out, pagesize, f"{title} {header.title}")
    columns = [
        Column("#", 9 * mm, "right"),
        Column(_("Building"), 22 * mm),
        Column(_("Entrance"), 13 * mm),
        Column(_("Room"), 15 * mm),
        Column(_("Phone"), 24 * mm),
        Column(_("Pickup code"), 19 * mm),
        Column(_("Items"), 66 * mm, wraps=True),
        Column(_("Checked"), 18 * mm),
    ]
    table: Table | None = None
    current = None
    count = number = 0

    def box_heading(canvas: Canvas, compound: str, compound_id: int) -> float:
        bags_n, units = box_sizes.get(compound_id, (0, 0))
        lines = [
            _("Compound: %(name)s") % {"name": compound},
            _("Bags: %(bags)s    Units: %(units)s") % {"bags": bags_n, "units": units},
            _("Received at the gate by: ____________  Time: ____________"),
        ]
        y = _heading(canvas, header, title, lines)
        qr = 30 * mm
        draw_qr(canvas, box_code(header.round_id, compound_id), A4[0] - MARGIN - qr,
                A4[1] - MARGIN - qr, qr)  # fmt: skip
        return min(y, A4[1] - MARGIN - qr - 4)

    for count, bag in enumerate(bags, start=1):
        if bag.compound_id != current:
            if table is not None:
                table.finish()
            current, number = bag.compound_id, 0
            table = Table(
                canvas,
                columns,
                header=lambda c, _page, b=bag: box_heading(c, b.compound, b.compound_id),
                footer=f"{header.title} {bag.compound}",
            )
        number += 1
        table.row(
            [str(number), bag.building, bag.unit, bag.room, bag.phone, bag.pickup_code,
             bag.items_text(), "□"]
        )  # fmt: skip
        if progress and count % PROGRESS_EVERY == 0:
            progress(count)
    if table is None:
        _heading(canvas, header, title, [_("No bags in this round.")])
        canvas.showPage()
    else:
        table.finish()
    canvas.save()
    return count


# --- pick list ------------------------------------------------------------------------


def pick_list(out: BinaryIO, picks: Sequence[PickLine], *, header: RoundHeader) -> int:
    """Per package: units to pick and what they hold; then units per compound box."""
    title = _("Pick list")
    canvas = new_canvas(out, A4, f"{title} {header.title}")
    table = Table(
        canvas,
        [
            Column(_("Option"), 14 * mm),
            Column(_("Package"), 50 * mm),
            Column(_("Units to pick"), 30 * mm, "right"),
            Column(_("Contents in all"), 92 * mm, wraps=True),
        ],
        header=lambda c, _page: _heading(c, header, title),
        size=10,
        footer=f"{header.supplier} {header.title}",
    )
    for pick in picks:
        table.row([pick.code, pick.name, str(pick.units), "；".join(pick.contents)])
    table.row(["", _("Total"), str(sum(p.units for p in picks)), ""])
    table.gap(16)
    compounds = sorted({name for p in picks for name in p.per_compound})
    for name in compounds:
        cells = [f"{p.code}×{p.per_compound[name]}" for p in picks if p.per_compound.get(name)]
        table.row(["", name, str(sum(p.per_compound.get(name, 0) for p in picks)),
                   "  ".join(cells)])  # fmt: skip
    table.finish()
    canvas.save()
    return len(picks)
