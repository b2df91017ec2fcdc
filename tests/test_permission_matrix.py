"""Every role against every page and API endpoint, inside and outside its scope.

Each URL of the project must appear in TARGETS (or in NOT_OBJECT_SCOPED with the
reason), so a new page cannot be added without saying who may reach what.
A role's "outside" objects are those of a sibling branch of the tree and of a
second district; every role must get 403 or 404 there, never the object.
"""

from __future__ import annotations

import datetime as dt
import importlib
import importlib.util
from dataclasses import dataclass, field
from decimal import Decimal

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from baogong.accounts.models import Role, RoleGrant, User
from baogong.areas.models import Area, Gate, Household, Resident
from baogong.orders import services as order_services
from baogong.orders.api_auth import api_client_create
from baogong.orders.models import Order, Round
from baogong.supply.models import Outlet, Package, Supplier, SupplierArea
from tests.factories import HouseholdFactory, ResidentFactory, UserFactory, make_area

ALL_ROLES = list(Role.values)


@dataclass
class Side:
    """One branch of the tree with one of each kind of object in it."""

    district: Area
    street: Area
    community: Area
    compound: Area
    building: Area
    household: Household
    resident: Resident
    supplier: Supplier
    package: Package
    outlet: Outlet
    assignment: SupplierArea
    round: Round
    order: Order
    volunteer: User
    volunteer_grant: RoleGrant
    api_token: str
    # Objects the apps' own matrix modules add (see EXTENSIONS), by name.
    extra: dict = field(default_factory=dict)


# Apps describe their own pages in tests/<app>/matrix.py, so each app's rows live
# beside its tests. Such a module has `build(side) -> dict` (objects to add to
# side.extra) and any of TARGETS, NOT_OBJECT_SCOPED, API_TARGETS, API_UNSCOPED.
EXTENSIONS = [
    importlib.import_module(f"tests.{app}.matrix")
    for app in (
        "payments",
        "fulfilment",
        "welfare",
        "requisitions",
        "monitoring",
        "notify",
        "lastmile",
        "distributions",
    )
    if importlib.util.find_spec(f"tests.{app}.matrix") is not None
]


def build_side(district: Area, tag: str) -> Side:
    street = make_area(Area.Kind.STREET, district, f"街道{tag}")
    community = make_area(Area.Kind.COMMUNITY, street, f"社区{tag}")
    compound = make_area(Area.Kind.COMPOUND, community, f"小区{tag}")
    building = make_area(Area.Kind.BUILDING, compound, "3号楼")
    household = HouseholdFactory(building=building, unit="2", room="502")
    resident = ResidentFactory(household=household)
    supplier = Supplier.objects.create(name=f"超市{tag}", kind=Supplier.Kind.SUPERMARKET)
    package = Package.objects.create(supplier=supplier, name="蔬菜套餐", price=Decimal("39.90"))
    outlet = Outlet.objects.create(supplier=supplier, name="一号店")
    assignment = SupplierArea.objects.create(supplier=supplier, area=street)
    now = timezone.now()
    round_ = order_services.round_create(
        supplier=supplier,
        title=f"第1期{tag}",
        areas=[compound],
        opens_at=now - dt.timedelta(hours=1),
        cutoff_at=now + dt.timedelta(days=1),
        offers=[order_services.OfferSpec(package, "A")],
        by=None,
    )
    order_services.round_transition(round_=round_, action="open", by=None)
    order = order_services.order_place(
        round_=round_,
        household=household,
        lines={round_.offers.get().pk: 1},
        channel=Order.Channel.PROXY,
        by=None,
    )
    volunteer = UserFactory()
    volunteer_grant = RoleGrant.objects.create(user=volunteer, role=Role.VOLUNTEER, area=building)
    _client, token = api_client_create(supplier=supplier, name=f"平台{tag}")
    side = Side(
        district,
        street,
        community,
        compound,
        building,
        household,
        resident,
        supplier,
        package,
        outlet,
        assignment,
        round_,
        order,
        volunteer,
        volunteer_grant,
        token,
    )
    for extension in EXTENSIONS:
        side.extra.update(extension.build(side))
    return side


# Where each role is granted on the "inside" side.
GRANTED_ON = {
    Role.DISTRICT_ADMIN: "district",
    Role.BUREAU_STAFF: "district",
    Role.STREET_STAFF: "street",
    Role.COMMUNITY_STAFF: "community",
    Role.LIAISON: "compound",
    Role.VOLUNTEER: "building",
    Role.RESIDENT: "household",
    Role.SUPPLIER: "supplier",
    Role.MARKET_SUPERVISION: "district",
}


@pytest.fixture
def world(db):
    district = make_area(Area.Kind.DISTRICT, None, "樊城区")
    other_district = make_area(Area.Kind.DISTRICT, None, "襄城区")
    return {
        "inside": build_side(district, "甲"),
        "sibling": build_side(district, "乙"),
        "elsewhere": build_side(other_district, "丙"),
    }


