"""Reads of the requisition chain, scoped to a user, shared by pages, documents and the API.

A staff role reaches documents of its subtree: a requisition by its community,
a street request and its allocation orders by the street, or by any community
whose requisition lines it consolidates (so a community follows its goods
forward); the receiving team by the delivery place; an enterprise's users by
the supplier. Nothing here raises Http404; views decide.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING

from django.apps import apps
from django.db.models import Count, Exists, OuterRef, Q, QuerySet, Sum
from django.utils import timezone

from baogong.requisitions.access import RECEIVE_ROLES, VIEW_ROLES
from baogong.requisitions.models import (
    AllocationOrder,
    DistributionEntry,
    ReceiptLine,
    RequestSource,
    Requisition,
    Settlement,
    Stock,
    StreetRequest,
)

if TYPE_CHECKING:
    from baogong.accounts.scoping import Scope

ZERO = Decimal("0.00")


def _under(field_path: str, paths: list[str]) -> Q:
    q = Q(pk__in=[])
    for path in paths:
        q |= Q(**{f"{field_path}__startswith": path})
    return q


def requisitions_for(scope: Scope) -> QuerySet[Requisition]:
    qs = Requisition.objects.select_related("community", "community__parent", "raised_by")
    if scope.superuser:
        return qs
    return qs.filter(_under("community__path", scope.paths_for(VIEW_ROLES)))


def _request_visible(scope: Scope, prefix: str = "") -> Q:
    """Street requests the user reaches: by the street, or by a source community."""
    paths = scope.paths_for(VIEW_ROLES)
    sources = RequestSource.objects.filter(
        request_line__request=OuterRef(f"{prefix}pk" if prefix else "pk")
    ).filter(_under("requisition_line__requisition__community__path", paths))
    return _under(f"{prefix}street__path", paths) | Q(Exists(sources))


def requests_for(scope: Scope) -> QuerySet[StreetRequest]:
    qs = StreetRequest.objects.select_related("street", "created_by")
    if scope.superuser:
        return qs
    return qs.filter(_request_visible(scope))


def allocations_for(scope: Scope) -> QuerySet[AllocationOrder]:
    qs = AllocationOrder.objects.select_related(
        "request", "request__street", "supplier", "delivery_area", "payer"
    )
    if scope.superuser:
        return qs
    visible_requests = requests_for(scope).values("pk")
    return qs.filter(
        Q(request__in=visible_requests)
        | _under("delivery_area__path", scope.paths_for(RECEIVE_ROLES))
        | Q(supplier_id__in=scope.supplier_ids)
    )


def settlements_for(scope: Scope) -> QuerySet[Settlement]:
    return Settlement.objects.select_related(
        "order", "order__supplier", "order__payer", "order__request"
    ).filter(order__in=allocations_for(scope).values("pk"))


def stocks_for(scope: Scope) -> QuerySet[Stock]:
    qs = Stock.objects.select_related(
        "holder",
        "receipt_line",
        "receipt_line__allocation_line",
        "receipt_line__receipt__order",
    )
    if not scope.superuser:
        qs = qs.filter(_under("holder__path", scope.paths_for(RECEIVE_ROLES | VIEW_ROLES)))
    return qs.order_by("holder__path", "-receipt_line_id")


def distributions_for(scope: Scope) -> QuerySet[DistributionEntry]:
    qs = DistributionEntry.objects.select_related(
        "from_area",
        "to_area",
        "to_household",
        "to_household__building",
        "to_resident",
        "receipt_line__allocation_line__order",
        "distributed_by",
    )
    if scope.superuser:
        return qs
    paths = scope.paths_for(VIEW_ROLES | RECEIVE_ROLES)
    return qs.filter(
        _under("from_area__path", paths)
        | _under("to_area__path", paths)
        | _under("to_household__building__path", paths)
    )


# --- traceability ----------------------------------------------------------------------


def trace_back(entry: DistributionEntry) -> dict:
    """From a distribution line to the receipt, allocation order, request and requisitions."""
    lot: ReceiptLine | None = entry.receipt_line
    if lot is None:
        return {}
    allocation_line = lot.allocation_line
    request_line = allocation_line.request_line
    sources = list(
        request_line.source_rows.select_related(
            "requisition_line",
            "requisition_line__requisition",
            "requisition_line__requisition__community",
        )
    )
    return {
        "lot": lot,
        "receipt": lot.receipt,
        "allocation_line": allocation_line,
        "order": allocation_line.order,
        "request_line": request_line,
        "request": request_line.request,
        "sources": sources,
    }


def linked_needs(line_ids: list[int]) -> dict[int, int]:
    """How many needs of the welfare ledger each line covers (welfare links them, not us).

    Only the count: which resident needs what is special-care data, shown on the
    welfare pages to those who may see it.
    """
    try:
        need_model = apps.get_model("welfare", "Need")
    except LookupError:
        return {}
    rows = (
        need_model.objects.filter(requisition_line_id__in=line_ids)
        .values("requisition_line_id")
        .annotate(n=Count("pk"))
    )
    return {row["requisition_line_id"]: row["n"] for row in rows}


def trace_forward(requisition: Requisition) -> list[dict]:
    """Per requisition line: its street request line, allocations, receipts and settlement."""
    needs = linked_needs(list(requisition.lines.values_list("pk", flat=True)))
    rows = []
    for line in requisition.lines.prefetch_related("steps").all():
        source = line.source_rows.select_related("request_line", "request_line__request").first()
        request_line = source.request_line if source else None
        allocations = []
        if request_line is not None:
            for allocation_line in request_line.allocation_lines.select_related(
                "order", "order__supplier"
            ):
                order = allocation_line.order
                allocations.append(
                    {
                        "line": allocation_line,
                        "order": order,
                        "received": allocation_line.receipt_lines.aggregate(t=Sum("accepted"))["t"]
                        or ZERO,
                        "settlement": Settlement.objects.filter(order=order).first(),
                    }
                )
        rows.append(
            {
                "line": line,
                "source": source,
                "request_line": request_line,
                "allocations": allocations,
                "needs": needs.get(line.pk, 0),
            }
        )
    return rows


# --- dashboard -------------------------------------------------------------------------

AGE_BUCKETS = ((1, "under_1"), (3, "1_to_3"), (None, "over_3"))


@dataclass
class StreetFigures:
    street: object
    requisitions: dict = field(default_factory=lambda: defaultdict(int))  # state -> count
    ages: dict = field(default_factory=lambda: defaultdict(int))  # bucket -> count
    in_transit: int = 0
    shortages: int = 0
    due: int = 0
    overdue: int = 0
    due_amount: Decimal = ZERO


def dashboard(scope: Scope) -> list[StreetFigures]:
    """Open requisitions by stage and age, allocations in transit, receipts with shortages,
    settlements due and overdue — one row per street office, the district total last."""
    now, today = timezone.now(), timezone.localdate()
    rows: dict[int, StreetFigures] = {}

    def row(street) -> StreetFigures:
        if street.pk not in rows:
            rows[street.pk] = StreetFigures(street=street)
        return rows[street.pk]

    open_states = (Requisition.State.DRAFT, Requisition.State.SUBMITTED, Requisition.State.REVIEWED)
    for requisition in requisitions_for(scope).filter(state__in=open_states):
        figures = row(requisition.community.parent)
        figures.requisitions[requisition.state] += 1
        days = (now - (requisition.submitted_at or requisition.created_at)).days
        bucket = next(name for limit, name in AGE_BUCKETS if limit is None or days < limit)
        figures.ages[bucket] += 1
    for request in requests_for(scope).filter(
        state__in=(
            StreetRequest.State.DRAFT,
            StreetRequest.State.SUBMITTED,
            StreetRequest.State.APPROVED,
        )
    ):
        row(request.street).requisitions[f"request_{request.state}"] += 1
    for order in allocations_for(scope).filter(
        state__in=(AllocationOrder.State.ISSUED, AllocationOrder.State.CONFIRMED)
    ):
        row(order.request.street).in_transit += 1
    short = ReceiptLine.objects.filter(
        Q(shortage__gt=0) | Q(damaged__gt=0) | Q(rejected__gt=0),
        receipt__order__in=allocations_for(scope).values("pk"),
    ).select_related("receipt__order__request__street")
    for _receipt_id, street in {
        (line.receipt_id, line.receipt.order.request.street) for line in short
    }:
        row(street).shortages += 1
    for settlement in settlements_for(scope).filter(state=Settlement.State.OPEN):
        figures = row(settlement.order.payer)
        figures.due += 1
        figures.due_amount += settlement.market_total
        if settlement.due_on < today:
            figures.overdue += 1
    return sorted(rows.values(), key=lambda f: f.street.path)
