"""The demo's suppliers at work: outlets, catalogs, areas served, and rounds with orders.

`demo_ordering` runs after `services.demo_load` has written the district, its
suppliers and its logins. It gives each supplier of the seed plan its delivery
capability, one or two outlets, the street offices, community or compound it
serves ("按属地由所在办事处负责对接") and a catalog of packages; then 武商 runs
three rounds for the liaison's community, so the round list shows its states:

- 第2期, closed: orders placed a week ago;
- 第3期, open since yesterday, cut-off in three days: orders from every channel,
  each through the path a person would use — the resident's own order (self),
  the liaison's and the volunteer's phone-in orders (proxy), a pasted group-chat
  chain and two filled-in order sheets (intake preview + commit), and orders from
  武商's mini-program through its API client. About half the households have
  not ordered, so the liaison's chase list has names on it;
- 第4期, a draft for next week.

Every write goes through the services, with `by` the person who would make it
(or None, the system, where the plan says the loader does it). Idempotent: each
piece is made only where it is missing, and a round that exists (found by
supplier and title) is left alone, orders and all; if its cut-off has passed
since, the result says so rather than moving it.
"""

from __future__ import annotations

import datetime as dt
import io
import random
import re
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING

from django.db.models import Count, Q
from django.utils import timezone
from simple_history.utils import bulk_create_with_history

from baogong.accounts.models import Role, RoleGrant, User
from baogong.areas.models import Area, Household, Resident
from baogong.core.errors import DomainError
from baogong.demo import fancheng, names
from baogong.orders import intake, sheet_intake
from baogong.orders.api_auth import api_client_create
from baogong.orders.models import ApiClient, Offer, Order, Round, RoundArea
from baogong.orders.services import OfferSpec, order_place, round_create, round_transition
from baogong.supply.models import Outlet, Package, PackageLine, Supplier, SupplierArea
from baogong.supply.services import outlet_create, supplier_assign, supplier_update

if TYPE_CHECKING:
    from baogong.demo.fancheng import DemoPlan

# --- the plan, as data --------------------------------------------------------------------

Cat = Package.Category


@dataclass(frozen=True, slots=True)
class PackagePlan:
    name: str
    category: str
    price: str
    lines: tuple[tuple[str, str, str, str], ...]  # item, specification, quantity, unit
    aliases: str = ""
    limit: int = 1
    stock: int = 100


# Names carry no digits: a chain line reads "纯牛奶整箱2箱" as two boxes, and "鸡蛋30枚" would
# read as thirty. Quantities and sizes live in the lines.
# fmt: off
GRAIN_OIL = PackagePlan("米面粮油套餐", Cat.GRAIN_OIL, "88.00", (
    ("大米", "5kg", "1", "袋"), ("面粉", "2.5kg", "1", "袋"), ("食用油", "1.8L", "1", "桶"),
), "米面油, 粮油套餐", 1, 150)
VEGETABLES = PackagePlan("蔬菜套餐", Cat.VEGETABLES, "39.90", (
    ("白菜", "", "2", "颗"), ("土豆", "1kg", "1", "份"), ("西红柿", "1kg", "1", "份"),
    ("青椒", "500g", "1", "份"), ("胡萝卜", "500g", "1", "份"), ("洋葱", "500g", "1", "份"),
), "菜包, 蔬菜包", 2, 200)
MEAT_EGGS = PackagePlan("肉蛋套餐", Cat.MEAT_EGGS, "69.00", (
    ("猪肉", "1kg", "1", "份"), ("鸡蛋", "30枚", "1", "盒"),
), "肉蛋", 1, 100)
MILK = PackagePlan("纯牛奶整箱", Cat.MEAT_EGGS, "45.00", (
    ("纯牛奶", "250ml", "12", "盒"),
), "牛奶", 2, 60)
EGGS = PackagePlan("鲜鸡蛋", Cat.MEAT_EGGS, "25.80", (
    ("鸡蛋", "30枚", "1", "盒"),
), "鸡蛋", 2, 120)
RICE = PackagePlan("东北大米", Cat.GRAIN_OIL, "52.00", (
    ("东北大米", "10kg", "1", "袋"),
), "大米", 2, 80)
OIL = PackagePlan("花生油", Cat.GRAIN_OIL, "79.90", (
    ("压榨花生油", "5L", "1", "桶"),
), "", 1, 60)
NOODLES = PackagePlan("鸡蛋挂面", Cat.GRAIN_OIL, "12.50", (
    ("鸡蛋挂面", "1kg", "2", "把"),
), "挂面", 3, 150)
DAILY = PackagePlan("日用品套餐", Cat.DAILY_GOODS, "49.90", (
    ("卷纸", "10卷", "1", "提"), ("洗洁精", "1.5kg", "1", "瓶"), ("洗衣液", "2kg", "1", "瓶"),
    ("香皂", "", "2", "块"),
), "日用品", 1, 80)
INFANT = PackagePlan("母婴套餐", Cat.INFANT, "268.00", (
    ("婴儿配方奶粉", "800g", "1", "罐"), ("纸尿裤", "L码", "1", "包"),
    ("婴儿湿巾", "80抽", "2", "包"),
), "奶粉套餐", 1, 20)
EPIDEMIC = PackagePlan("防疫套餐", Cat.MEDICINE, "59.00", (
    ("医用外科口罩", "50只", "1", "盒"), ("酒精消毒液", "75% 500ml", "1", "瓶"),
    ("电子体温计", "", "1", "支"),
), "防疫包", 1, 50)
FRUIT = PackagePlan("水果套餐", Cat.MIXED, "42.00", (
    ("苹果", "2kg", "1", "份"), ("香蕉", "1.5kg", "1", "份"), ("橙子", "2kg", "1", "份"),
), "水果", 2, 80)
SHOP_VEGETABLES = PackagePlan("小份蔬菜套餐", Cat.VEGETABLES, "29.90", (
    ("白菜", "", "1", "颗"), ("土豆", "1kg", "1", "份"), ("西红柿", "500g", "1", "份"),
    ("黄瓜", "500g", "1", "份"),
), "小菜包", 2, 60)
SHOP_RICE = PackagePlan("袋装大米", Cat.GRAIN_OIL, "28.00", (
    ("大米", "5kg", "1", "袋"),
), "大米", 1, 40)
INSTANT = PackagePlan("方便面整箱", Cat.DAILY_GOODS, "45.00", (
    ("方便面", "", "24", "袋"),
), "方便面", 1, 30)
WATER = PackagePlan("矿泉水整箱", Cat.DAILY_GOODS, "30.00", (
    ("矿泉水", "550ml", "24", "瓶"),
), "矿泉水", 2, 50)
TOFU = PackagePlan("豆制品套餐", Cat.VEGETABLES, "19.90", (
    ("老豆腐", "500g", "1", "块"), ("豆腐皮", "250g", "1", "份"), ("豆芽", "500g", "1", "份"),
), "豆腐", 2, 40)
CLEAN_VEG = PackagePlan("净菜套餐", Cat.VEGETABLES, "49.90", (
    ("净菜西兰花", "500g", "1", "份"), ("净菜土豆丝", "400g", "1", "份"),
    ("番茄", "1kg", "1", "份"), ("菠菜", "500g", "1", "份"), ("香菇", "300g", "1", "盒"),
), "净菜", 2, 150)
# fmt: on

