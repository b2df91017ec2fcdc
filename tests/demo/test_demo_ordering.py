"""The demo's suppliers, catalogs, rounds and orders (baogong/demo/ordering.py)."""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from decimal import Decimal
from io import StringIO

import pytest
import time_machine
from django.core.management import call_command
from django.db.models import F, Sum
from django.utils import timezone

from baogong.accounts.models import Role, RoleGrant, User
from baogong.areas.models import Area, Household
from baogong.demo import fancheng, ordering
from baogong.demo.services import DemoResult
from baogong.orders import intake
from baogong.orders.api_auth import hash_token
from baogong.orders.models import ApiClient, Order, OrderLine, Round
from baogong.supply.models import Package, Supplier, SupplierArea
from baogong.supply.services import LineSpec, package_create
from tests.demo.helpers import assert_fake_mobile, table_state

pytestmark = pytest.mark.django_db

SUPERMARKETS = ("武商", "好邻居", "家乐福", "沃尔玛", "中百仓储")
STREETS = {street for street, _communities in fancheng.STREETS}


def load_demo() -> str:
    out = StringIO()
    call_command("load_demo", stdout=out)
    return out.getvalue()


@pytest.fixture
def demo(demo_loaded, fast_passwords) -> DemoResult:
    return demo_loaded


def _grant(role: str) -> RoleGrant:
    return RoleGrant.objects.select_related("user", "area", "household").get(role=role)


def _open_round() -> Round:
    return Round.objects.get(title=ordering.OPEN_TITLE)


# --- what load_demo prints, and running it again (on an empty database, so first) --------


def test_load_demo_prints_where_to_try_each_channel_and_the_token_only_once(fast_passwords):
    first = load_demo()
    round_ = _open_round()
    for path in ("proxy/", "chain/", "excel/", ""):
        assert f"/rounds/{round_.pk}/{path}" in first
    assert "/shop/" in first and "/api/docs" in first
    for role in (Role.RESIDENT, Role.LIAISON, Role.SUPPLIER):
        assert _grant(role).user.phone in first
    hint = re.search(r"A chain line to paste.*: (.+)", first).group(1)
    preview = intake.chain_preview(round_, hint, by=_grant(Role.LIAISON).user)
    assert [str(row.status) for row in preview.rows] == ["matched"]
    token = re.search(r"shown only this time.*\n\s+(\S+)", first).group(1)
    client = ApiClient.objects.get(name=ordering.API_CLIENT_NAME)
    assert hash_token(token) == client.token_hash

    before = table_state()
    second = load_demo()
    assert table_state() == before
    assert "nothing to do" in second
    assert token not in second and client.token_prefix in second
    assert f"/rounds/{round_.pk}/proxy/" in second


def test_load_demo_after_the_cut_off_leaves_the_round_alone_and_says_so(fast_passwords):
    load_demo()
    round_ = _open_round()
    before = table_state()
    with time_machine.travel(round_.cutoff_at + dt.timedelta(days=1), tick=False):
        output = load_demo()
    assert table_state() == before
    assert f"open round #{round_.pk}" in output and "cut-off" in output
    assert "nothing to do" in output


# --- suppliers and catalogs -------------------------------------------------------------------


def test_load_demo_assigns_suppliers_to_areas_as_the_seed_plan_says(demo):
    served: dict[str, list[Area]] = {}
    for assignment in SupplierArea.objects.select_related("supplier", "area"):
        served.setdefault(assignment.supplier.name, []).append(assignment.area)
    for supplier in Supplier.objects.prefetch_related("outlets"):
        areas = served[supplier.name]
        if supplier.kind == Supplier.Kind.SUPERMARKET:
            assert 1 <= len(areas) <= 2, supplier
            assert {a.kind for a in areas} == {Area.Kind.STREET}
        elif supplier.kind == Supplier.Kind.SMALL_SHOP:
            assert len(areas) == 1
            assert areas[0].kind in (Area.Kind.COMMUNITY, Area.Kind.COMPOUND)
        else:
            assert supplier.kind == Supplier.Kind.PLATFORM
            assert {a.name for a in areas} == STREETS
        outlets = list(supplier.outlets.all())
        assert 1 <= len(outlets) <= 2, supplier
        for outlet in outlets:
            assert_fake_mobile(outlet.phone)
            assert outlet.area.is_within(demo.district)
            assert outlet.latitude is not None and outlet.address
        assert supplier.vehicles_count > 0 and supplier.daily_capacity > 0
        assert_fake_mobile(supplier.contact_phone)
    assert set(served) >= set(SUPERMARKETS)

    # A compound sees the suppliers assigned to it or to any node above it.
    compound = _grant(Role.LIAISON).area
    above = SupplierArea.objects.filter(area__in=[*compound.ancestor_ids, compound.pk])
    seen = set(above.values_list("supplier__name", flat=True))
    assert {"武商", "中百仓储", "惠民便利店", "京东到家", "美团买菜"} <= seen


