"""The demo district as plain data: Fancheng 樊城区, Xiangyang, from the seed plan.

The seven street offices are those of the Fancheng supply plan (see
seeds/); communities and compounds carry real-sounding names; buildings,
households and people come from the shared generator in `citygen`, drawn
from a fixed seed so every machine loads the same district. The demo
accounts, one per role, are described here too, by the names of their
scopes, so that `load_demo` can find them again on a second run.

Plain module (no ORM); `baogong.demo.services.demo_load` writes it.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field, replace
from decimal import Decimal

from baogong.demo import citygen, names
from baogong.demo.citygen import (
    BuildingSpec,
    CitySpec,
    CommunitySpec,
    CompoundSpec,
    FakePhones,
    HouseholdSpec,
    StreetSpec,
)

DISTRICT_NAME = "樊城区"
# The statistical division code of Fancheng district; it marks the district as
# the one load_demo made (a hand-made district of the same name has none).
DISTRICT_CODE = "420606"
# Fancheng's code, so the data is the same on every run and every machine.
SEED = 420606
DEMO_PASSWORD = "baogong-demo-2026"

# Street office → its communities (2–3 each), in the order of the seed plan.
STREETS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("王寨街道", ("陈庵社区", "王寨社区", "人民广场社区")),
    ("汉江街道", ("汉江社区", "紫贞社区")),
    ("中原街道", ("中原路社区", "大庆路社区", "长虹北路社区")),
    ("屏襄门街道", ("屏襄门社区", "人民路社区")),
    ("米公街道", ("米公社区", "油坊岗社区", "大寺门社区")),
    ("定中门街道", ("定中门社区", "前进路社区")),
    ("清河口街道", ("清河口社区", "施营社区", "邓城社区")),
)

# More names than compounds, drawn without replacement so none repeats in the district.
# fmt: off
COMPOUNDS: tuple[str, ...] = (
    "长虹小区", "锦绣花园", "汉江明珠", "丽江泊林", "清河小区", "幸福家园", "春园小区",
    "阳光新城", "紫贞花园", "檀溪雅居", "人民路小区", "铁路宿舍", "纺织厂宿舍", "东方名都",
    "滨江华府", "米公祠小区", "樊西佳园", "前进新村", "邓城花园", "施营家园", "鹿门苑",
    "中原世纪城", "大庆路小区", "王寨新村", "桂花苑", "金色家园", "御景华庭", "翠苑小区",
    "电力小区", "机电厂宿舍", "和平花园", "襄江公寓", "银河湾", "紫荆花园", "星光小区",
    "友谊新村", "建设小区", "华联小区", "龙湖春江", "恒大名都", "凤凰城", "书香门第",
    "向阳小区", "梧桐苑", "盛世华庭", "怡景花园",
)
# fmt: on


@dataclass(frozen=True, slots=True)
class SupplierSpec:
    name: str
    kind: str  # a value of baogong.supply.models.Supplier.Kind
    contact_name: str
    contact_phone: str


@dataclass(frozen=True, slots=True)
class AccountSpec:
    """One demo login. `scope` names the node below the district, the supplier, or
    (street, community, compound, building, unit, room) of the household."""

    role: str  # a value of baogong.accounts.models.Role, or "superuser"
    label_zh: str
    phone: str
    name: str
    scope: tuple[str, ...] = ()


@dataclass(slots=True)
class DemoPlan:
    city: CitySpec
    suppliers: list[SupplierSpec] = field(default_factory=list)
    accounts: list[AccountSpec] = field(default_factory=list)


# The demo logins: 170 1000 0001 upwards, outside the ranges the generator and
# the test factories use (see citygen.FakePhones).
ACCOUNT_PHONE_BASE = 170_1000_0000
SUPERUSER = "superuser"


def account_phone(number: int) -> str:
    return str(ACCOUNT_PHONE_BASE + number)


def demo_plan() -> DemoPlan:
    """Draw the whole demo district, its suppliers and its accounts from the fixed seed."""
    rng = random.Random(SEED)
    phones = FakePhones(SEED)
    city = CitySpec(name=DISTRICT_NAME, seed=SEED, code=DISTRICT_CODE)
    compound_names = list(COMPOUNDS)
    rng.shuffle(compound_names)
    for street_number, (street_name, community_names) in enumerate(STREETS, start=1):
        street_code = f"{DISTRICT_CODE}{street_number:03d}"
        street = StreetSpec(street_name, street_code)
        city.streets.append(street)
        street_lat = citygen.coordinate(citygen.CENTRE_LATITUDE, 0.03, rng)
        street_lon = citygen.coordinate(citygen.CENTRE_LONGITUDE, 0.03, rng)
        for community_number, community_name in enumerate(community_names, start=1):
            community = CommunitySpec(community_name, f"{street_code}{community_number:03d}")
            street.communities.append(community)
            for _compound in range(rng.choices((1, 2, 3), weights=(5, 4, 1))[0]):
                community.compounds.append(
                    _demo_compound(rng, phones, compound_names.pop(), street_lat, street_lon)
                )
    _seal_volunteer_building(city)
    _give_resident_login_phone(city)
    plan = DemoPlan(city=city)
    plan.suppliers = _suppliers(rng)
    plan.accounts = _accounts(rng, plan)
    return plan


def _demo_compound(
    rng: random.Random, phones: FakePhones, name: str, street_lat: Decimal, street_lon: Decimal
) -> CompoundSpec:
    lat = citygen.coordinate(float(street_lat), 0.008, rng)
    lon = citygen.coordinate(float(street_lon), 0.008, rng)
    compound = CompoundSpec(name, lat, lon, citygen.gates_for(rng, lat, lon))
    for building_name in citygen.building_names(rng, rng.randint(3, 8)):
        layout = (
            citygen.tower_layout(rng)
            if rng.random() < 0.1
            else citygen.walk_up_layout(rng, small=True)
        )
        status, since, until = citygen.containment_for(rng, sealed=0.05, controlled=0.05)
        building = BuildingSpec(
            building_name,
            layout.entrances,
            containment=status,
            containment_since=since,
            containment_until=until,
        )
        for unit, floor, room in layout.flats():
            members = rng.choices((1, 2, 3, 4, 5), weights=(15, 30, 30, 15, 10))[0]
            residents, second_phone = citygen.family(rng, phones, members)
            containment, since_home, notes = citygen.NONE, None, ""
            # A few flats in open buildings are sealed on their own (home isolation).
            if status == citygen.NONE and rng.random() < 0.005:
                containment, since_home, notes = (
                    citygen.SEALED,
                    citygen.REFERENCE_DATE,
                    "居家隔离",
                )
            building.households.append(
                HouseholdSpec(
                    unit=unit,
                    floor=floor,
                    room=room,
                    members_count=members,
                    phone=residents[0].phone,
                    phone_alt=second_phone if rng.random() < 0.4 else "",
                    residents=residents,
                    containment=containment,
                    containment_since=since_home,
                    notes=notes,
                )
            )
        compound.buildings.append(building)
    return compound


def _seal_volunteer_building(city: CitySpec) -> None:
    """Seal the second building of the liaison's compound, so the volunteer has door deliveries."""
    building = city.streets[0].communities[0].compounds[0].buildings[1]
    if building.containment != citygen.SEALED:
        building.containment = citygen.SEALED
        building.containment_since = citygen.REFERENCE_DATE
        building.containment_until = None