SUPERMARKET_CATALOG = (
    *(GRAIN_OIL, VEGETABLES, MEAT_EGGS, MILK, EGGS, RICE),
    *(OIL, NOODLES, DAILY, INFANT, EPIDEMIC, FRUIT),
)


@dataclass(frozen=True, slots=True)
class OutletPlan:
    name: str
    kind: str
    street: str  # the street office it lies in
    address: str


@dataclass(frozen=True, slots=True)
class SupplierPlan:
    vehicles: int
    capacity: int  # households a day
    outlets: tuple[OutletPlan, ...]
    serves: tuple[tuple[str, ...], ...]  # area names below the district
    catalog: tuple[PackagePlan, ...]
    price_offset: str = "0"  # supermarkets price the same packages a little differently
    notes: str = ""


STREET_NAMES = tuple(street for street, _communities in fancheng.STREETS)
ALL_STREETS = tuple((street,) for street in STREET_NAMES)
# Placeholder in `serves` for the liaison's compound, whose name the seed draws.
LIAISON_COMPOUND = ("<liaison compound>",)
STORE, WAREHOUSE = Outlet.Kind.STORE, Outlet.Kind.WAREHOUSE
PLAN_NOTE = "樊城区保供企业（演示数据）"


def _supplier_plans() -> dict[str, SupplierPlan]:
    """Each supplier's vehicles, daily capacity (households), outlets, areas and catalog."""
    wz, hj, zy, pxm, mg, dzm, qhk = STREET_NAMES
    market = SUPERMARKET_CATALOG
    platform_note = "电商平台：小区团长下单，平台按小区合并订单配送到小区门口。"
    # fmt: off
    return {
        "武商": SupplierPlan(8, 500, (
            OutletPlan("武商量贩王寨店", STORE, wz, "樊城区长征路88号"),
            OutletPlan("武商量贩中原店", STORE, zy, "樊城区中原路126号"),
        ), ((wz,), (zy,)), market),
        "好邻居": SupplierPlan(5, 300, (
            OutletPlan("好邻居汉江店", STORE, hj, "樊城区汉江北路52号"),
            OutletPlan("好邻居米公店", STORE, mg, "樊城区米公路17号"),
        ), ((hj,), (mg,)), market, "-2"),
        "家乐福": SupplierPlan(6, 400, (
            OutletPlan("家乐福樊城店", STORE, pxm, "樊城区人民路201号"),
        ), ((pxm,),), market, "3"),
        "沃尔玛": SupplierPlan(6, 400, (
            OutletPlan("沃尔玛清河口店", STORE, qhk, "樊城区清河口大道66号"),
            OutletPlan("沃尔玛樊城配送仓", WAREHOUSE, dzm, "樊城区定中门路9号"),
        ), ((qhk,), (dzm,)), market, "2"),
        "中百仓储": SupplierPlan(4, 250, (
            OutletPlan("中百仓储屏襄门店", STORE, pxm, "樊城区屏襄门路33号"),
        ), ((wz,), (pxm,)), market, "-1"),
        # Small shops near the compounds, as the property companies arranged (process 1).
        "惠民便利店": SupplierPlan(1, 60, (
            OutletPlan("惠民便利店", STORE, wz, "樊城区长征路小区门口商铺"),
        ), (LIAISON_COMPOUND,), (SHOP_VEGETABLES, EGGS, NOODLES, SHOP_RICE, INSTANT, WATER),
            notes="小区物业联系的就近配送小超市。"),
        "邻里生鲜超市": SupplierPlan(2, 80, (
            OutletPlan("邻里生鲜超市", STORE, hj, "樊城区汉江社区临街商铺"),
        ), ((hj, fancheng.STREETS[1][1][0]),), (SHOP_VEGETABLES, TOFU, FRUIT, EGGS, MEAT_EGGS)),
        # Platforms serve the whole district (process 2).
        "京东到家": SupplierPlan(15, 1500, (
            OutletPlan("京东到家樊城前置仓", WAREHOUSE, zy, "樊城区中原路物流园3号库"),
        ), ALL_STREETS, (GRAIN_OIL, MEAT_EGGS, MILK, DAILY, INFANT, EPIDEMIC, WATER),
            notes=platform_note),
        "美团买菜": SupplierPlan(12, 1200, (
            OutletPlan("美团买菜樊城站", WAREHOUSE, hj, "樊城区汉江北路物流中心"),
            OutletPlan("美团买菜清河口站", WAREHOUSE, qhk, "樊城区清河口大道128号"),
        ), ALL_STREETS, (CLEAN_VEG, VEGETABLES, FRUIT, EGGS, TOFU, MILK), notes=platform_note),
    }
    # fmt: on


