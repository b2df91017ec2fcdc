"""The people and places of the end-to-end round test, made with factories and services.

幸福小区 has two buildings with three households each. 1号楼 401 is home to an elderly
resident who needs door delivery, and 王丽 is that building's supply volunteer. 好邻居超市
serves the compound with two packages, a van with a valid pass and a driver. Everything the
test is about (the round itself, orders, payments, the trip, the gate, the pickup) happens
later through the browser pages.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.utils import timezone

from baogong.accounts.models import Role, User
from baogong.areas.models import Area, Gate, Household
from baogong.fulfilment.models import CrewMember, Vehicle, VehiclePass
from baogong.fulfilment.passes import pass_issue
from baogong.fulfilment.transport import Owner, crew_save, vehicle_save
from baogong.lastmile.models import Volunteer
from baogong.supply.models import Package, PackageLine, Supplier, SupplierArea
from tests.factories import HouseholdFactory, ResidentFactory, UserFactory, grant, make_area

PACKAGES = [
    # name, price, per-household limit, lines (item, specification, quantity, unit)
    ("米面粮油套餐", "88.00", 2, [("大米", "5kg", 1, "袋"), ("花生油", "1.8L", 1, "桶")]),
    ("新鲜蔬菜套餐", "39.90", 1, [("白菜", "", 2, "颗"), ("土豆", "1kg", 1, "袋")]),
]
ROOMS = {"1号楼": ["101", "201", "301", "401"], "2号楼": ["101", "201", "301"]}


@dataclass
class World:
    compound: Area
    buildings: dict[str, Area]
    households: dict[str, Household]  # "1-101" → household
    supplier: Supplier
    packages: list[Package]
    gate: Gate
    supplier_user: User
    liaison: User
    resident: User
    volunteer: User
    vehicle: Vehicle
    driver: CrewMember
    vehicle_pass: VehiclePass
    now: dt.datetime

    def household(self, key: str) -> Household:
        return self.households[key]


def _packages(supplier: Supplier) -> list[Package]:
    packages = []
    for name, price, limit, lines in PACKAGES:
        package = Package.objects.create(
            supplier=supplier,
            name=name,
            price=Decimal(price),
            per_household_limit=limit,
            default_stock_cap=100,
        )
        for position, (item, spec, quantity, unit) in enumerate(lines):
            PackageLine.objects.create(
                package=package,
                item=item,
                specification=spec,
                quantity=quantity,
                unit=unit,
                position=position,
            )
        packages.append(package)
    return packages


def build_world() -> World:
    """Areas, households, the four people, the supplier and its catalog."""
    district = make_area(Area.Kind.DISTRICT, None, "樊城区")
    street = make_area(Area.Kind.STREET, district, "汉江街道")
    community = make_area(Area.Kind.COMMUNITY, street, "风华社区")
    compound = make_area(Area.Kind.COMPOUND, community, "幸福小区")
    buildings, households = {}, {}
    phone = iter(range(1000))
    for name, rooms in ROOMS.items():
        building = make_area(Area.Kind.BUILDING, compound, name, units_count=1)
        buildings[name] = building
        for room in rooms:
            household = HouseholdFactory(
                building=building, unit="1", room=room, phone=f"1701234{next(phone):04d}"
            )
            households[f"{name[0]}-{room}"] = household
    for key, household in households.items():
        ResidentFactory(
            household=household,
            name={"1-101": "李秀英", "1-201": "王建国", "1-401": "张桂兰"}.get(key, f"居民{key}"),
            phone=household.phone,
            needs_door_delivery=key == "1-401",
        )
    gate = Gate.objects.create(compound=compound, kind=Gate.Kind.GATE, name="东门", capacity=4)

    supplier = Supplier.objects.create(name="好邻居超市", kind=Supplier.Kind.SUPERMARKET)
    SupplierArea.objects.create(supplier=supplier, area=community)
    supplier_user = UserFactory(name="赵经理")
    grant(supplier_user, Role.SUPPLIER, supplier=supplier)
    liaison = UserFactory(name="陈志刚")
    grant(liaison, Role.LIAISON, area=compound)
    resident = UserFactory(name="李秀英", phone=households["1-101"].phone)
    grant(resident, Role.RESIDENT, household=households["1-101"])
    volunteer = UserFactory(name="王丽")
    grant(volunteer, Role.VOLUNTEER, area=buildings["1号楼"])
    Volunteer.objects.create(
        user=volunteer,
        name="王丽",
        phone=volunteer.phone,
        compound=compound,
        building=buildings["1号楼"],
        team=Volunteer.Team.SUPPLY,
    )
    now = timezone.localtime()
    owner = Owner(supplier=supplier)
    vehicle = vehicle_save(
        owner=owner,
        plate="鄂F5K321",
        kind=Vehicle.Kind.VAN,
        capacity_bags=80,
        capacity_kg=800,
        by=supplier_user,
    )
    driver = crew_save(
        owner=owner,
        name="刘师傅",
        phone="17012349001",
        id_number="420602198001011234",
        by=supplier_user,
    )
    # The street office issued the pass for the community (not what this test is about).
    vehicle_pass = pass_issue(
        vehicle=vehicle,
        valid_from=now - dt.timedelta(days=1),
        valid_to=now + dt.timedelta(days=6),
        areas=[community],
        by=None,
    )
    return World(
        compound=compound,
        buildings=buildings,
        households=households,
        supplier=supplier,
        packages=_packages(supplier),
        gate=gate,
        supplier_user=supplier_user,
        liaison=liaison,
        resident=resident,
        volunteer=volunteer,
        vehicle=vehicle,
        driver=driver,
        vehicle_pass=vehicle_pass,
        now=now,
    )