def _resident_household(city: CitySpec) -> tuple[BuildingSpec, int]:
    """The demo resident's flat: the first family of the liaison's first building."""
    building = city.streets[0].communities[0].compounds[0].buildings[0]
    index = next(i for i, h in enumerate(building.households) if h.members_count > 1)
    return building, index


def _give_resident_login_phone(city: CitySpec) -> None:
    """Give the resident's contact an easy login number, like the other demo accounts."""
    building, index = _resident_household(city)
    household = building.households[index]
    phone = account_phone(9)
    contact = replace(household.residents[0], phone=phone)
    building.households[index] = replace(
        household, phone=phone, residents=(contact, *household.residents[1:])
    )


def _suppliers(rng: random.Random) -> list[SupplierSpec]:
    kinds = (
        ("武商", "supermarket"),
        ("好邻居", "supermarket"),
        ("家乐福", "supermarket"),
        ("沃尔玛", "supermarket"),
        ("中百仓储", "supermarket"),
        ("惠民便利店", "small_shop"),
        ("邻里生鲜超市", "small_shop"),
        ("京东到家", "platform"),
        ("美团买菜", "platform"),
    )
    # 武商's contact is the supplier demo login (…0008); the others take 170 1000 01xx.
    return [
        SupplierSpec(
            name, kind, names.person_name(rng), account_phone(8 if number == 0 else 100 + number)
        )
        for number, (name, kind) in enumerate(kinds)
    ]


def _accounts(rng: random.Random, plan: DemoPlan) -> list[AccountSpec]:
    city = plan.city
    street = city.streets[0]
    community = street.communities[0]
    compound = community.compounds[0]
    sealed_building = compound.buildings[1]
    # The resident is the contact of a family, so the demo shows several members.
    home_building, index = _resident_household(city)
    household = home_building.households[index]
    resident = household.residents[0]
    supplier = plan.suppliers[0]

    def staff_name() -> str:
        return names.person_name(rng)

    return [
        AccountSpec(SUPERUSER, "超级管理员", account_phone(1), "系统管理员"),
        AccountSpec("district_admin", "区级管理员", account_phone(2), staff_name()),
        AccountSpec("street_staff", "街道工作人员", account_phone(3), staff_name(), (street.name,)),
        AccountSpec(
            "community_staff",
            "社区工作人员",
            account_phone(4),
            staff_name(),
            (street.name, community.name),
        ),
        AccountSpec(
            "liaison",
            "小区采购联络人",
            account_phone(5),
            staff_name(),
            (street.name, community.name, compound.name),
        ),
        AccountSpec(
            "volunteer",
            "楼栋保供员",
            account_phone(6),
            staff_name(),
            (street.name, community.name, compound.name, sealed_building.name),
        ),
        AccountSpec("bureau_staff", "商务局工作人员", account_phone(7), staff_name()),
        AccountSpec(
            "supplier",
            "超市联络人",
            supplier.contact_phone,
            supplier.contact_name,
            (supplier.name,),
        ),
        AccountSpec(
            "resident",
            "居民",
            resident.phone,
            resident.name,
            (
                street.name,
                community.name,
                compound.name,
                home_building.name,
                household.unit,
                household.room,
            ),
        ),
        AccountSpec("market_supervision", "市场监管人员", account_phone(10), staff_name()),
    ]