# Outlet phones: 170 1000 02xx, beside the demo logins (01xx are the supplier contacts).
OUTLET_PHONE_BASE = 200

# The rounds 武商 runs for the liaison's community.
ROUND_SUPPLIER = "武商"
API_CLIENT_NAME = "武商小程序"
CLOSED_TITLE = "武商保供团购第2期"
OPEN_TITLE = "武商保供团购第3期"
DRAFT_TITLE = "武商保供团购第4期"
# The options of the open and closed rounds, with their stock for the round (milk is short).
OPEN_OFFERS = (
    ("A", GRAIN_OIL, 150),
    ("B", VEGETABLES, 200),
    ("C", MEAT_EGGS, 100),
    ("D", MILK, 30),
)
DRAFT_OFFERS = (*OPEN_OFFERS[:3], ("D", MILK, 80), ("E", FRUIT, 80), ("F", DAILY, 60))
ROUND_CAPACITY = 300  # households 武商 packs for one round of the community
# What people order, as {option: quantity}; drawn with a seeded generator.
# fmt: off
BASKETS: tuple[dict[str, int], ...] = (
    {"A": 1}, {"B": 1}, {"A": 1, "B": 1}, {"B": 2}, {"C": 1}, {"A": 1, "C": 1},
    {"B": 1, "C": 1}, {"B": 1, "D": 1}, {"A": 1, "B": 1, "C": 1}, {"B": 2, "C": 1},
)
# fmt: on
BASKET_WEIGHTS = (14, 16, 16, 8, 10, 8, 10, 6, 8, 4)
SHEET_NOTES = ("放门卫室", "家中有老人，请送上楼", "晚上七点后在家", "鸡蛋请单独装袋")
# How many households each channel orders for, per compound of the open round.
LIAISON_PROXY, VOLUNTEER_PROXY, LIAISON_SHEET, API_HOME, API_NEIGHBOUR = 15, 3, 20, 2, 3
NEIGHBOUR_SHEET = 25  # rows of the neighbouring compounds' sheet, from the community office
CLOSED_ORDERS = 12  # per compound, in last week's round


# --- what a run did -------------------------------------------------------------------------


@dataclass
class DemoOrdering:
    """What `demo_ordering` found and made, for `load_demo` to print."""

    created: Counter[str] = field(default_factory=Counter)  # what → how many made this run
    refused: int = 0  # orders the services refused this run (cadence, say): skipped
    rounds: dict[str, Round] = field(default_factory=dict)  # state word → the demo round
    channels: Counter[str] = field(default_factory=Counter)  # open round: live orders per channel
    households: int = 0  # households in the open round's compounds
    api_client: ApiClient | None = None
    api_token: str = ""  # only when the client was created this run: it is not kept
    notes: list[str] = field(default_factory=list)
    phones: dict[str, str] = field(default_factory=dict)  # role → demo login phone
    catalog: Counter[str] = field(default_factory=Counter)  # all the suppliers' outlets etc.
    chain_text: str = ""  # the chain pasted into the open round, when made this run
    chain_hint: str = ""  # a chain line for a household that has not ordered yet

    @property
    def open_round(self) -> Round | None:
        return self.rounds.get("open")


@dataclass(frozen=True, slots=True)
class _Home:
    """A household of the open round's compounds, as the demo picks and writes it."""

    household: Household
    building: str
    unit: str
    room: str
    phone: str
    contact: str
    special: bool


@dataclass
class _Context:
    now: dt.datetime
    users: dict[str, User]  # role → demo login
    result: DemoOrdering

    def user(self, role: str) -> User | None:
        return self.users.get(role)


