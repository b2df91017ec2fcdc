"""Requisition → street request → approvals → allocation order: the chain's first half.

Each service checks who acts (`by=`), locks the document it moves (SELECT … FOR
UPDATE) so two approvers clicking at once cannot both move it, validates every
line first and raises one InvalidInput listing each bad line, then writes.
Receipts, distributions and settlements are in `ledger.py`.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from baogong.accounts.scoping import scope_for
from baogong.areas.models import Area
from baogong.core.errors import Conflict, InvalidInput, NotAllowed
from baogong.requisitions.access import BUREAU_ROLES, RAISE_ROLES, STREET_ROLES, reaches
from baogong.requisitions.models import (
    AllocationLine,
    AllocationOrder,
    ApprovalStep,
    NumberSequence,
    RequestSource,
    Requisition,
    RequisitionLine,
    StreetRequest,
    StreetRequestLine,
    Urgency,
)

if TYPE_CHECKING:
    from baogong.accounts.models import User
    from baogong.supply.models import Supplier

CENT = Decimal("0.01")


@dataclass(frozen=True)
class LineSpec:
    item: str
    quantity: Any
    unit: str
    spec: str = ""
    reason: str = ""
    urgency: str = Urgency.NORMAL
    needs_note: str = ""


@dataclass(frozen=True)
class Decision:
    decision: str  # ApprovalStep.Decision
    quantity: Any = None  # for "reduce"
    reason: str = ""


# --- helpers ---------------------------------------------------------------------------


def parse_quantity(value: Any, *, allow_zero: bool = False) -> Decimal | None:
    """A quantity as Decimal with 2 places, or None if it is not a number > 0 (≥ 0)."""
    try:
        number = Decimal(str(value).strip().replace(",", ""))
    except (InvalidOperation, ValueError):
        return None
    if not number.is_finite() or number < 0 or (number == 0 and not allow_zero):
        return None
    if number != number.quantize(CENT) or number >= Decimal("1e10"):
        return None
    return number.quantize(CENT)


def next_number(prefix: str, year: int, digits: int = 6) -> str:
    """The next document number for (prefix, year): DB-2026-000123."""
    NumberSequence.objects.get_or_create(prefix=prefix, year=year)
    # Locks the counter row: two documents issued at once cannot get the same number.
    row = NumberSequence.objects.select_for_update().get(prefix=prefix, year=year)
    row.last += 1
    row.save(update_fields=["last"])
    return f"{prefix}-{year}-{row.last:0{digits}d}"


def _audit(obj: Any, by: User | None, reason: str) -> None:
    obj._history_user = by
    obj._change_reason = reason


def _locked(model: type, pk: int) -> Any:
    return model.objects.select_for_update().get(pk=pk)


def _require(by: User | None, roles: frozenset[str], area: Area) -> None:
    if by is not None and not reaches(scope_for(by), roles, area):
        raise NotAllowed()


def _require_state(obj: Any, *states: str) -> None:
    if obj.state not in states:
        raise Conflict(
            _("This document is %(state)s; that cannot be done now."),
            state=obj.get_state_display(),
        )


def _decide_all(lines: list, decisions: dict[int, Decision]) -> list:
    """Check a decision for every line; raise one error naming every line that is wrong."""
    errors: list[str] = []
    decided = [
        _decide(f"{line.item} {line.spec}".strip(), line.quantity, decisions.get(line.pk), errors)
        for line in lines
    ]
    if errors:
        raise InvalidInput(" ".join(errors))
    return decided


def _decide(
    line_label: str, requested: Decimal, decision: Decision | None, errors: list[str]
) -> tuple[str, Decimal, str] | None:
    """Check one approver's decision on one line; return (decision, quantity, reason)."""
    if decision is None:
        errors.append(str(_("%(line)s: decide this line.") % {"line": line_label}))
        return None
    reason = (decision.reason or "").strip()[:200]
    kind = decision.decision
    if kind == ApprovalStep.Decision.APPROVE:
        return kind, requested, reason
    if kind == ApprovalStep.Decision.REJECT:
        if not reason:
            errors.append(str(_("%(line)s: give a reason for rejecting.") % {"line": line_label}))
            return None
        return kind, Decimal("0.00"), reason
    if kind == ApprovalStep.Decision.REDUCE:
        quantity = parse_quantity(decision.quantity)
        if quantity is None or quantity >= requested:
            errors.append(
                str(
                    _("%(line)s: a reduced quantity must be more than 0 and less than %(qty)s.")
                    % {"line": line_label, "qty": requested}
                )
            )
            return None
        if not reason:
            errors.append(str(_("%(line)s: give a reason for reducing.") % {"line": line_label}))
            return None
        return kind, quantity, reason
    errors.append(str(_("%(line)s: unknown decision.") % {"line": line_label}))
    return None