def login_as(client, role: str, side: Side) -> User:
    user = UserFactory()
    scope_obj = getattr(side, GRANTED_ON[role])
    field = {Role.RESIDENT: "household", Role.SUPPLIER: "supplier"}.get(role, "area")
    RoleGrant.objects.create(user=user, role=role, **{field: scope_obj})
    client.force_login(user)
    return user


# url name → (HTTP method, kwargs from a side, roles that reach it inside their scope).
# District-level roles reach the sibling branch too, so their "outside" is the other district.
STAFF = {Role.DISTRICT_ADMIN, Role.STREET_STAFF, Role.COMMUNITY_STAFF, Role.LIAISON, Role.VOLUNTEER}
REGISTER = {Role.DISTRICT_ADMIN, Role.STREET_STAFF, Role.COMMUNITY_STAFF}
TARGETS = {
    "areas:detail": ("get", lambda s: {"pk": s.building.pk}, STAFF | {Role.BUREAU_STAFF}),
    # Residents see their household on areas:my_household, not on the staff page.
    "areas:household_detail": ("get", lambda s: {"pk": s.household.pk}, STAFF),
    "areas:household_edit": ("get", lambda s: {"pk": s.household.pk}, REGISTER),
    "areas:resident_add": ("get", lambda s: {"pk": s.household.pk}, REGISTER),
    "areas:resident_edit": ("get", lambda s: {"pk": s.resident.pk}, REGISTER),
    "areas:resident_delete": ("post", lambda s: {"pk": s.resident.pk}, REGISTER),
    "areas:export": ("get", lambda s: {"pk": s.compound.pk}, REGISTER),
    "areas:gate_add": ("get", lambda s: {"pk": s.compound.pk}, REGISTER),
    "areas:gate_edit": (
        "get",
        lambda s: {"pk": Gate.objects.get_or_create(compound=s.compound, name="东门")[0].pk},
        REGISTER,
    ),
    "accounts:create": ("get", lambda s: {"area_pk": s.compound.pk}, REGISTER),
    "accounts:resident_create": ("get", lambda s: {"household_pk": s.household.pk}, REGISTER),
    "accounts:reset_password": ("post", lambda s: {"user_pk": s.volunteer.pk}, REGISTER),
    "accounts:revoke": ("post", lambda s: {"grant_pk": s.volunteer_grant.pk}, REGISTER),
    "orders:round_detail": (
        "get",
        lambda s: {"pk": s.round.pk},
        {Role.DISTRICT_ADMIN, Role.STREET_STAFF, Role.COMMUNITY_STAFF, Role.LIAISON, Role.SUPPLIER},
    ),
    "orders:round_edit": ("get", lambda s: {"pk": s.round.pk}, set()),  # open rounds: not editable
    "orders:round_action": (
        "post",
        lambda s: {"pk": s.round.pk, "action": "close"},
        {Role.LIAISON, Role.SUPPLIER},
    ),
    "orders:round_export": ("get", lambda s: {"pk": s.round.pk}, {Role.LIAISON, Role.SUPPLIER}),
    "orders:proxy_order": ("get", lambda s: {"pk": s.round.pk}, {Role.LIAISON, Role.VOLUNTEER}),
    "orders:chain_paste": ("get", lambda s: {"pk": s.round.pk}, {Role.LIAISON}),
    "orders:excel_upload": ("get", lambda s: {"pk": s.round.pk}, {Role.LIAISON}),
    "orders:excel_template": ("get", lambda s: {"pk": s.round.pk}, {Role.LIAISON}),
    "orders:round_order": ("get", lambda s: {"pk": s.round.pk}, {Role.RESIDENT}),
    "orders:order_cancel": ("post", lambda s: {"pk": s.order.pk}, {Role.RESIDENT}),
    "supply:supplier_detail": (
        "get",
        lambda s: {"pk": s.supplier.pk},
        {Role.STREET_STAFF, Role.SUPPLIER},
    ),
    "supply:supplier_edit": ("get", lambda s: {"pk": s.supplier.pk}, {Role.SUPPLIER}),
    "supply:outlet_create": ("get", lambda s: {"pk": s.supplier.pk}, {Role.SUPPLIER}),
    "supply:outlet_edit": ("get", lambda s: {"pk": s.outlet.pk}, {Role.SUPPLIER}),
    "supply:catalog": ("get", lambda s: {"pk": s.supplier.pk}, {Role.SUPPLIER}),
    "supply:package_create": ("get", lambda s: {"pk": s.supplier.pk}, {Role.SUPPLIER}),
    "supply:package_edit": ("get", lambda s: {"pk": s.package.pk}, {Role.SUPPLIER}),
    "supply:package_active": ("post", lambda s: {"pk": s.package.pk}, {Role.SUPPLIER}),
    "supply:assignment_remove": (
        "post",
        lambda s: {"pk": s.assignment.pk},
        {Role.STREET_STAFF, Role.DISTRICT_ADMIN},
    ),
}
# Pages without an object in the URL: their lists are scoped and tested page by page.
NOT_OBJECT_SCOPED = {
    "home",
    "set_language",
    "accounts:login",
    "accounts:logout",
    "accounts:profile",
    "accounts:password_change",
    "accounts:list",
    "areas:browse",
    "areas:household_search",
    "areas:my_household",
    "areas:import",
    "areas:import_template",
    "orders:round_list",
    "orders:round_create",
    "orders:shop",
    "orders:my_orders",
    "supply:supplier_list",
    "supply:supplier_create",
    "supply:assignments",
    "supply:assignment_import",
    "supply:assignment_template",
    # Product pictures, not personal data: any signed-in user may see them (residents shop).
    "supply:package_photo",
    # The key is the sha256 of a file the same user uploaded; status is kept per user.
    "areas:import_status",
}
# API endpoints: token-authenticated, scoped to the token's supplier (tested below).
API_TARGETS = {
    "api:round_detail": ("get", lambda s: {"round_id": s.round.pk}),
    "api:round_orders": ("get", lambda s: {"round_id": s.round.pk}),
    "api:order_create": ("post", lambda s: {"round_id": s.round.pk}),
    "api:order_detail": ("get", lambda s: {"order_id": s.order.pk}),
    "api:order_update": ("put", lambda s: {"order_id": s.order.pk}),
    "api:order_delete": ("delete", lambda s: {"order_id": s.order.pk}),
}
API_UNSCOPED = {
    "api:openapi-json",
    "api:openapi-view",
    "api:ping",
    "api:round_list",
    "api:api-root",
}
for extension in EXTENSIONS:
    TARGETS.update(getattr(extension, "TARGETS", {}))
    NOT_OBJECT_SCOPED |= set(getattr(extension, "NOT_OBJECT_SCOPED", ()))
    API_TARGETS.update(getattr(extension, "API_TARGETS", {}))
    API_UNSCOPED |= set(getattr(extension, "API_UNSCOPED", ()))