def demo_ordering(
    *,
    plan: DemoPlan,
    district: Area,
    suppliers: dict[str, Supplier],
    now: dt.datetime | None = None,
) -> DemoOrdering:
    """Set up the demo suppliers and 武商's three rounds; make only what is missing.

    Runs inside `demo_load`'s transaction. Orders go through `order_place` (directly or
    by the chain and sheet intake), so a refusal there (a household that ordered in
    another round within its cadence, say) skips that order and is counted, never more.
    """
    result = DemoOrdering(phones={a.role: a.phone for a in plan.accounts})
    users = {u.phone: u for u in User.objects.filter(phone__in=result.phones.values())}
    context = _Context(
        now=now or timezone.now(),
        users={role: users[phone] for role, phone in result.phones.items() if phone in users},
        result=result,
    )
    areas = _areas_by_names(district)
    compound = _liaison_compound(context)
    plans = _supplier_plans()
    outlets = (outlet.name for supplier_plan in plans.values() for outlet in supplier_plan.outlets)
    phones = {name: fancheng.account_phone(OUTLET_PHONE_BASE + i) for i, name in enumerate(outlets)}
    for name, supplier_plan in plans.items():
        supplier = suppliers.get(name)
        if supplier is not None:
            _set_up_supplier(context, supplier, supplier_plan, areas, compound, phones)
    supplier = suppliers.get(ROUND_SUPPLIER)
    if supplier is None or compound is None:
        return result
    _ensure_api_client(context, supplier)
    _ensure_rounds(context, supplier, compound)
    mine = Q(supplier__in=suppliers.values())
    result.catalog = Counter(
        outlet=Outlet.objects.filter(mine).count(),
        package=Package.objects.filter(mine).count(),
        assignment=SupplierArea.objects.filter(mine).count(),
    )
    return result


def _areas_by_names(district: Area) -> dict[tuple[str, ...], Area]:
    """Streets, communities and compounds of the district by their names below it."""
    kinds = (Area.Kind.STREET, Area.Kind.COMMUNITY, Area.Kind.COMPOUND)
    nodes = {a.pk: a for a in Area.objects.filter(path__startswith=district.path, kind__in=kinds)}
    found: dict[tuple[str, ...], Area] = {}

    def names_of(area: Area) -> tuple[str, ...]:
        parent = nodes.get(area.parent_id)  # type: ignore[arg-type]
        return (*names_of(parent), area.name) if parent is not None else (area.name,)

    for area in nodes.values():
        found[names_of(area)] = area
    return found


def _liaison_compound(context: _Context) -> Area | None:
    liaison = context.user(Role.LIAISON)
    grant = (
        RoleGrant.objects.filter(user=liaison, role=Role.LIAISON).select_related("area").first()
        if liaison is not None
        else None
    )
    return grant.area if grant is not None else None


# --- suppliers: capability, outlets, areas, catalog ------------------------------------------


def _set_up_supplier(
    context: _Context,
    supplier: Supplier,
    plan: SupplierPlan,
    areas: dict[tuple[str, ...], Area],
    compound: Area | None,
    phones: dict[str, str],
) -> None:
    made = context.result.created
    if not supplier.vehicles_count and not supplier.daily_capacity:
        supplier_update(
            supplier=supplier,
            by=None,
            vehicles_count=plan.vehicles,
            daily_capacity=plan.capacity,
            notes=plan.notes or PLAN_NOTE,
        )
        made["supplier profile"] += 1
    outlets = set(supplier.outlets.values_list("name", flat=True))
    for outlet in plan.outlets:
        if outlet.name in outlets:
            continue
        street = areas.get((outlet.street,))
        outlet_create(
            supplier=supplier,
            name=outlet.name,
            by=None,
            kind=outlet.kind,
            address=outlet.address,
            area=street,
            phone=phones[outlet.name],
            **_near(street),
        )
        made["outlet"] += 1
    served = set(SupplierArea.objects.filter(supplier=supplier).values_list("area_id", flat=True))
    for names_below in plan.serves:
        area = compound if names_below == LIAISON_COMPOUND else areas.get(names_below)
        if area is not None and area.pk not in served:
            supplier_assign(supplier, area, by=None)
            made["assignment"] += 1
    catalog = set(Package.objects.filter(supplier=supplier).values_list("name", flat=True))
    missing = [package for package in plan.catalog if package.name not in catalog]
    if missing:
        _write_catalog(supplier, missing, Decimal(plan.price_offset))
        made["package"] += len(missing)


def _write_catalog(supplier: Supplier, packages: list[PackagePlan], offset: Decimal) -> None:
    """Insert packages and their lines in bulk, with history.

    Not through `package_create`: seventy packages one by one took two seconds of the
    load. The plan is fixed data that `package_create` accepts as it is (a test says so).
    """
    rows = [
        Package(
            supplier=supplier,
            name=package.name,
            category=package.category,
            price=Decimal(package.price) + offset,
            default_stock_cap=package.stock,
            per_household_limit=package.limit,
            aliases=package.aliases,
        )
        for package in packages
    ]
    bulk_create_with_history(rows, Package, default_change_reason="load_demo")
    ids = dict(
        Package.objects.filter(supplier=supplier, name__in=[p.name for p in packages]).values_list(
            "name", "pk"
        )
    )
    lines = [
        PackageLine(
            package_id=ids[package.name],
            item=item,
            specification=spec,
            quantity=Decimal(quantity),
            unit=unit,
            position=position,
        )
        for package in packages
        for position, (item, spec, quantity, unit) in enumerate(package.lines)
    ]
    bulk_create_with_history(lines, PackageLine, default_change_reason="load_demo")


def _near(area: Area | None) -> dict[str, Decimal]:
    """A point a little off the first compound of `area` (outlets sit on the main road)."""
    if area is None:
        return {}
    compound = (
        Area.objects.filter(path__startswith=area.path, kind=Area.Kind.COMPOUND)
        .exclude(latitude=None)
        .order_by("path")
        .first()
    )
    if compound is None:
        return {}
    step = Decimal("0.0020")
    return {"latitude": compound.latitude + step, "longitude": compound.longitude - step}


# --- the API client ------------------------------------------------------------------------