# --- requisitions ----------------------------------------------------------------------


def check_lines(lines: list[LineSpec]) -> list[dict]:
    """Validate requisition lines; return clean rows or raise InvalidInput naming each bad one."""
    errors, rows = [], []
    if not lines:
        raise InvalidInput(_("Add at least one line."))
    for number, line in enumerate(lines, start=1):
        item, unit = line.item.strip(), line.unit.strip()
        quantity = parse_quantity(line.quantity)
        if not item:
            errors.append(str(_("Line %(n)s: name the item.") % {"n": number}))
        if not unit:
            errors.append(str(_("Line %(n)s: give the unit (kg, bag, box…).") % {"n": number}))
        if quantity is None:
            errors.append(
                str(_("Line %(n)s: the quantity must be a number above 0.") % {"n": number})
            )
        if line.urgency not in Urgency.values:
            errors.append(str(_("Line %(n)s: unknown urgency.") % {"n": number}))
        rows.append(
            {
                "item": item[:60],
                "spec": line.spec.strip()[:60],
                "unit": unit[:10],
                "quantity": quantity,
                "reason": line.reason.strip()[:200],
                "urgency": line.urgency,
                "needs_note": line.needs_note.strip()[:200],
            }
        )
    if errors:
        raise InvalidInput(" ".join(errors))
    return rows


@transaction.atomic
def requisition_create(
    *,
    community: Area,
    lines: list[LineSpec],
    by: User | None,
    urgency: str = Urgency.NORMAL,
    note: str = "",
    submit: bool = False,
) -> Requisition:
    """Raise a community's requisition (a draft unless `submit`)."""
    if community.kind != Area.Kind.COMMUNITY:
        raise InvalidInput(_("A supply request is raised by a community or village."))
    _require(by, RAISE_ROLES, community)
    rows = check_lines(lines)
    now = timezone.now()
    requisition = Requisition(
        number=next_number("SQ", timezone.localdate().year),
        community=community,
        urgency=urgency,
        note=note.strip()[:300],
        raised_by=by,
    )
    _audit(requisition, by, "create")
    requisition.save()
    RequisitionLine.objects.bulk_create(
        RequisitionLine(requisition=requisition, **row) for row in rows
    )
    if submit:
        requisition.state, requisition.submitted_at = Requisition.State.SUBMITTED, now
        _audit(requisition, by, "submit")
        requisition.save()
    return requisition


@transaction.atomic
def requisition_submit(*, requisition: Requisition, by: User | None) -> Requisition:
    """Send a draft to the street office."""
    requisition = _locked(Requisition, requisition.pk)
    _require(by, RAISE_ROLES, requisition.community)
    _require_state(requisition, Requisition.State.DRAFT)
    requisition.state, requisition.submitted_at = Requisition.State.SUBMITTED, timezone.now()
    _audit(requisition, by, "submit")
    requisition.save()
    return requisition