def test_load_demo_gives_every_supplier_a_catalog_of_packages_with_lines(demo):
    wushang = Package.objects.filter(supplier__name="武商").prefetch_related("lines")
    packages = {p.name: p for p in wushang}
    grain = packages["米面粮油套餐"]
    assert grain.price == Decimal("88.00")
    assert [(line.item, line.specification, line.quantity) for line in grain.lines.all()] == [
        ("大米", "5kg", 1),
        ("面粉", "2.5kg", 1),
        ("食用油", "1.8L", 1),
    ]
    assert "米面油" in grain.aliases
    assert packages["蔬菜套餐"].price == Decimal("39.90")
    assert "菜包" in packages["蔬菜套餐"].aliases
    assert packages["肉蛋套餐"].price == Decimal("69.00")
    milk = packages["纯牛奶整箱"]
    assert (milk.price, milk.per_household_limit) == (Decimal("45.00"), 2)
    assert str(milk.lines.get()) == "纯牛奶 250ml ×12盒"
    # Single items are one-line packages; every category has something to order.
    assert sum(1 for p in wushang if len(p.lines.all()) == 1) >= 3
    assert set(wushang.values_list("category", flat=True)) >= set(Package.Category.values) - {
        Package.Category.MIXED
    }
    for supplier in Supplier.objects.all():
        catalog = supplier.packages.all()
        assert catalog.count() >= 5, supplier
        assert not catalog.filter(lines=None).exists()
        assert not catalog.filter(price__lte=0).exists()
    # Supermarkets price the same packages a little differently.
    prices = set(
        Package.objects.filter(name="米面粮油套餐", supplier__name__in=SUPERMARKETS).values_list(
            "price", flat=True
        )
    )
    assert len(prices) == len(SUPERMARKETS)


def test_demo_catalogs_pass_the_package_service_checks():
    """The loader writes catalogs in bulk; package_create must accept each as it is."""
    catalogs = {plan.catalog for plan in ordering._supplier_plans().values()}
    for number, catalog in enumerate(catalogs):
        supplier = Supplier.objects.create(name=f"检查{number}", kind=Supplier.Kind.SMALL_SHOP)
        for plan in catalog:
            package = package_create(
                supplier=supplier,
                name=plan.name,
                price=plan.price,
                lines=[LineSpec(i, s, Decimal(q), u) for i, s, q, u in plan.lines],
                by=None,
                category=plan.category,
                default_stock_cap=plan.stock,
                per_household_limit=plan.limit,
                aliases=plan.aliases,
            )
            assert package.aliases == plan.aliases
            assert not re.search(r"\d", package.name), "a digit in a name reads as a quantity"


# --- rounds and orders ------------------------------------------------------------------------


def test_load_demo_shows_rounds_closed_open_and_draft(demo):
    now = timezone.now()
    rounds = {r.title: r for r in Round.objects.filter(supplier__name="武商")}
    closed = rounds[ordering.CLOSED_TITLE]
    opened = rounds[ordering.OPEN_TITLE]
    draft = rounds[ordering.DRAFT_TITLE]
    # The closed round has since been confirmed and sent out on a trip (demo_transport).
    assert (closed.state, opened.state, draft.state) == ("dispatched", "open", "draft")
    assert closed.cutoff_at < now and closed.orders.exists()
    assert opened.opens_at < now - dt.timedelta(hours=12)
    assert now + dt.timedelta(days=2) < opened.cutoff_at < now + dt.timedelta(days=5)
    assert draft.opens_at > opened.cutoff_at and not draft.orders.exists()
    assert list(opened.offers.values_list("code", flat=True)) == ["A", "B", "C", "D"]
    # The liaison's compound and its neighbours in the same community.
    liaison_compound = _grant(Role.LIAISON).area
    for round_ in rounds.values():
        served = list(round_.areas.all())
        assert liaison_compound in served and len(served) >= 2
        assert {a.parent_id for a in served} == {liaison_compound.parent_id}
    # Every transition went through round_transition, which keeps its history.
    reasons = set(closed.history.values_list("history_change_reason", flat=True))
    assert {"open", "close", "confirm", "dispatch"} <= reasons
    assert demo.ordering.rounds == {"closed": closed, "open": opened, "draft": draft}