def project_url_names() -> set[str]:
    names = set()

    def walk(patterns, namespace=None):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                if pattern.namespace == "admin":
                    continue
                walk(pattern.url_patterns, pattern.namespace or namespace)
            elif isinstance(pattern, URLPattern) and pattern.name:
                names.add(f"{namespace}:{pattern.name}" if namespace else pattern.name)

    walk(get_resolver().url_patterns)
    return names


def test_every_url_is_in_the_matrix():
    known = set(TARGETS) | NOT_OBJECT_SCOPED | set(API_TARGETS) | API_UNSCOPED
    assert project_url_names() - known == set()
    assert known - project_url_names() == set(), "the matrix names URLs that no longer exist"


def outside_sides(role: str) -> list[str]:
    if role in (Role.DISTRICT_ADMIN, Role.BUREAU_STAFF, Role.MARKET_SUPERVISION):
        return ["elsewhere"]
    return ["sibling", "elsewhere"]


def request(client, method: str, url: str):
    return (
        getattr(client, method)(url, content_type="application/json")
        if method in ("put", "delete")
        else getattr(client, method)(url)
    )


@pytest.mark.parametrize("role", ALL_ROLES)
def test_role_never_reaches_objects_outside_its_scope(client, world, role):
    login_as(client, role, world["inside"])
    leaks = []
    for name, (method, kwargs_of, _owners) in TARGETS.items():
        for side in outside_sides(role):
            url = reverse(name, kwargs=kwargs_of(world[side]))
            status = request(client, method, url).status_code
            if status not in (403, 404):
                leaks.append(f"{name} on {side}: {status}")
    assert leaks == []


@pytest.mark.parametrize("role", ALL_ROLES)
def test_role_reaches_its_own_objects(client, world, role):
    login_as(client, role, world["inside"])
    refused = []
    for name, (method, kwargs_of, owners) in TARGETS.items():
        if role not in owners:
            continue
        url = reverse(name, kwargs=kwargs_of(world["inside"]))
        status = request(client, method, url).status_code
        if status >= 400:
            refused.append(f"{name}: {status}")
    assert refused == []


def test_stranger_and_anonymous_reach_nothing(client, world):
    for name, (method, kwargs_of, _owners) in TARGETS.items():
        url = reverse(name, kwargs=kwargs_of(world["inside"]))
        response = request(client, method, url)
        assert response.status_code == 302 and "/login/" in response.url, name
    client.force_login(UserFactory())
    for name, (method, kwargs_of, _owners) in TARGETS.items():
        url = reverse(name, kwargs=kwargs_of(world["inside"]))
        assert request(client, method, url).status_code in (403, 404), name


def test_api_tokens_reach_only_their_suppliers_rounds_and_orders(client, world):
    for name, (method, kwargs_of) in API_TARGETS.items():
        for side in ("sibling", "elsewhere"):
            url = reverse(name, kwargs=kwargs_of(world[side]))
            response = getattr(client, method)(
                url,
                data={
                    "lines": [{"offer_code": "A", "quantity": 1}],
                    "address_text": "3号楼2单元502",
                },
                content_type="application/json",
                headers={
                    "Authorization": f"Bearer {world['inside'].api_token}",
                    "Idempotency-Key": f"matrix-{name}-{side}",
                },
            )
            assert response.status_code in (403, 404), f"{name} on {side}: {response.status_code}"
        url = reverse(name, kwargs=kwargs_of(world["inside"]))
        assert getattr(client, method)(url).status_code == 401, f"{name} without a token"
