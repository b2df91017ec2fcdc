from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

import pytest
from django.utils import timezone

from baogong.accounts.models import Role, User
from baogong.areas.models import Household
from baogong.orders import services as order_services
from baogong.orders.models import Order, Round
from baogong.supply.models import Package, Supplier
from tests.factories import HouseholdFactory, UserFactory, grant


@dataclass
class Money:
    """A closed round of compound_a with four orders (88.00 each), and who handles its money."""

    supplier: Supplier
    round: Round
    orders: list[Order]
    households: list[Household]
    resident: User  # of households[0]
    supplier_user: User
    liaison: User
    community_staff: User
    volunteer: User
    other_supplier: Supplier
    other_supplier_user: User
    residents: dict | None = None  # household id → a resident user

    def resident_of(self, index: int) -> User:
        return self.residents[self.households[index].pk]


def make_round(
    supplier: Supplier, areas, *, deadline_in: dt.timedelta | None = None, title: str = "第1期"
) -> Round:
    package, _created = Package.objects.get_or_create(
        supplier=supplier,
        name="米面粮油套餐",
        price=Decimal("88.00"),
        default_stock_cap=50,
        per_household_limit=2,
    )
    now = timezone.now()
    round_ = order_services.round_create(
        supplier=supplier,
        title=title,
        areas=areas,
        opens_at=now - dt.timedelta(hours=2),
        cutoff_at=now + dt.timedelta(days=1),
        payment_deadline=now + (deadline_in or dt.timedelta(days=2)),
        offers=[order_services.OfferSpec(package, "A")],
        by=None,
    )
    return order_services.round_transition(round_=round_, action="open", by=None)


def place(round_: Round, household: Household, quantity: int = 1) -> Order:
    return order_services.order_place(
        round_=round_,
        household=household,
        lines={round_.offers.get().pk: quantity},
        channel=Order.Channel.PROXY,
        by=None,
    )


def close(round_: Round) -> Round:
    return order_services.round_transition(round_=round_, action="close", by=None)


@pytest.fixture
def money(tree) -> Money:
    supplier = Supplier.objects.create(name="测试超市", kind=Supplier.Kind.SUPERMARKET)
    other = Supplier.objects.create(name="别家超市", kind=Supplier.Kind.SUPERMARKET)
    households = [tree.household_a] + [
        HouseholdFactory(building=tree.building_a, unit="1", room=f"{n}01") for n in (1, 2, 3)
    ]
    round_ = make_round(supplier, [tree.compound_a])
    orders = [place(round_, h) for h in households]
    close(round_)
    resident, supplier_user, liaison, staff, volunteer, other_user = (
        UserFactory() for _ in range(6)
    )
    grant(resident, Role.RESIDENT, household=households[0])
    grant(supplier_user, Role.SUPPLIER, supplier=supplier)
    grant(liaison, Role.LIAISON, area=tree.compound_a)
    grant(staff, Role.COMMUNITY_STAFF, area=tree.community_a)
    grant(volunteer, Role.VOLUNTEER, area=tree.building_a)
    grant(other_user, Role.SUPPLIER, supplier=other)
    round_.refresh_from_db()
    residents = {}
    for household in households:
        residents[household.pk] = UserFactory()
        grant(residents[household.pk], Role.RESIDENT, household=household)
    residents[households[0].pk] = resident
    result = Money(
        supplier,
        round_,
        [Order.objects.get(pk=o.pk) for o in orders],
        households,
        resident,
        supplier_user,
        liaison,
        staff,
        volunteer,
        other,
        other_user,
    )
    result.residents = residents
    return result
