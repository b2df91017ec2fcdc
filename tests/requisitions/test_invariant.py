"""For any sequence of receipts and distributions: received = distributed + on hand, per level.

Hypothesis draws the sequence; each example runs in its own transaction on a
world built once. A distribution asking for more than is on hand must be refused
and change nothing. Derandomized so the suite is deterministic.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal

from django.db.models import Sum
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.django import TestCase

from baogong.accounts.models import Role, RoleGrant
from baogong.areas.models import Area
from baogong.core.errors import Conflict
from baogong.requisitions import ledger, services
from baogong.requisitions.models import DistributionEntry, ReceiptLine, Stock
from baogong.supply.models import Supplier
from tests.factories import HouseholdFactory, UserFactory, make_area

ZERO = Decimal("0.00")
# (from, to) pairs down the tree: street → community → compound → household.
MOVES = [
    ("street", "community"),
    ("street", "compound"),
    ("community", "compound"),
    ("community", "household"),
    ("compound", "household"),
    ("street", "household"),
]
operations = st.lists(
    st.one_of(
        st.tuples(st.just("receive"), st.integers(0, 1), st.integers(1, 30)),
        st.tuples(st.just("move"), st.integers(0, len(MOVES) - 1), st.integers(1, 25)),
    ),
    min_size=1,
    max_size=12,
)


class StockInvariant(TestCase):
    @classmethod
    def setUpTestData(cls):
        district = make_area(Area.Kind.DISTRICT, None, "测试区")
        street = make_area(Area.Kind.STREET, district, "测试街道")
        community = make_area(Area.Kind.COMMUNITY, street, "测试社区")
        compound = make_area(Area.Kind.COMPOUND, community, "测试小区")
        building = make_area(Area.Kind.BUILDING, compound, "1号楼")
        cls.places = {
            "street": street,
            "community": community,
            "compound": compound,
            "household": HouseholdFactory(building=building),
        }
        cls.user = UserFactory()
        RoleGrant.objects.create(user=cls.user, role=Role.STREET_STAFF, area=street)
        RoleGrant.objects.create(user=cls.user, role=Role.COMMUNITY_STAFF, area=community)
        RoleGrant.objects.create(user=cls.user, role=Role.BUREAU_STAFF, area=district)
        staff = UserFactory()
        RoleGrant.objects.create(user=staff, role=Role.COMMUNITY_STAFF, area=community)
        supplier = Supplier.objects.create(name="测试企业", kind=Supplier.Kind.STATE_ENTERPRISE)
        requisition = services.requisition_create(
            community=community,
            lines=[
                services.LineSpec(item="大米", quantity="100", unit="袋"),
                services.LineSpec(item="油", quantity="100", unit="桶"),
            ],
            by=staff,
            submit=True,
        )
        decisions = {line.pk: services.Decision("approve") for line in requisition.lines.all()}
        services.requisition_review(requisition=requisition, decisions=decisions, by=cls.user)
        request = services.street_request_create(
            street=street, requisitions=[requisition], by=cls.user
        )
        services.street_request_submit(request=request, by=cls.user)
        decisions = {line.pk: services.Decision("approve") for line in request.lines.all()}
        services.street_request_decide(request=request, decisions=decisions, by=cls.user)
        cls.order = services.allocation_issue(
            request=request,
            supplier=supplier,
            lines={line.pk: services.AllocationSpec("100", "10") for line in request.lines.all()},
            delivery_area=street,
            delivery_place="街道",
            delivery_at=timezone.now(),
            contact_name="王",
            contact_phone="17000000001",
            by=cls.user,
            allocation_date=dt.date(2026, 3, 2),
        )
        supplier_user = UserFactory()
        RoleGrant.objects.create(user=supplier_user, role=Role.SUPPLIER, supplier=supplier)
        services.allocation_confirm(
            order=cls.order,
            lines={line.pk: services.Confirmation("100") for line in cls.order.lines.all()},
            by=supplier_user,
        )
        cls.lines = list(cls.order.lines.order_by("pk"))

    @settings(
        max_examples=40,
        deadline=None,
        derandomize=True,
        database=None,  # nothing written to .hypothesis/ in the checkout
        suppress_health_check=[HealthCheck.too_slow],
    )
    @given(operations)
    def test_received_equals_distributed_plus_on_hand(self, ops):
        expected = defaultdict(lambda: ZERO)  # (holder name, lot pk) -> on hand
        lots: list[ReceiptLine] = []
        for op in ops:
            if op[0] == "receive":
                line = self.lines[op[1]]
                receipt = ledger.receipt_record(
                    order=self.order,
                    lines={
                        line.pk: ledger.ReceiptSpec(
                            delivered=op[2], reason="分批", over_receipt_reason="补送"
                        )
                    },
                    by=self.user,
                )
                lot = receipt.lines.get()
                lots.append(lot)
                expected[("street", lot.pk)] += Decimal(op[2])
                continue
            if not lots:
                continue
            source, target = MOVES[op[1]]
            lot = lots[-1]
            quantity = Decimal(op[2])
            stock = Stock.objects.filter(holder=self.places[source], receipt_line=lot).first()
            if stock is None:
                continue
            recipient = (
                {"to_household": self.places[target]}
                if target == "household"
                else {"to_area": self.places[target]}
            )
            try:
                ledger.distribute(stock=stock, quantity=quantity, by=self.user, **recipient)
            except Conflict:
                assert quantity > expected[(source, lot.pk)]
                continue
            expected[(source, lot.pk)] -= quantity
            if target != "household":
                expected[(target, lot.pk)] += quantity
        self.check_levels(expected)

    def check_levels(self, expected):
        for name, place in self.places.items():
            if name == "household":
                continue
            for stock in Stock.objects.filter(holder=place):
                inflow = (
                    DistributionEntry.objects.filter(
                        to_area=place, receipt_line=stock.receipt_line
                    ).aggregate(t=Sum("quantity"))["t"]
                    or ZERO
                )
                if name == "street":
                    inflow += stock.receipt_line.accepted
                outflow = (
                    DistributionEntry.objects.filter(
                        from_area=place, receipt_line=stock.receipt_line
                    ).aggregate(t=Sum("quantity"))["t"]
                    or ZERO
                )
                assert stock.received == inflow
                assert stock.distributed == outflow
                assert stock.received == stock.distributed + stock.on_hand
                assert stock.on_hand == expected[(name, stock.receipt_line_id)] >= 0
        # Every received unit is somewhere: on hand at a level or handed to a household.
        received = ReceiptLine.objects.aggregate(t=Sum("accepted"))["t"] or ZERO
        on_hand = Stock.objects.aggregate(t=Sum("on_hand"))["t"] or ZERO
        to_households = (
            DistributionEntry.objects.filter(to_household__isnull=False).aggregate(
                t=Sum("quantity")
            )["t"]
            or ZERO
        )
        assert received == on_hand + to_households