def _ensure_api_client(context: _Context, supplier: Supplier) -> None:
    client = (
        ApiClient.objects.filter(supplier=supplier, name=API_CLIENT_NAME, revoked_at=None)
        .order_by("pk")
        .first()
    )
    if client is None:
        client, context.result.api_token = api_client_create(
            supplier=supplier, name=API_CLIENT_NAME
        )
        context.result.created["API client"] += 1
    context.result.api_client = client


# --- rounds --------------------------------------------------------------------------------


def _at(now: dt.datetime, days: int, hour: int) -> dt.datetime:
    """`hour` o'clock local time, `days` days from today."""
    day = timezone.localtime(now).date() + dt.timedelta(days=days)
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour)))


def _ensure_rounds(context: _Context, supplier: Supplier, compound: Area) -> None:
    community = compound.parent
    compounds = list(
        Area.objects.filter(parent=community, kind=Area.Kind.COMPOUND).order_by("path")
        if community is not None
        else [compound]
    )
    # The oldest round of each title is the demo's (someone may have copied a title since).
    existing = {r.title: r for r in Round.objects.filter(supplier=supplier).order_by("-pk")}
    catalog = {p.name: p for p in Package.objects.filter(supplier=supplier)}
    result = context.result
    now = context.now
    rounds = (
        ("closed", CLOSED_TITLE, OPEN_OFFERS, (-9, 8), (-7, 20), _fill_closed_round),
        ("open", OPEN_TITLE, OPEN_OFFERS, (-1, 8), (3, 20), _fill_open_round),
        ("draft", DRAFT_TITLE, DRAFT_OFFERS, (4, 8), (6, 20), None),
    )
    for state, title, offers, opens, cutoff, fill in rounds:
        round_ = existing.get(title)
        if round_ is not None:
            result.rounds[state] = round_
            continue
        specs = [
            OfferSpec(catalog[p.name], code, stock_cap=stock)
            for code, p, stock in offers
            if p.name in catalog
        ]
        if not specs:
            continue
        cutoff_at = _at(now, *cutoff)
        round_ = round_create(
            supplier=supplier,
            title=title,
            areas=compounds,
            opens_at=_at(now, *opens),
            cutoff_at=cutoff_at,
            offers=specs,
            by=None,
            payment_deadline=cutoff_at + dt.timedelta(hours=14),
            delivery_at=_at(now, cutoff[0] + 1, 15),
            delivery_place=Round.Place.GATE,
            delivery_note="各小区大门口，按楼栋错时领取",
            capacity=ROUND_CAPACITY,
        )
        result.created["round"] += 1
        if fill is not None:
            round_transition(round_=round_, action="open", by=None)
            fill(context, round_, compounds, compound)
        if state == "closed":
            round_transition(round_=round_, action="close", by=None, reason="截单时间已到")
        round_.refresh_from_db()
        result.rounds[state] = round_
    _describe_open_round(context, compounds, compound)


def _describe_open_round(context: _Context, compounds: list[Area], compound: Area) -> None:
    result = context.result
    round_ = result.open_round
    if round_ is None:
        return
    result.channels = Counter(
        dict(
            Order.objects.filter(round=round_, state=Order.State.PLACED)
            .values("channel")
            .annotate(n=Count("pk"))
            .values_list("channel", "n")
        )
    )
    result.households = Household.objects.filter(compound__in=compounds).count()
    ordered = Order.objects.filter(round=round_, state=Order.State.PLACED)
    free = (
        Household.objects.filter(compound=compound)
        .exclude(pk__in=ordered.values("household_id"))
        .select_related("building")
        .order_by("building__name", "unit", "room")
        .first()
    )
    if free is not None:
        result.chain_hint = f"1. {free.address} A×1 菜包两份"
    if round_.state != Round.State.OPEN or round_.cutoff_at <= context.now:
        cutoff = timezone.localtime(round_.cutoff_at).strftime("%Y-%m-%d %H:%M")
        result.notes.append(
            f"The demo's open round #{round_.pk} ({round_.title}) is {round_.state} and its "
            f"cut-off ({cutoff}) has passed, so it takes no more orders. For a fresh one, "
            "load the demo into an empty database."
            if round_.cutoff_at <= context.now
            else f"The demo's open round #{round_.pk} ({round_.title}) is now {round_.state}."
        )


# --- orders --------------------------------------------------------------------------------


def _homes(compounds: Iterable[Area]) -> dict[int, list[_Home]]:
    """The households of `compounds` by compound id, in register order (building, unit, room)."""
    households = list(
        Household.objects.filter(compound__in=list(compounds))
        .select_related("building", "compound")
        .order_by("compound__path", "building__name", "unit", "room")
    )
    contacts: dict[int, str] = {}
    special: set[int] = set()
    for household_id, name, is_contact, is_special in Resident.objects.filter(
        household__in=households
    ).values_list("household_id", "name", "is_contact", "special_group"):
        if is_contact:
            contacts[household_id] = name
        if is_special:
            special.add(household_id)
    homes: dict[int, list[_Home]] = {}
    for h in households:
        homes.setdefault(h.compound_id, []).append(
            _Home(
                h,
                h.building.name,
                h.unit,
                h.room,
                h.phone,
                contacts.get(h.pk, ""),
                h.pk in special,
            )
        )
    return homes


def _offers(round_: Round) -> dict[str, int]:
    return dict(Offer.objects.filter(round=round_).values_list("code", "pk"))