@transaction.atomic
def requisition_review(
    *, requisition: Requisition, decisions: dict[int, Decision], by: User | None
) -> Requisition:
    """The street office decides every line: approve, reduce or reject (both with a reason)."""
    requisition = _locked(Requisition, requisition.pk)
    _require(by, STREET_ROLES, requisition.community)
    _require_state(requisition, Requisition.State.SUBMITTED)
    lines = list(requisition.lines.order_by("pk"))
    decided = _decide_all(lines, decisions)
    now = timezone.now()
    steps = []
    for line, (kind, quantity, reason) in zip(lines, decided, strict=True):
        line.street_quantity = quantity
        _audit(line, by, f"street {kind}")
        line.save(update_fields=["street_quantity", "updated_at"])
        steps.append(
            ApprovalStep(
                level=ApprovalStep.Level.STREET,
                requisition_line=line,
                decision=kind,
                quantity=quantity,
                reason=reason,
                decided_by=by,
                decided_at=now,
            )
        )
    ApprovalStep.objects.bulk_create(steps)
    all_rejected = all(q == 0 for _k, q, _r in decided)
    requisition.state = Requisition.State.REJECTED if all_rejected else Requisition.State.REVIEWED
    requisition.reviewed_at = now
    _audit(requisition, by, "review")
    requisition.save()
    return requisition


# --- street requests -------------------------------------------------------------------


@transaction.atomic
def street_request_create(
    *, street: Area, requisitions: list[Requisition], by: User | None, note: str = ""
) -> StreetRequest:
    """Consolidate reviewed requisitions of one street into one request to the bureau.

    Lines of the same item and specification add up; each keeps its sources. The
    same item in different units is refused: adding kg to bags would be wrong.
    """
    if street.kind != Area.Kind.STREET:
        raise InvalidInput(_("Consolidate at a street office."))
    _require(by, STREET_ROLES, street)
    if not requisitions:
        raise InvalidInput(_("Choose at least one reviewed supply request."))
    # Locked in pk order: two consolidations of overlapping requests cannot both take one.
    locked = list(
        Requisition.objects.select_for_update()
        .filter(pk__in=[r.pk for r in requisitions])
        .order_by("pk")
    )
    for requisition in locked:
        if not requisition.community.path.startswith(street.path):
            raise InvalidInput(
                _("%(number)s is not from this street office."), number=requisition.number
            )
        _require_state(requisition, Requisition.State.REVIEWED)
    groups: dict[tuple[str, str], list[RequisitionLine]] = defaultdict(list)
    for line in RequisitionLine.objects.filter(
        requisition__in=locked, street_quantity__gt=0
    ).order_by("pk"):
        groups[(line.item, line.spec)].append(line)
    errors = []
    for (item, spec), lines in groups.items():
        units = sorted({line.unit for line in lines})
        if len(units) > 1:
            errors.append(
                str(
                    _("%(item)s uses different units (%(units)s): make them match first.")
                    % {"item": f"{item} {spec}".strip(), "units": "、".join(units)}
                )
            )
    if errors:
        raise InvalidInput(" ".join(errors))
    request = StreetRequest(
        number=next_number("JD", timezone.localdate().year),
        street=street,
        note=note.strip()[:300],
        created_by=by,
    )
    _audit(request, by, "consolidate")
    request.save()
    for (item, spec), lines in groups.items():
        request_line = StreetRequestLine.objects.create(
            request=request,
            item=item,
            spec=spec,
            unit=lines[0].unit,
            quantity=sum((line.street_quantity for line in lines), Decimal("0.00")),
        )
        RequestSource.objects.bulk_create(
            RequestSource(
                request_line=request_line, requisition_line=line, quantity=line.street_quantity
            )
            for line in lines
        )
    for requisition in locked:
        requisition.state = Requisition.State.CONSOLIDATED
        _audit(requisition, by, f"consolidated into {request.number}")
        requisition.save()
    return request


@transaction.atomic
def street_request_submit(*, request: StreetRequest, by: User | None) -> StreetRequest:
    request = _locked(StreetRequest, request.pk)
    _require(by, STREET_ROLES, request.street)
    _require_state(request, StreetRequest.State.DRAFT)
    request.state, request.submitted_at = StreetRequest.State.SUBMITTED, timezone.now()
    _audit(request, by, "submit")
    request.save()
    return request


