"""The requisition chain's pages and API in the permission matrix (tests/test_permission_matrix.py).

Each side gets one requisition walked all the way: consolidated, approved,
allocated to the side's supplier, confirmed, received at the street, a bag
handed to the side's household, and settled.
"""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from baogong.accounts.models import Role
from baogong.requisitions import ledger, services
from baogong.requisitions.models import Stock

VIEW = {Role.DISTRICT_ADMIN, Role.STREET_STAFF, Role.COMMUNITY_STAFF, Role.BUREAU_STAFF}
FOLLOW = VIEW | {Role.SUPPLIER}


def build(side) -> dict:
    requisition = services.requisition_create(
        community=side.community,
        lines=[services.LineSpec(item="大米", spec="5kg", quantity="10", unit="袋")],
        by=None,
        submit=True,
    )
    line = requisition.lines.get()
    services.requisition_review(
        requisition=requisition, decisions={line.pk: services.Decision("approve")}, by=None
    )
    request = services.street_request_create(
        street=side.street, requisitions=[requisition], by=None
    )
    services.street_request_submit(request=request, by=None)
    request_line = request.lines.get()
    services.street_request_decide(
        request=request, decisions={request_line.pk: services.Decision("approve")}, by=None
    )
    order = services.allocation_issue(
        request=request,
        supplier=side.supplier,
        lines={request_line.pk: services.AllocationSpec("10", "45.00")},
        delivery_area=side.street,
        delivery_place="街道办",
        delivery_at=timezone.now(),
        contact_name="王测试",
        contact_phone="17000000001",
        by=None,
        allocation_date=dt.date(2026, 3, 2),
    )
    allocation_line = order.lines.get()
    services.allocation_confirm(
        order=order, lines={allocation_line.pk: services.Confirmation("10")}, by=None
    )
    ledger.receipt_record(
        order=order, lines={allocation_line.pk: ledger.ReceiptSpec(delivered="10")}, by=None
    )
    stock = Stock.objects.get(holder=side.street)
    entry = ledger.distribute(stock=stock, quantity="1", to_household=side.household, by=None)
    settlement = ledger.settlement_start(
        order=order, prices={allocation_line.pk: ledger.PriceSpec("46", "询价")}, by=None
    )
    return {
        "requisition": requisition,
        "street_request": request,
        "allocation": order,
        "stock": stock,
        "distribution": entry,
        "settlement": settlement,
    }


def _x(name):
    return lambda s: {"pk": s.extra[name].pk}


TARGETS = {
    "requisitions:requisition_detail": ("get", _x("requisition"), VIEW),
    "requisitions:requisition_submit": ("post", _x("requisition"), {Role.COMMUNITY_STAFF}),
    "requisitions:requisition_review": ("get", _x("requisition"), {Role.STREET_STAFF}),
    "requisitions:request_detail": ("get", _x("street_request"), VIEW),
    "requisitions:request_submit": ("post", _x("street_request"), {Role.STREET_STAFF}),
    "requisitions:request_decide": ("get", _x("street_request"), {Role.BUREAU_STAFF}),
    "requisitions:allocation_create": ("get", _x("street_request"), {Role.BUREAU_STAFF}),
    "requisitions:allocation_detail": ("get", _x("allocation"), FOLLOW),
    "requisitions:allocation_confirm": ("get", _x("allocation"), {Role.SUPPLIER}),
    "requisitions:allocation_cancel": ("post", _x("allocation"), {Role.BUREAU_STAFF}),
    "requisitions:allocation_pdf": ("get", _x("allocation"), FOLLOW),
    "requisitions:receipt_create": ("get", _x("allocation"), {Role.STREET_STAFF}),
    "requisitions:distribute": ("get", _x("stock"), {Role.STREET_STAFF}),
    "requisitions:distribution_detail": ("get", _x("distribution"), VIEW),
    "requisitions:settlement_create": (
        "get",
        _x("allocation"),
        {Role.STREET_STAFF, Role.BUREAU_STAFF},
    ),
    "requisitions:settlement_detail": ("get", _x("settlement"), FOLLOW),
    "requisitions:settlement_pdf": ("get", _x("settlement"), FOLLOW),
    "requisitions:settlement_xlsx": ("get", _x("settlement"), FOLLOW),
    "requisitions:settlement_pay": (
        "post",
        _x("settlement"),
        {Role.STREET_STAFF, Role.BUREAU_STAFF},
    ),
}
NOT_OBJECT_SCOPED = {
    # Lists and forms: each shows only the user's scope (tests/requisitions/test_views.py).
    "requisitions:dashboard",
    "requisitions:requisition_list",
    "requisitions:requisition_create",
    "requisitions:request_create",
    "requisitions:allocation_list",
    "requisitions:stock_list",
    "requisitions:settlement_list",
    # Public on purpose: the QR's page shows number, validity and issuer only (tested).
    "requisitions:allocation_verify",
}
API_TARGETS = {
    "api:allocation_order_detail": ("get", lambda s: {"order_id": s.extra["allocation"].pk}),
    "api:allocation_order_confirm": ("post", lambda s: {"order_id": s.extra["allocation"].pk}),
}
API_UNSCOPED = {"api:allocation_order_list"}  # lists only the token's supplier's orders