class _Placer:
    """Place orders in one round through `order_place`, spreading their times over a window."""

    def __init__(
        self, context: _Context, round_: Round, start: dt.datetime, end: dt.datetime
    ) -> None:
        self.context, self.round = context, round_
        self.offers = _offers(round_)
        self.start, self.end = start, end
        self.ordered: set[int] = set()

    def at(self, index: int, total: int) -> dt.datetime:
        return self.start + (self.end - self.start) * (index + 1) / (total + 1)

    def place(
        self,
        home: _Home,
        basket: dict[str, int],
        *,
        channel: str,
        by: User | None,
        when: dt.datetime,
        api_client: ApiClient | None = None,
        note: str = "",
    ) -> None:
        lines = {self.offers[c]: q for c, q in basket.items() if c in self.offers}
        try:
            order_place(
                round_=self.round,
                household=home.household,
                lines=lines,
                channel=channel,
                by=by,
                api_client=api_client,
                note=note,
                now=when,
            )
        except DomainError:
            self.context.result.refused += 1
            return
        self.ordered.add(home.household.pk)
        self.context.result.created["order"] += 1


def _basket(rng: random.Random) -> dict[str, int]:
    return rng.choices(BASKETS, weights=BASKET_WEIGHTS)[0]


def _fill_closed_round(
    context: _Context, round_: Round, compounds: list[Area], home_compound: Area
) -> None:
    """Last week's orders: phoned in to the liaison, or sent to the community office."""
    rng = random.Random(fancheng.SEED + 2)
    placer = _Placer(context, round_, round_.opens_at, round_.cutoff_at)
    resident = _resident_household(context)
    picks: list[tuple[_Home, str, User | None]] = []
    for compound_id, homes in _homes(compounds).items():
        by = context.user(Role.LIAISON if compound_id == home_compound.pk else Role.COMMUNITY_STAFF)
        picks += [
            (h, Order.Channel.SELF, context.user(Role.RESIDENT))
            for h in homes
            if h.household.pk == resident
        ]
        others = [h for h in homes if h.household.pk != resident]
        picks += [
            (h, Order.Channel.PROXY, by)
            for h in rng.sample(others, min(CLOSED_ORDERS, len(others)))
        ]
    for index, (home, channel, by) in enumerate(picks):
        placer.place(home, _basket(rng), channel=channel, by=by, when=placer.at(index, len(picks)))


def _resident_household(context: _Context) -> int | None:
    resident = context.user(Role.RESIDENT)
    if resident is None:
        return None
    return (
        RoleGrant.objects.filter(user=resident, role=Role.RESIDENT)
        .values_list("household_id", flat=True)
        .first()
    )


def _fill_open_round(
    context: _Context, round_: Round, compounds: list[Area], home_compound: Area
) -> None:
    """Orders from every channel, each through the path its people use (module docstring)."""
    rng = random.Random(fancheng.SEED + 4)
    homes = _homes(compounds)
    mine = homes.get(home_compound.pk, [])
    neighbours = [h for c in compounds if c.pk != home_compound.pk for h in homes.get(c.pk, [])]
    placer = _Placer(context, round_, round_.opens_at, min(context.now, round_.cutoff_at))
    resident_pk = _resident_household(context)
    volunteer_building = _volunteer_building(context)

    resident_home = [h for h in mine if h.household.pk == resident_pk]
    door = [h for h in mine if h.household.building_id == volunteer_building]
    rest = [
        h
        for h in mine
        if h.household.pk != resident_pk and h.household.building_id != volunteer_building
    ]
    rng.shuffle(rest)
    # The liaison's phone-in orders go first to those who cannot use a phone themselves.
    rest.sort(key=lambda h: not h.special)
    proxy, rest = rest[:LIAISON_PROXY], rest[LIAISON_PROXY:]
    rng.shuffle(rest)
    api, rest = rest[:API_HOME], rest[API_HOME:]
    sheet, rest = rest[:LIAISON_SHEET], rest[LIAISON_SHEET:]
    chain_homes = rest

    timed: list[tuple[_Home, dict[str, int], str, User | None, str]] = [
        (h, {"A": 1, "B": 1}, Order.Channel.SELF, context.user(Role.RESIDENT), "")
        for h in resident_home
    ]
    timed += [
        (h, _basket(rng), Order.Channel.PROXY, context.user(Role.LIAISON), "电话订购")
        for h in proxy
    ]
    timed += [
        (h, _basket(rng), Order.Channel.PROXY, context.user(Role.VOLUNTEER), "封控楼栋，送货上门")
        for h in rng.sample(door, min(VOLUNTEER_PROXY, len(door)))
    ]
    rng.shuffle(timed)
    for index, (home, basket, channel, by, note) in enumerate(timed):
        placer.place(
            home, basket, channel=channel, by=by, when=placer.at(index, len(timed)), note=note
        )

    client = context.result.api_client
    api += rng.sample(neighbours, min(API_NEIGHBOUR, len(neighbours)))
    for index, home in enumerate(api):
        placer.place(
            home,
            _basket(rng),
            channel=Order.Channel.API,
            by=None,
            api_client=client,
            when=placer.at(index, len(api)),
            note=f"小程序订单号 WS{fancheng.SEED}{index + 1:04d}",
        )

    taken = placer.ordered
    _commit_chain(context, round_, [h for h in chain_homes if h.household.pk not in taken], rng)
    liaison = context.user(Role.LIAISON)
    _commit_sheet(context, round_, liaison, sheet, rng)
    others = [h for h in neighbours if h.household.pk not in taken]
    share = rng.sample(others, min(NEIGHBOUR_SHEET, len(others)))
    _commit_sheet(context, round_, context.user(Role.COMMUNITY_STAFF), share, rng)


