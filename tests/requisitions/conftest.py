from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

import pytest
from django.utils import timezone

from baogong.accounts.models import Role, User
from baogong.requisitions import ledger, services
from baogong.requisitions.models import AllocationOrder, Receipt, Requisition, StreetRequest
from baogong.supply.models import Supplier

D = Decimal


@dataclass
class Chain:
    """The people of one street's chain plus helpers that walk a requisition along it."""

    tree: object
    community_staff: User
    street_staff: User
    bureau: User
    supplier_user: User
    other_community_staff: User
    other_street_staff: User
    supplier: Supplier

    def requisition(self, *lines, submit=True, community=None) -> Requisition:
        lines = lines or (
            services.LineSpec(item="大米", spec="5kg装", quantity="20", unit="袋", reason="断粮"),
            services.LineSpec(item="食用油", spec="5L", quantity="10", unit="桶"),
        )
        return services.requisition_create(
            community=community or self.tree.community_a,
            lines=list(lines),
            by=self.community_staff,
            submit=submit,
        )

    def reviewed(self, requisition=None) -> Requisition:
        requisition = requisition or self.requisition()
        decisions = {line.pk: services.Decision("approve") for line in requisition.lines.all()}
        return services.requisition_review(
            requisition=requisition, decisions=decisions, by=self.street_staff
        )

    def submitted_request(self, *requisitions) -> StreetRequest:
        requisitions = requisitions or (self.reviewed(),)
        request = services.street_request_create(
            street=self.tree.street_a, requisitions=list(requisitions), by=self.street_staff
        )
        return services.street_request_submit(request=request, by=self.street_staff)

    def approved_request(self, request=None) -> StreetRequest:
        request = request or self.submitted_request()
        decisions = {line.pk: services.Decision("approve") for line in request.lines.all()}
        return services.street_request_decide(request=request, decisions=decisions, by=self.bureau)

    def allocation(self, request=None) -> AllocationOrder:
        request = request or self.approved_request()
        return services.allocation_issue(
            request=request,
            supplier=self.supplier,
            lines={
                line.pk: services.AllocationSpec(line.bureau_quantity, "50.00")
                for line in request.lines.all()
            },
            delivery_area=self.tree.street_a,
            delivery_place="街道办大院",
            delivery_at=timezone.now() + dt.timedelta(hours=6),
            contact_name="王测试",
            contact_phone="17000009999",
            by=self.bureau,
            allocation_date=dt.date(2026, 3, 2),
        )

    def confirmed(self, order=None) -> AllocationOrder:
        order = order or self.allocation()
        return services.allocation_confirm(
            order=order,
            lines={line.pk: services.Confirmation(line.quantity) for line in order.lines.all()},
            by=self.supplier_user,
        )

    def received(self, order=None) -> Receipt:
        order = order or self.confirmed()
        ledger.receipt_record(
            order=order,
            lines={
                line.pk: ledger.ReceiptSpec(delivered=line.confirmed_quantity)
                for line in order.lines.all()
            },
            by=self.street_staff,
        )
        return order


@pytest.fixture
def chain(tree, user_with_role) -> Chain:
    supplier = Supplier.objects.create(name="测试国有保供企业", kind=Supplier.Kind.STATE_ENTERPRISE)
    return Chain(
        tree=tree,
        community_staff=user_with_role(Role.COMMUNITY_STAFF, tree.community_a),
        street_staff=user_with_role(Role.STREET_STAFF, tree.street_a),
        bureau=user_with_role(Role.BUREAU_STAFF, tree.district),
        supplier_user=user_with_role(Role.SUPPLIER, supplier),
        other_community_staff=user_with_role(Role.COMMUNITY_STAFF, tree.community_b),
        other_street_staff=user_with_role(Role.STREET_STAFF, tree.street_b),
        supplier=supplier,
    )
