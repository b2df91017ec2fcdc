from __future__ import annotations

from collections import Counter
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from baogong.accounts.models import Role, RoleGrant, User
from baogong.areas.models import Area, Containment, Gate, Household, Resident
from baogong.demo import fancheng
from baogong.supply.models import Supplier
from tests.demo.helpers import (
    assert_fake_mobile,
    assert_paths_consistent,
    district_snapshot,
    table_state,
)
from tests.factories import make_area

pytestmark = pytest.mark.django_db

SEVEN_STREETS = {
    "王寨街道",
    "汉江街道",
    "中原街道",
    "屏襄门街道",
    "米公街道",
    "定中门街道",
    "清河口街道",
}


def load_demo() -> str:
    out = StringIO()
    call_command("load_demo", stdout=out)
    return out.getvalue()


@pytest.fixture
def demo(demo_loaded, fast_passwords) -> Area:
    return Area.objects.get(parent__isnull=True, name="樊城区")


# These two need an empty database: they come before the demo is loaded (conftest).
def test_load_demo_prints_the_logins_and_password(fast_passwords):
    output = load_demo()
    assert fancheng.DEMO_PASSWORD in output
    for user in User.objects.all():
        assert user.phone in output
    for words in ("区级管理员", "district administrator", "楼栋保供员", "supplier contact", "武商"):
        assert words in output


def test_load_demo_refuses_a_hand_made_district_of_the_same_name(fast_passwords):
    make_area(Area.Kind.DISTRICT, None, "樊城区")
    with pytest.raises(CommandError, match="not the demo district"):
        load_demo()
    assert Area.objects.count() == 1
    assert not User.objects.exists()
    assert not Household.objects.exists()


def test_load_demo_builds_fancheng_with_its_seven_street_offices(demo):
    assert demo.kind == Area.Kind.DISTRICT
    streets = demo.children.all()
    assert {s.name for s in streets} == SEVEN_STREETS
    assert all(s.kind == Area.Kind.STREET for s in streets)
    under = Area.objects.filter(path__startswith=demo.path)
    for street in streets:
        assert 2 <= street.children.count() <= 3
    for community in under.filter(kind=Area.Kind.COMMUNITY):
        assert 1 <= community.children.count() <= 3
    for compound in under.filter(kind=Area.Kind.COMPOUND):
        assert 3 <= compound.children.count() <= 8
    assert_paths_consistent(demo)


def test_load_demo_registers_a_few_thousand_households_with_their_members(demo):
    households = Household.objects.filter(building__path__startswith=demo.path)
    assert 2000 <= households.count() <= 4000
    members = Counter(
        Resident.objects.filter(household__in=households).values_list("household_id", flat=True)
    )
    for household in households.select_related("building"):
        assert household.members_count == members[household.pk]
        assert 1 <= household.members_count <= 5
        assert household.floor == int(household.room[:-2])
        assert household.compound_id == household.building.parent_id
    assert households.exclude(unit="").exists() and households.filter(unit="").exists()
    contacts = Resident.objects.filter(household__in=households, is_contact=True)
    assert contacts.count() == households.count()


def test_load_demo_marks_containment_special_groups_and_gates(demo):
    buildings = Area.objects.filter(path__startswith=demo.path, kind=Area.Kind.BUILDING)
    sealed = buildings.filter(containment=Containment.SEALED)
    controlled = buildings.filter(containment=Containment.CONTROLLED)
    assert 0 < sealed.count() < buildings.count() / 4
    assert 0 < controlled.count() < buildings.count() / 4
    assert not sealed.filter(containment_since__isnull=True).exists()
    assert buildings.filter(units_count__gt=0).exists()
    assert {name[-1] for name in buildings.values_list("name", flat=True)} >= {"楼"}

    residents = Resident.objects.filter(household__building__path__startswith=demo.path)
    assert residents.filter(special_group=True).exists()
    assert residents.filter(needs_door_delivery=True).exists()

    for compound in Area.objects.filter(path__startswith=demo.path, kind=Area.Kind.COMPOUND):
        gates = list(compound.gates.all())
        assert 1 <= len([g for g in gates if g.kind == Gate.Kind.GATE]) <= 2
        located = [g for g in gates if g.latitude is not None]
        assert located
        for gate in located:
            assert abs(gate.latitude - Decimal("32.04")) < Decimal("0.1")
            assert abs(gate.longitude - Decimal("112.14")) < Decimal("0.1")