def test_open_round_has_orders_from_every_channel_entered_by_the_right_people(demo):
    round_ = _open_round()
    orders = Order.objects.filter(round=round_, state=Order.State.PLACED)
    by_channel = Counter(orders.values_list("channel", flat=True))
    assert set(by_channel) == set(Order.Channel.values)
    assert demo.ordering.channels == by_channel
    assert demo.ordering.refused == 0

    resident = _grant(Role.RESIDENT)
    own = orders.get(channel=Order.Channel.SELF)
    assert (own.household, own.entered_by) == (resident.household, resident.user)

    liaison, volunteer = _grant(Role.LIAISON), _grant(Role.VOLUNTEER)
    proxies = orders.filter(channel=Order.Channel.PROXY)
    assert set(proxies.values_list("entered_by", flat=True)) == {liaison.user.pk, volunteer.user.pk}
    for order in proxies.filter(entered_by=volunteer.user).select_related("household"):
        assert order.household.building_id == volunteer.area.pk
    chain = orders.filter(channel=Order.Channel.CHAIN)
    assert chain.count() >= 8 and set(chain.values_list("entered_by", flat=True)) == {
        liaison.user.pk
    }
    sheets = orders.filter(channel=Order.Channel.EXCEL)
    community_staff = _grant(Role.COMMUNITY_STAFF).user
    assert set(sheets.values_list("entered_by", flat=True)) == {
        liaison.user.pk,
        community_staff.pk,
    }
    assert sheets.exclude(note="").exists()
    api = orders.filter(channel=Order.Channel.API)
    assert 3 <= api.count() <= 5
    client = ApiClient.objects.get(name=ordering.API_CLIENT_NAME)
    assert client.supplier == round_.supplier
    assert set(api.values_list("api_client", "entered_by")) == {(client.pk, None)}

    # About half of the liaison's compound has not ordered: the chase list has names.
    households = Household.objects.filter(compound=liaison.area).count()
    ordered = orders.filter(compound=liaison.area).count()
    assert 0.35 <= ordered / households <= 0.65
    # Orders came in over the day since the round opened.
    assert orders.filter(placed_at__lt=timezone.now() - dt.timedelta(hours=6)).exists()


def test_demo_rounds_keep_stock_limits_and_money_consistent(demo):
    for round_ in Round.objects.all():
        live = OrderLine.objects.filter(order__round=round_, order__state=Order.State.PLACED)
        for offer in round_.offers.all():
            counted = live.filter(offer=offer).aggregate(n=Sum("quantity"))["n"] or 0
            assert offer.sold == counted <= offer.stock_cap, offer
            assert not live.filter(offer=offer, quantity__gt=offer.per_household_limit).exists()
        orders = round_.orders.filter(state=Order.State.PLACED)
        assert round_.orders_total == orders.count() <= (round_.capacity or 10**9)
        for order in orders.prefetch_related("lines"):
            assert order.amount_due == sum(line.amount for line in order.lines.all())
        assert not live.exclude(unit_price=F("offer__price")).exists()
    # Every round's offers keep some stock: the demo never sells a round out.
    assert not Round.objects.filter(offers__sold=F("offers__stock_cap")).exists()


def test_demo_chain_reads_like_a_real_one_and_pasting_it_again_changes_nothing(demo):
    text = demo.ordering.chain_text
    lines = text.splitlines()
    assert len(lines) >= 15
    assert re.search("[🙏🌹👍]", text) and "两份" in text and "+1" in text
    assert re.search(r"^\d+、", text, re.M) and re.search(r"^\d+\. ", text, re.M)
    assert re.search(r"\d+-\d+-\d+", text) and re.search(r"[一二三四五六七八九]号楼", text)

    liaison = _grant(Role.LIAISON).user
    preview = intake.chain_preview(_open_round(), text, by=liaison)
    statuses = Counter(str(row.status) for row in preview.rows)
    assert statuses["duplicate"] == 1
    assert [row.codes for row in preview.rows if row.status == "unmatched"] == [["no_household"]]
    assert statuses["ignored"] >= 5  # header, prices, cut-off, example, chatter
    assert statuses["ordered"] == Order.objects.filter(channel=Order.Channel.CHAIN).count()
    assert all(row.codes == ["ordered_same"] for row in preview.rows if row.status == "ordered")

    before = table_state()
    report = intake.intake_commit(preview, keep=None, channel=Order.Channel.CHAIN, by=liaison)
    assert set(report.counts) == {"unchanged"}
    assert table_state() == before


def test_load_demo_restores_a_missing_package_and_nothing_else(demo):
    package = Package.objects.get(supplier__name="惠民便利店", name="方便面整箱")
    package.delete()
    rounds = Round.objects.count()
    orders = Order.objects.count()
    output = load_demo()
    assert "restored what was missing: 1 package(s)." in output
    assert Package.objects.filter(supplier__name="惠民便利店", name="方便面整箱").exists()
    assert (Round.objects.count(), Order.objects.count()) == (rounds, orders)


# --- the pages the "try it" lines point at ------------------------------------------------------


def test_try_it_pages_answer_for_the_logins_named(demo, client):
    round_ = _open_round()
    pages = {
        Role.RESIDENT: ["/shop/", f"/shop/{round_.pk}/", "/my-orders/"],
        Role.LIAISON: [
            f"/rounds/{round_.pk}/",
            f"/rounds/{round_.pk}/proxy/",
            f"/rounds/{round_.pk}/chain/",
            f"/rounds/{round_.pk}/excel/",
        ],
        Role.SUPPLIER: [f"/rounds/{round_.pk}/", "/rounds/"],
    }
    for role, paths in pages.items():
        client.force_login(User.objects.get(phone=demo.ordering.phones[role]))
        for path in paths:
            assert client.get(path).status_code == 200, (role, path)
        client.logout()
    assert client.get("/api/docs").status_code == 200
    token = demo.ordering.api_token
    response = client.get("/api/rounds", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200
    assert round_.pk in [r["id"] for r in response.json()]
