"""A round's orders as an Excel sheet: one row per household bag, one column per package.

Rows come in packing order (compound, building, entrance, room) from
queries.round_export_rows; phones are masked unless `full_phone(household)` says
the reader may see the number. The workbook is written in openpyxl's write-only
mode, which streams rows instead of keeping every cell object in memory.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font

from baogong.areas.models import Household
from baogong.orders.models import Offer, Order, Round

MONEY_FORMAT = '"¥"#,##0.00'
# A text cell starting with one of these is read as a formula by spreadsheet programs.
_FORMULA_START = ("=", "+", "-", "@")


def round_orders_workbook(
    round_: Round,
    offers: Sequence[Offer],
    orders: Sequence[Order],
    quantities: Mapping[int, Mapping[int, int]],
    *,
    full_phone: Callable[[Household], bool],
) -> bytes:
    """Return the .xlsx bytes of the round's orders with a totals row at the end."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=_("Orders"))
    sheet.freeze_panes = "A2"
    bold = Font(bold=True)

    def cell(value: Any, *, font: Font | None = None, money: bool = False) -> WriteOnlyCell:
        if isinstance(value, str) and value.startswith(_FORMULA_START):
            value = "'" + value
        c = WriteOnlyCell(sheet, value=value)
        if font:
            c.font = font
        if money:
            c.number_format = MONEY_FORMAT
        return c

    header = [
        _("Compound"), _("Building"), _("Entrance"), _("Room"), _("Phone"), _("Pickup code"),
        *(f"{o.code}. {o.name}" for o in offers),
        _("Amount due"), _("Channel"), _("Entered by"), _("Placed at"),
    ]  # fmt: skip
    sheet.append([cell(str(h), font=bold) for h in header])
    totals = dict.fromkeys((o.pk for o in offers), 0)
    amount = Decimal("0.00")
    for order in orders:
        household = order.household
        phone = household.phone if full_phone(household) else household.masked_phone
        counts = quantities.get(order.pk, {})
        for offer_id, quantity in counts.items():
            totals[offer_id] = totals.get(offer_id, 0) + quantity
        amount += order.amount_due
        sheet.append(
            [
                cell(household.compound.name),
                cell(household.building.name),
                cell(household.unit),
                cell(household.room),
                cell(phone),
                cell(order.pickup_code),
                *(cell(counts.get(o.pk) or None) for o in offers),
                cell(order.amount_due, money=True),
                cell(order.get_channel_display()),
                cell(_entered_by(order)),
                cell(timezone.localtime(order.placed_at).replace(tzinfo=None)),
            ]
        )
    sheet.append(
        [
            cell(_("Total: %(count)s orders") % {"count": len(orders)}, font=bold),
            *(cell(None) for _i in range(5)),
            *(cell(totals[o.pk], font=bold) for o in offers),
            cell(amount, font=bold, money=True),
        ]
    )
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _entered_by(order: Order) -> str:
    if order.channel == Order.Channel.SELF:
        return _("the household")
    if order.api_client_id:
        return order.api_client.name
    if order.entered_by_id:
        return order.entered_by.name
    return ""