@transaction.atomic
def street_request_decide(
    *, request: StreetRequest, decisions: dict[int, Decision], by: User | None
) -> StreetRequest:
    """The commerce bureau decides every line of a submitted request."""
    request = _locked(StreetRequest, request.pk)
    _require(by, BUREAU_ROLES, request.street)
    _require_state(request, StreetRequest.State.SUBMITTED)
    lines = list(request.lines.order_by("pk"))
    decided = _decide_all(lines, decisions)
    now = timezone.now()
    for line, (kind, quantity, reason) in zip(lines, decided, strict=True):
        line.bureau_quantity = quantity
        _audit(line, by, f"bureau {kind}")
        line.save(update_fields=["bureau_quantity", "updated_at"])
        ApprovalStep.objects.create(
            level=ApprovalStep.Level.BUREAU,
            request_line=line,
            decision=kind,
            quantity=quantity,
            reason=reason,
            decided_by=by,
            decided_at=now,
        )
    all_rejected = all(q == 0 for _k, q, _r in decided)
    request.state = StreetRequest.State.REJECTED if all_rejected else StreetRequest.State.APPROVED
    request.decided_at = now
    _audit(request, by, "decide")
    request.save()
    return request


# --- allocation orders -----------------------------------------------------------------


@dataclass(frozen=True)
class AllocationSpec:
    quantity: Any
    unit_price: Any


def allocated_so_far(request_line: StreetRequestLine) -> Decimal:
    total = request_line.allocation_lines.exclude(
        order__state=AllocationOrder.State.CANCELLED
    ).aggregate(total=Sum("quantity"))["total"]
    return total or Decimal("0.00")


@transaction.atomic
def allocation_issue(
    *,
    request: StreetRequest,
    supplier: Supplier,
    lines: dict[int, AllocationSpec],
    delivery_area: Area,
    delivery_place: str,
    delivery_at: dt.datetime,
    contact_name: str,
    contact_phone: str,
    by: User | None,
    allocation_date: dt.date | None = None,
) -> AllocationOrder:
    """Issue an allocation order (调拨单) to a supply enterprise for approved lines.

    Several orders may share a request (one per enterprise); together they never
    exceed what the bureau approved per line.
    """
    request = _locked(StreetRequest, request.pk)
    _require(by, BUREAU_ROLES, request.street)
    _require_state(request, StreetRequest.State.APPROVED, StreetRequest.State.ALLOCATED)
    if not delivery_area.path.startswith(request.street.path):
        raise InvalidInput(_("Deliver to the requesting street office or one of its communities."))
    errors = []
    if not delivery_place.strip():
        errors.append(str(_("Give the delivery place.")))
    if not contact_name.strip() or not contact_phone.strip():
        errors.append(str(_("Give a contact name and phone number.")))
    rows = []
    request_lines = {line.pk: line for line in request.lines.all()}
    for pk, spec in lines.items():
        line = request_lines.get(pk)
        if line is None:
            errors.append(str(_("A line is not part of this request.")))
            continue
        if spec.quantity in (None, "", 0, "0") and spec.unit_price in (None, ""):
            continue  # this enterprise does not supply the line
        quantity = parse_quantity(spec.quantity)
        price = parse_quantity(spec.unit_price, allow_zero=True)
        remaining = (line.bureau_quantity or Decimal("0.00")) - allocated_so_far(line)
        label = f"{line.item} {line.spec}".strip()
        if quantity is None:
            errors.append(str(_("%(line)s: the quantity must be above 0.") % {"line": label}))
        elif quantity > remaining:
            errors.append(
                str(
                    _("%(line)s: only %(qty)s %(unit)s approved and not yet allocated.")
                    % {"line": label, "qty": remaining, "unit": line.unit}
                )
            )
        if price is None:
            errors.append(str(_("%(line)s: give the unit price in yuan.") % {"line": label}))
        rows.append((line, quantity, price))
    if not rows and not errors:
        errors.append(str(_("Allocate at least one line.")))
    if errors:
        raise InvalidInput(" ".join(errors))
    day = allocation_date or timezone.localdate()
    order = AllocationOrder(
        number=next_number("DB", day.year),
        request=request,
        supplier=supplier,
        allocation_date=day,
        delivery_area=delivery_area,
        delivery_place=delivery_place.strip()[:200],
        delivery_at=delivery_at,
        contact_name=contact_name.strip()[:50],
        contact_phone=contact_phone.strip()[:24],
        payer=request.street,
        issued_by=by,
    )
    _audit(order, by, "issue")
    order.save()
    AllocationLine.objects.bulk_create(
        AllocationLine(
            order=order,
            request_line=line,
            item=line.item,
            spec=line.spec,
            unit=line.unit,
            quantity=quantity,
            unit_price=price,
        )
        for line, quantity, price in rows
    )
    if request.state != StreetRequest.State.ALLOCATED:
        request.state = StreetRequest.State.ALLOCATED
        _audit(request, by, f"allocated by {order.number}")
        request.save()
    return order