def _volunteer_building(context: _Context) -> int | None:
    volunteer = context.user(Role.VOLUNTEER)
    if volunteer is None:
        return None
    return (
        RoleGrant.objects.filter(user=volunteer, role=Role.VOLUNTEER)
        .values_list("area_id", flat=True)
        .first()
    )


def _tally(context: _Context, report: intake.CommitReport) -> None:
    counts = report.counts
    made = context.result.created
    made["order"] += counts[intake.Outcome.CREATED] + counts[intake.Outcome.UPDATED]
    context.result.refused += counts[intake.Outcome.REFUSED]


# --- the chain --------------------------------------------------------------------------------

_NUMBERED_BUILDING = re.compile(r"^(\d+)号楼$")
_CN_DIGITS = "零一二三四五六七八九"


def _building_number(home: _Home) -> str | None:
    match = _NUMBERED_BUILDING.match(home.building)
    return match.group(1) if match else None


def _chinese(number: str) -> str:
    value = int(number)
    if value <= 10:
        return "十" if value == 10 else _CN_DIGITS[value]
    return number


def _call(home: _Home, index: int) -> str:
    """How a neighbour signs a chain line: 王阿姨, 老李, 张建国."""
    name = home.contact or "邻居"
    family = next((s for s in names.SURNAMES if len(s) > 1 and name.startswith(s)), name[:1])
    return (f"{family}阿姨", f"老{family}", name, f"{family}姐", f"{family}叔")[index % 5]


def _address(home: _Home, form: int) -> str:
    """The flat written the ways people write it; forms that need a number fall back."""
    b, u, r = home.building, home.unit, home.room
    n = _building_number(home)
    if n is None:
        return f"{b}{u}单元{r}" if u else f"{b}{r}"
    if not u:
        return (f"{b}{r}", f"{n}栋{r}", f"{n}幢{r}室")[form % 3]
    forms = [
        f"{b}{u}单元{r}",
        f"{n}-{u}-{r}",
        f"{n}幢{u}单元{r}室",
        f"{_chinese(n)}号楼{_chinese(u)}单元{r}",
    ]
    if home.household.building.units_count <= 1:
        forms.append(f"{n}栋{r}")  # no entrance written: fine where the building has one
    return forms[form % len(forms)]


# What each numbered line orders, as written; {addr}, {who} and {phone} are filled in.
# The (form) picks the address style; None writes no address, only the phone.
CHAIN_ENTRIES: tuple[tuple[str, int | None], ...] = (
    ("{addr} {who} A套餐×1 B×2", 0),
    ("{addr} {phone} 米面油一份 菜包两份", 1),
    ("{addr} {who} C 1份 谢谢🙏", 4),
    ("{addr} 肉蛋×1 牛奶2箱", 2),
    ("{who} {phone} 要A一份", None),
    ("{addr} 一份A 两份B 👍", 0),
    ("{addr} D两箱", 3),
    ("{addr} {who} A、B各一份", 0),
    ("{addr} B×1 D×1 已转账", 1),
    ("{addr} 蔬菜套餐x2 🌹", 2),
    ("{addr} {who} 肉蛋套餐一份 牛奶一箱", 0),
)


def demo_chain(
    homes: Sequence[_Home], *, round_: Round, compound: str, unknown_building: str
) -> str:
    """A group-chat chain as a liaison pastes it: header, example, numbered orders, chatter,
    one household twice (the later line wins) and one address that is no flat of the round."""
    cutoff = timezone.localtime(round_.cutoff_at)
    lines = [
        f"#接龙 {round_.title}（{compound}）",
        "A 米面粮油套餐 ¥88  B 蔬菜套餐 ¥39.9  C 肉蛋套餐 ¥69  D 纯牛奶整箱 ¥45",
        f"{cutoff.month}月{cutoff.day}日晚8点截单，A、C每户限一份，B、D每户限两份，北门自提",
        "例：1号楼1单元101 张三 A×1 B×2",
    ]
    entries: list[str] = []
    for index, (home, (text, form)) in enumerate(zip(homes, CHAIN_ENTRIES, strict=False)):
        address = "" if form is None else _address(home, form)
        entries.append(text.format(addr=address, who=_call(home, index), phone=home.phone))
    if len(homes) > 1:
        again = homes[1]  # changes their mind: a smaller order, the address written differently
        entries.append(f"{_address(again, 0)} {_call(again, 1)} 改一下：菜包一份就行")
    entries.insert(min(7, len(entries)), f"{unknown_building}1单元101 A×1")
    chatter = {3: "+1", 8: "B套餐还有吗？"}
    for number, entry in enumerate(entries, start=1):
        lines.append(f"{number}{'. ' if number % 2 else '、'}{entry}")
        if number in chatter:
            lines.append(chatter[number])
    lines.append("谢谢团长辛苦了🌹")
    return "\n".join(lines)


def _commit_chain(context: _Context, round_: Round, homes: list[_Home], rng: random.Random) -> None:
    liaison = context.user(Role.LIAISON)
    if liaison is None or not homes:
        return
    picked = rng.sample(homes, min(len(CHAIN_ENTRIES), len(homes)))
    buildings = Area.objects.filter(
        parent__in=RoundArea.objects.filter(round=round_).values("area_id"),
        kind=Area.Kind.BUILDING,
    ).values_list("name", flat=True)
    numbers = [int(m.group(1)) for name in buildings if (m := _NUMBERED_BUILDING.match(name))]
    unknown = f"{max(numbers, default=0) + 3}号楼"  # no such building in the round's compounds
    text = demo_chain(
        picked,
        round_=round_,
        compound=picked[0].household.compound.name,
        unknown_building=unknown,
    )
    context.result.chain_text = text
    preview = intake.chain_preview(round_, text, by=liaison)
    report = intake.intake_commit(preview, keep=None, channel=Order.Channel.CHAIN, by=liaison)
    _tally(context, report)


