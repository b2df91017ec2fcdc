"""Receipt and distribution ledgers (接收台账、分发台账) and settlement (结算).

Stock is kept per holder (a street or community) and lot (a receipt line):
received = distributed + on hand, row by row, as a database check constraint.
A distribution locks the stock rows it touches (SELECT … FOR UPDATE, in pk
order) so two volunteers handing out the last boxes at once cannot both
succeed; the constraint refuses whatever slips past.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.db.models import F, Sum
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from baogong.accounts.scoping import scope_for
from baogong.areas.models import Area, Household, Resident
from baogong.core.errors import Conflict, InvalidInput, NotAllowed
from baogong.requisitions.access import RECEIVE_ROLES, SETTLE_ROLES, reaches
from baogong.requisitions.models import (
    AllocationLine,
    AllocationOrder,
    DistributionEntry,
    Receipt,
    ReceiptLine,
    Settlement,
    SettlementLine,
    Stock,
)
from baogong.requisitions.services import _audit, _locked, _require_state, next_number
from baogong.requisitions.services import parse_quantity as qty
from baogong.requisitions.workdays import add_working_days

if TYPE_CHECKING:
    from baogong.accounts.models import User

ZERO = Decimal("0.00")
CENT = Decimal("0.01")
SETTLEMENT_WORKING_DAYS = 15


# --- receipts --------------------------------------------------------------------------


@dataclass(frozen=True)
class ReceiptSpec:
    delivered: Any
    damaged: Any = 0
    rejected: Any = 0
    reason: str = ""
    over_receipt_reason: str = ""
    unit: str | None = None  # when given, it must be the line's unit


def received_so_far(line: AllocationLine) -> Decimal:
    """Delivered so far, whatever was then damaged or rejected (what over-receipt counts)."""
    return line.receipt_lines.aggregate(total=Sum("delivered"))["total"] or ZERO


def accepted_so_far(line: AllocationLine) -> Decimal:
    """Accepted into stock so far: what is settled."""
    return line.receipt_lines.aggregate(total=Sum("accepted"))["total"] or ZERO


@transaction.atomic
def receipt_record(
    *,
    order: AllocationOrder,
    lines: dict[int, ReceiptSpec],
    by: User | None,
    received_at: dt.datetime | None = None,
    note: str = "",
    request_key: str | None = None,
) -> Receipt:
    """Record a delivery at the order's delivery place; accepted goods enter its stock.

    Shortage, damage and rejection need a reason; taking more than was confirmed
    needs an explicit over-receipt reason. A repeated `request_key` returns the
    receipt already recorded.
    """
    if request_key:
        existing = Receipt.objects.filter(request_key=request_key, order=order).first()
        if existing is not None:
            return existing
    # Locks the order: two receipts of one delivery at once would both see "nothing yet".
    order = _locked(AllocationOrder, order.pk)
    if by is not None and not reaches(scope_for(by), RECEIVE_ROLES, order.delivery_area):
        raise NotAllowed()
    _require_state(order, AllocationOrder.State.CONFIRMED, AllocationOrder.State.RECEIVED)
    order_lines = {line.pk: line for line in order.lines.all()}
    errors, rows = [], []
    for pk, spec in lines.items():
        line = order_lines.get(pk)
        if line is None:
            errors.append(str(_("A line is not part of this allocation order.")))
            continue
        label = f"{line.item} {line.spec}".strip()
        delivered, damaged, rejected = (
            qty(spec.delivered, allow_zero=True),
            qty(spec.damaged or 0, allow_zero=True),
            qty(spec.rejected or 0, allow_zero=True),
        )
        if None in (delivered, damaged, rejected):
            errors.append(
                str(_("%(line)s: quantities must be numbers, 0 or more.") % {"line": label})
            )
            continue
        if spec.unit is not None and spec.unit.strip() != line.unit:
            errors.append(
                str(
                    _("%(line)s: counted in %(given)s but ordered in %(unit)s.")
                    % {"line": label, "given": spec.unit.strip(), "unit": line.unit}
                )
            )
            continue
        if delivered == 0 and damaged == 0 and rejected == 0:
            continue
        if damaged + rejected > delivered:
            errors.append(
                str(
                    _("%(line)s: damaged and rejected cannot exceed what was delivered.")
                    % {"line": label}
                )
            )
            continue
        expected = line.confirmed_quantity if line.confirmed_quantity is not None else line.quantity
        before = received_so_far(line)
        shortage = max(expected - before - delivered, ZERO)
        reason, over = spec.reason.strip()[:200], spec.over_receipt_reason.strip()[:200]
        if before + delivered > expected and not over:
            errors.append(
                str(
                    _(
                        "%(line)s: %(qty)s %(unit)s is more than the %(expected)s confirmed; "
                        "give a reason to take more."
                    )
                    % {
                        "line": label,
                        "qty": before + delivered,
                        "unit": line.unit,
                        "expected": expected,
                    }
                )
            )
            continue
        if (damaged or rejected or shortage) and not reason:
            errors.append(
                str(
                    _("%(line)s: give a reason for the shortage, damage or rejection.")
                    % {"line": label}
                )
            )
            continue
        rows.append(
            ReceiptLine(
                allocation_line=line,
                delivered=delivered,
                damaged=damaged,
                rejected=rejected,
                accepted=delivered - damaged - rejected,
                shortage=shortage,
                reason=reason,
                over_receipt_reason=over,
            )
        )
    if not rows and not errors:
        errors.append(str(_("Enter what arrived for at least one line.")))
    if errors:
        raise InvalidInput(" ".join(errors))
    receipt = Receipt(
        order=order,
        received_by=by,
        received_at=received_at or timezone.now(),
        note=note.strip()[:300],
        request_key=request_key or None,
    )
    _audit(receipt, by, "receive")
    receipt.save()
    for row in rows:
        row.receipt = receipt
        _audit(row, by, "receive")
        row.save()
        Stock.objects.create(
            holder=order.delivery_area,
            receipt_line=row,
            received=row.accepted,
            on_hand=row.accepted,
        )
    if order.state != AllocationOrder.State.RECEIVED:
        order.state = AllocationOrder.State.RECEIVED
        _audit(order, by, "receive")
        order.save()
    return receipt


# --- distribution ----------------------------------------------------------------------


@transaction.atomic
def distribute(
    *,
    stock: Stock,
    quantity: Any,
    by: User | None,
    to_area: Area | None = None,
    to_household: Household | None = None,
    to_resident: Resident | None = None,
    unit: str | None = None,
    note: str = "",
    request_key: str | None = None,
) -> DistributionEntry:
    """Hand goods from a holder's lot down to a community/compound, a household or a resident.

    Goods sent to an area become that area's stock (it distributes further); a
    household or resident is the end of the line.
    """
    if request_key:
        existing = DistributionEntry.objects.filter(request_key=request_key).first()
        if existing is not None:
            return existing
    holder = stock.holder
    if by is not None and not reaches(scope_for(by), RECEIVE_ROLES, holder):
        raise NotAllowed()
    lot = stock.receipt_line
    lot_unit = lot.allocation_line.unit
    amount = qty(quantity)
    if amount is None:
        raise InvalidInput(_("The quantity must be a number above 0."))
    if unit is not None and unit.strip() != lot_unit:
        raise InvalidInput(
            _("This lot is counted in %(unit)s, not %(given)s."), unit=lot_unit, given=unit
        )
    targets = [t for t in (to_area, to_household, to_resident) if t is not None]
    if len(targets) != 1:
        raise InvalidInput(_("Choose one recipient: an area, a household or a resident."))
    target_path = (
        to_area.path
        if to_area is not None
        else (to_household or to_resident.household).building.path
    )
    if not target_path.startswith(holder.path) or (to_area is not None and to_area == holder):
        raise InvalidInput(
            _("Goods go down from %(holder)s to somewhere within it."), holder=holder.name
        )
    if to_area is not None and to_area.kind not in (Area.Kind.COMMUNITY, Area.Kind.COMPOUND):
        raise InvalidInput(_("Pass goods on to a community or a compound."))
    target_stock = None
    if to_area is not None:
        target_stock, _created = Stock.objects.get_or_create(holder=to_area, receipt_line=lot)
    # Locks both stock rows in pk order: concurrent hand-outs from one lot queue here.
    locked = {
        s.pk: s
        for s in Stock.objects.select_for_update()
        .filter(pk__in=[stock.pk] + ([target_stock.pk] if target_stock else []))
        .order_by("pk")
    }
    source = locked[stock.pk]
    if amount > source.on_hand:
        raise Conflict(
            _("Only %(qty)s %(unit)s on hand at %(holder)s."),
            qty=source.on_hand,
            unit=lot_unit,
            holder=holder.name,
        )
    Stock.objects.filter(pk=source.pk).update(
        distributed=F("distributed") + amount, on_hand=F("on_hand") - amount
    )
    if target_stock is not None:
        Stock.objects.filter(pk=target_stock.pk).update(
            received=F("received") + amount, on_hand=F("on_hand") + amount
        )
    entry = DistributionEntry(
        receipt_line=lot,
        from_area=holder,
        to_area=to_area,
        to_household=to_household,
        to_resident=to_resident,
        quantity=amount,
        unit=lot_unit,
        note=note.strip()[:200],
        distributed_by=by,
        request_key=request_key or None,
    )
    _audit(entry, by, "distribute")
    entry.save()
    return entry


# --- settlement ------------------------------------------------------------------------


@dataclass(frozen=True)
class PriceSpec:
    market_price: Any
    source: str


def settlement_due(started_on: dt.date) -> tuple[dt.date, bool]:
    """Due date: 15 working days after the start (holidays and adjusted days counted)."""
    return add_working_days(started_on, SETTLEMENT_WORKING_DAYS)


@transaction.atomic
def settlement_start(
    *,
    order: AllocationOrder,
    prices: dict[int, PriceSpec],
    by: User | None,
    started_on: dt.date | None = None,
) -> Settlement:
    """Settle an allocation order: received × the allocation day's market price, per line.

    Each price carries its source (a monitoring record or where it was looked up).
    """
    order = _locked(AllocationOrder, order.pk)
    if by is not None and not reaches(scope_for(by), SETTLE_ROLES, order.payer):
        raise NotAllowed()
    _require_state(order, AllocationOrder.State.RECEIVED)
    if Settlement.objects.filter(order=order).exists():
        raise Conflict(_("This allocation order is already being settled."))
    errors, rows = [], []
    for line in order.lines.order_by("pk"):
        label = f"{line.item} {line.spec}".strip()
        received = accepted_so_far(line)
        spec = prices.get(line.pk)
        price = qty(spec.market_price, allow_zero=True) if spec else None
        source = (spec.source or "").strip()[:200] if spec else ""
        if price is None:
            errors.append(
                str(_("%(line)s: give the market price on the allocation day.") % {"line": label})
            )
            continue
        if not source:
            errors.append(
                str(_("%(line)s: say where the market price comes from.") % {"line": label})
            )
            continue
        rows.append(
            SettlementLine(
                allocation_line=line,
                received=received,
                market_price=price,
                price_source=source,
                order_price=line.unit_price,
                amount=(received * price).quantize(CENT),
                order_amount=(received * line.unit_price).quantize(CENT),
            )
        )
    if errors:
        raise InvalidInput(" ".join(errors))
    start = started_on or timezone.localdate()
    due_on, provisional = settlement_due(start)
    settlement = Settlement(
        order=order,
        number=next_number("JS", start.year),
        started_on=start,
        due_on=due_on,
        due_provisional=provisional,
        started_by=by,
        market_total=sum((r.amount for r in rows), ZERO),
        order_total=sum((r.order_amount for r in rows), ZERO),
    )
    _audit(settlement, by, "start")
    settlement.save()
    for row in rows:
        row.settlement = settlement
    SettlementLine.objects.bulk_create(rows)
    return settlement


@transaction.atomic
def settlement_pay(
    *, settlement: Settlement, paid_on: dt.date, reference: str, by: User | None
) -> Settlement:
    """Record that the paying unit has paid the enterprise."""
    settlement = _locked(Settlement, settlement.pk)
    if by is not None and not reaches(scope_for(by), SETTLE_ROLES, settlement.order.payer):
        raise NotAllowed()
    _require_state(settlement, Settlement.State.OPEN)
    if paid_on < settlement.started_on:
        raise InvalidInput(_("Payment cannot be before the settlement started."))
    if not reference.strip():
        raise InvalidInput(_("Give the payment reference (voucher or transfer number)."))
    settlement.state, settlement.paid_on = Settlement.State.PAID, paid_on
    settlement.payment_reference = reference.strip()[:60]
    _audit(settlement, by, "pay")
    settlement.save()
    return settlement


@transaction.atomic
def settlement_refresh_due_dates() -> int:
    """Recompute provisional due dates (after the holiday calendar package learns a new year).

    Returns how many changed. Locks the open provisional settlements it rewrites.
    """
    changed = 0
    for settlement in (
        Settlement.objects.select_for_update()
        .filter(state=Settlement.State.OPEN, due_provisional=True)
        .order_by("pk")
    ):
        due_on, provisional = settlement_due(settlement.started_on)
        if (due_on, provisional) != (settlement.due_on, settlement.due_provisional):
            settlement.due_on, settlement.due_provisional = due_on, provisional
            _audit(settlement, None, "holiday calendar updated")
            settlement.save(update_fields=["due_on", "due_provisional", "updated_at"])
            changed += 1
    return changed