@dataclass(frozen=True)
class Confirmation:
    quantity: Any
    reason: str = ""


@transaction.atomic
def allocation_confirm(
    *,
    order: AllocationOrder,
    lines: dict[int, Confirmation],
    by: User | None,
    supplier_ids: set[int] | None = None,
) -> AllocationOrder:
    """The enterprise confirms each line, or reports (with a reason) what it cannot supply.

    `supplier_ids` is the acting API client's supplier; pages pass `by`. Confirming
    again with the same figures changes nothing (a retried request is harmless).
    """
    order = _locked(AllocationOrder, order.pk)
    if by is not None:
        scope = scope_for(by)
        supplier_ids = scope.supplier_ids if not scope.superuser else {order.supplier_id}
    if supplier_ids is not None and order.supplier_id not in supplier_ids:
        raise NotAllowed()
    order_lines = list(order.lines.order_by("pk"))
    errors, rows = [], []
    for line in order_lines:
        spec = lines.get(line.pk)
        label = f"{line.item} {line.spec}".strip()
        if spec is None:
            errors.append(str(_("%(line)s: confirm a quantity.") % {"line": label}))
            continue
        quantity = parse_quantity(spec.quantity, allow_zero=True)
        reason = (spec.reason or "").strip()[:200]
        if quantity is None or quantity > line.quantity:
            errors.append(
                str(
                    _("%(line)s: confirm between 0 and %(qty)s.")
                    % {"line": label, "qty": line.quantity}
                )
            )
        elif quantity < line.quantity and not reason:
            errors.append(
                str(_("%(line)s: say why not all of it can be supplied.") % {"line": label})
            )
        rows.append((line, quantity, reason))
    if errors:
        raise InvalidInput(" ".join(errors))
    if order.state == AllocationOrder.State.CONFIRMED and all(
        line.confirmed_quantity == quantity for line, quantity, _r in rows
    ):
        return order
    _require_state(order, AllocationOrder.State.ISSUED)
    for line, quantity, reason in rows:
        line.confirmed_quantity, line.shortfall_reason = quantity, reason
        _audit(line, by, "confirm")
        line.save(update_fields=["confirmed_quantity", "shortfall_reason", "updated_at"])
    order.state, order.confirmed_at = AllocationOrder.State.CONFIRMED, timezone.now()
    _audit(order, by, "confirm")
    order.save()
    return order


@transaction.atomic
def allocation_cancel(*, order: AllocationOrder, by: User | None, reason: str) -> AllocationOrder:
    """The bureau withdraws an order nothing has been received for; its lines free up again."""
    order = _locked(AllocationOrder, order.pk)
    _require(by, BUREAU_ROLES, order.request.street)
    _require_state(order, AllocationOrder.State.ISSUED, AllocationOrder.State.CONFIRMED)
    if not reason.strip():
        raise InvalidInput(_("Give a reason for cancelling."))
    order.state = AllocationOrder.State.CANCELLED
    _audit(order, by, f"cancel: {reason.strip()[:80]}")
    order.save()
    return order