def test_load_demo_adds_the_suppliers_of_the_seed_plan(demo):
    kinds = dict(Supplier.objects.values_list("name", "kind"))
    for name in ("武商", "好邻居", "家乐福", "沃尔玛", "中百仓储"):
        assert kinds[name] == Supplier.Kind.SUPERMARKET
    assert Supplier.Kind.SMALL_SHOP in kinds.values()
    assert Supplier.Kind.PLATFORM in kinds.values()


def test_load_demo_creates_a_working_login_for_every_role(demo, client):
    for role in Role:
        grant = RoleGrant.objects.get(role=role)
        response = client.post(
            reverse("accounts:login"),
            {"username": grant.user.phone, "password": fancheng.DEMO_PASSWORD},
        )
        assert response.status_code == 302, role
        assert client.session["_auth_user_id"] == str(grant.user.pk)
        client.logout()
    superuser = User.objects.get(is_superuser=True)
    assert superuser.check_password(fancheng.DEMO_PASSWORD)
    assert not superuser.grants.exists()


def test_load_demo_scopes_each_login_as_the_plan_says(demo):
    grants = {g.role: g for g in RoleGrant.objects.select_related("area", "supplier", "household")}
    assert grants[Role.DISTRICT_ADMIN].area == demo
    assert grants[Role.BUREAU_STAFF].area == demo
    assert grants[Role.STREET_STAFF].area.name == "王寨街道"
    assert grants[Role.COMMUNITY_STAFF].area.kind == Area.Kind.COMMUNITY
    assert grants[Role.LIAISON].area.kind == Area.Kind.COMPOUND
    volunteer_building = grants[Role.VOLUNTEER].area
    assert volunteer_building.kind == Area.Kind.BUILDING
    # The volunteer's building is sealed, so the demo has door deliveries to show.
    assert volunteer_building.containment == Containment.SEALED
    assert volunteer_building.is_within(grants[Role.LIAISON].area)
    assert grants[Role.SUPPLIER].supplier.name == "武商"
    assert grants[Role.SUPPLIER].user.phone == grants[Role.SUPPLIER].supplier.contact_phone

    resident_grant = grants[Role.RESIDENT]
    household = resident_grant.household
    assert household.phone == resident_grant.user.phone
    contact = household.residents.get(is_contact=True)
    assert (contact.name, contact.phone) == (resident_grant.user.name, resident_grant.user.phone)
    assert household.members_count > 1


def test_load_demo_uses_only_valid_fake_phones(demo):
    households = Household.objects.filter(building__path__startswith=demo.path)
    phones = [
        *households.values_list("phone", flat=True),
        *households.exclude(phone_alt="").values_list("phone_alt", flat=True),
        *Resident.objects.filter(household__in=households)
        .exclude(phone="")
        .values_list("phone", flat=True),
        *User.objects.values_list("phone", flat=True),
        *Supplier.objects.values_list("contact_phone", flat=True),
    ]
    for phone in phones:
        assert_fake_mobile(phone)
    residents_phones = list(Resident.objects.exclude(phone="").values_list("phone", flat=True))
    assert len(residents_phones) == len(set(residents_phones))


def test_load_demo_twice_changes_and_creates_nothing(demo):
    before = table_state()
    snapshot = district_snapshot(demo)
    output = load_demo()
    assert table_state() == before
    assert district_snapshot(demo) == snapshot
    assert "already loaded; nothing to do" in output
    assert fancheng.DEMO_PASSWORD in output


def test_load_demo_recreates_a_deleted_demo_login_only(demo):
    volunteer = User.objects.get(grants__role=Role.VOLUNTEER)
    volunteer.delete()
    users_before = set(User.objects.values_list("phone", flat=True))
    output = load_demo()
    assert "restored what was missing: 1 login(s), 1 role grant(s)" in output
    assert User.objects.get(grants__role=Role.VOLUNTEER).phone == volunteer.phone
    assert set(User.objects.values_list("phone", flat=True)) == users_before | {volunteer.phone}


def test_demo_plan_is_the_same_every_time():
    assert fancheng.demo_plan() == fancheng.demo_plan()


def test_demo_plan_uses_the_model_choices():
    plan = fancheng.demo_plan()
    assert {s.kind for s in plan.suppliers} <= set(Supplier.Kind.values)
    assert {a.role for a in plan.accounts} == {*Role.values, fancheng.SUPERUSER}
    assert {g.kind for c in plan.city.compounds() for g in c.gates} <= set(Gate.Kind.values)
    assert {b.containment for b in plan.city.buildings()} <= set(Containment.values)
