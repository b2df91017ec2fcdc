"""Shared last-mile fixtures: a confirmed round for compound_a (and one household of
compound_b), its deliveries and bags made by `round_deliveries_sync`, and the people
who work it. Slots, doors and volunteers tests use these too: keep them stable.

compound_a
  3号楼  household_a (2-502, paid) · 1-101 (paid) · 1-201 (unpaid) · 1-301 (sealed: door)
  10号楼 1-101 (paid) · 1-102 (paid)
compound_b
  3号楼  household_b (paid)   ← another delivery, outside the compound_a people's scope
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

import pytest
from django.utils import timezone

from baogong.accounts.models import Role, User
from baogong.areas.models import Area, Containment, Household
from baogong.lastmile.bags import round_deliveries_sync
from baogong.lastmile.models import Bag, Delivery
from baogong.orders import services as order_services
from baogong.orders.models import Order, Round
from baogong.payments import services as payment_services
from baogong.supply.models import Package, Supplier
from tests.factories import HouseholdFactory, ResidentFactory, UserFactory, grant, make_area

PRICE = Decimal("88.00")


@dataclass
class LastMile:
    round: Round
    delivery: Delivery  # compound_a
    other_delivery: Delivery  # compound_b
    supplier: Supplier
    building_3: Area  # tree.building_a
    building_10: Area
    households: list[Household]  # compound_a, in the order of the docstring
    orders: list[Order]  # same order as households
    supplier_user: User
    liaison: User  # compound_a
    staff: User  # community_a staff
    volunteer: User  # building_a (3号楼) volunteer
    volunteer_10: User  # 10号楼 volunteer
    resident: User  # of household_a
    other_liaison: User  # compound_b
    paid: set[int] = field(default_factory=set)  # order ids paid in full

    def bag(self, index: int) -> Bag:
        """The compound_a bag of households[index]."""
        return Bag.objects.get(delivery=self.delivery, household=self.households[index])

    def receive_all(self) -> None:
        """Mark every live bag received at the gate (tests of the pickup side start here)."""
        Bag.objects.filter(delivery=self.delivery).exclude(state=Bag.State.VOID).update(
            gate_state=Bag.GateState.RECEIVED, checked_at=timezone.now()
        )


def _round(supplier: Supplier, areas: list[Area]) -> Round:
    package = Package.objects.create(
        supplier=supplier,
        name="米面粮油套餐",
        price=PRICE,
        default_stock_cap=100,
        per_household_limit=2,
    )
    now = timezone.now()
    round_ = order_services.round_create(
        supplier=supplier,
        title="第1期 保供套餐",
        areas=areas,
        opens_at=now - dt.timedelta(hours=2),
        cutoff_at=now + dt.timedelta(days=1),
        offers=[order_services.OfferSpec(package, "A")],
        by=None,
    )
    return order_services.round_transition(round_=round_, action="open", by=None)


@pytest.fixture
def lastmile(tree) -> LastMile:
    supplier = Supplier.objects.create(name="测试超市", kind=Supplier.Kind.SUPERMARKET)
    building_10 = make_area(Area.Kind.BUILDING, tree.compound_a, "10号楼")
    sealed = HouseholdFactory(
        building=tree.building_a, unit="1", room="301", containment=Containment.SEALED
    )
    households = [
        tree.household_a,
        HouseholdFactory(building=tree.building_a, unit="1", room="101"),
        HouseholdFactory(building=tree.building_a, unit="1", room="201"),
        sealed,
        HouseholdFactory(building=building_10, unit="1", room="101"),
        HouseholdFactory(building=building_10, unit="1", room="102"),
    ]
    for household in households[1:]:
        ResidentFactory(household=household)
    round_ = _round(supplier, [tree.compound_a, tree.compound_b])
    offer = round_.offers.get()
    orders = [
        order_services.order_place(
            round_=round_,
            household=h,
            lines={offer.pk: 1},
            channel=Order.Channel.PROXY,
            by=None,
        )
        for h in [*households, tree.household_b]
    ]
    order_services.round_transition(round_=round_, action="close", by=None)
    order_services.round_transition(round_=round_, action="confirm", by=None)
    supplier_user = UserFactory()
    grant(supplier_user, Role.SUPPLIER, supplier=supplier)
    paid = set()
    for index, order in enumerate(orders):
        if index == 2:  # 3号楼 1-201 has not paid
            continue
        payment_services.payment_record(
            order=order, by=supplier_user, amount=str(PRICE), method="manual"
        )
        paid.add(order.pk)
    deliveries = {d.compound_id: d for d in round_deliveries_sync(round_)}
    liaison, staff, volunteer, volunteer_10, resident, other_liaison = (
        UserFactory() for _ in range(6)
    )
    grant(liaison, Role.LIAISON, area=tree.compound_a)
    grant(staff, Role.COMMUNITY_STAFF, area=tree.community_a)
    grant(volunteer, Role.VOLUNTEER, area=tree.building_a)
    grant(volunteer_10, Role.VOLUNTEER, area=building_10)
    grant(resident, Role.RESIDENT, household=tree.household_a)
    grant(other_liaison, Role.LIAISON, area=tree.compound_b)
    round_.refresh_from_db()
    return LastMile(
        round=round_,
        delivery=deliveries[tree.compound_a.pk],
        other_delivery=deliveries[tree.compound_b.pk],
        supplier=supplier,
        building_3=tree.building_a,
        building_10=building_10,
        households=households,
        orders=[Order.objects.get(pk=o.pk) for o in orders[:-1]],
        supplier_user=supplier_user,
        liaison=liaison,
        staff=staff,
        volunteer=volunteer,
        volunteer_10=volunteer_10,
        resident=resident,
        other_liaison=other_liaison,
        paid=paid,
    )


@pytest.fixture
def delivery(lastmile) -> Delivery:
    """compound_a's delivery of the round: six bags (one door delivery), none checked yet."""
    return lastmile.delivery