# --- order sheets -----------------------------------------------------------------------------


def demo_sheet(
    template: bytes, homes: Sequence[_Home], baskets: Callable[[], dict[str, int]]
) -> bytes:
    """The round's order template with quantities filled in for `homes`, as a liaison does."""
    from openpyxl import load_workbook

    workbook = load_workbook(io.BytesIO(template))
    sheet = workbook.worksheets[0]
    heading = [str(c.value or "") for c in sheet[1]]
    columns = {text.split(" ", 1)[0]: i + 1 for i, text in enumerate(heading) if " " in text}
    phone_column, note_column = heading.index("联系电话") + 1, heading.index("备注") + 1
    wanted = {(h.building, h.unit, h.room): h for h in homes}
    filled = 0
    for row in sheet.iter_rows(min_row=2):
        key = tuple(str(c.value or "") for c in row[:3])
        home = wanted.get(key)  # type: ignore[arg-type]
        if home is None:
            continue
        for code, quantity in baskets().items():
            if code in columns:
                # Some people type the quantity in words, as in the chat.
                value = "两份" if quantity == 2 and filled % 7 == 3 else quantity
                sheet.cell(row=row[0].row, column=columns[code], value=value)
        sheet.cell(row=row[0].row, column=phone_column, value=home.phone)
        if filled % 4 == 1:
            note = SHEET_NOTES[filled // 4 % len(SHEET_NOTES)]
            sheet.cell(row=row[0].row, column=note_column, value=note)
        filled += 1
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def _commit_sheet(
    context: _Context,
    round_: Round,
    by: User | None,
    homes: list[_Home],
    rng: random.Random,
) -> None:
    if by is None or not homes:
        return
    template = sheet_intake.order_template(round_, by=by)
    data = demo_sheet(template, homes, lambda: _basket(rng))
    preview = sheet_intake.sheet_preview(round_, data, by=by)
    report = intake.intake_commit(preview, keep=None, channel=Order.Channel.EXCEL, by=by)
    _tally(context, report)


# --- what load_demo prints --------------------------------------------------------------------

CHANNEL_WORDS = {
    Order.Channel.SELF: "self-service",
    Order.Channel.PROXY: "proxy",
    Order.Channel.CHAIN: "chain",
    Order.Channel.EXCEL: "spreadsheet",
    Order.Channel.API: "API",
}


def summary_lines(result: DemoOrdering) -> list[str]:
    """A few lines on the suppliers and rounds, then where to try each channel."""
    catalog = result.catalog
    lines = [
        f"Suppliers of the seed plan: {catalog['outlet']} outlets, {catalog['package']} "
        f"packages, serving {catalog['assignment']} street offices, communities and "
        "compounds (/supply/)."
    ]
    round_ = result.open_round
    states = ", ".join(f"{state} #{r.pk}" for state, r in result.rounds.items())
    if round_ is not None:
        ordered = sum(result.channels.values())
        by_channel = ", ".join(
            f"{CHANNEL_WORDS[channel]} {result.channels[channel]}"
            for channel in CHANNEL_WORDS
            if result.channels[channel]
        )
        lines.append(
            f"Rounds of {ROUND_SUPPLIER}: {states}. The open round “{round_.title}” has "
            f"{ordered} orders from {result.households} households ({by_channel}); "
            "the others are on the liaison's chase list."
        )
    lines += [f"Note: {note}" for note in result.notes]
    if round_ is None:
        return lines
    phone = result.phones
    pk = round_.pk
    resident, liaison = phone.get(Role.RESIDENT, ""), phone.get(Role.LIAISON, "")
    rows = [
        ("self-service", f"resident {resident}", "/shop/"),
        ("proxy order", f"liaison {liaison}", f"/rounds/{pk}/proxy/"),
        ("order chain", f"liaison {liaison}", f"/rounds/{pk}/chain/"),
        ("spreadsheet", f"liaison {liaison}", f"/rounds/{pk}/excel/"),
        (
            "round page",
            f"liaison {liaison}, supplier {phone.get(Role.SUPPLIER, '')}",
            f"/rounds/{pk}/",
        ),
        ("platform API", "Authorization: Bearer <token>", "/api/docs"),
    ]
    width = max(len(who) for _what, who, _where in rows)
    lines += ["", "Try each ordering channel at http://127.0.0.1:8000 (log in as):"]
    lines += [f"  {what:<13} {who:<{width}}  {where}" for what, who, where in rows]
    if result.chain_hint:
        lines.append(
            f"  A chain line to paste, for a household that has not ordered: {result.chain_hint}"
        )
    client = result.api_client
    if result.api_token and client is not None:
        lines += [
            "",
            f"API token of “{client.name}” ({ROUND_SUPPLIER}); it is shown only this time, "
            "only its hash is kept:",
            f"  {result.api_token}",
            "  curl -H 'Authorization: Bearer <token>' http://127.0.0.1:8000/api/rounds",
        ]
    elif client is not None:
        lines.append(
            f"  The token of API client “{client.name}” ({client.token_prefix}…) was shown when "
            f"it was made; `manage.py create_api_client {client.supplier_id} NAME` makes another."
        )
    return lines
