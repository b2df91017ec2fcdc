from __future__ import annotations

import pytest

from baogong.accounts.models import Role
from baogong.supply import queries
from baogong.supply.models import Supplier, SupplierArea
from tests.factories import UserFactory


@pytest.fixture
def at_every_level(tree):
    """One supplier assigned at each node above compound a, one at compound b."""
    made = {}
    for node in ("district", "street_a", "community_a", "compound_a", "compound_b", "street_b"):
        supplier = Supplier.objects.create(name=f"供应商-{node}", kind=Supplier.Kind.SMALL_SHOP)
        SupplierArea.objects.create(supplier=supplier, area=getattr(tree, node))
        made[node] = supplier
    made["nowhere"] = Supplier.objects.create(name="供应商-nowhere", kind=Supplier.Kind.PLATFORM)
    return made


def names(suppliers) -> set[str]:
    return {s.name.removeprefix("供应商-") for s in suppliers}


def test_compound_sees_suppliers_of_itself_and_every_node_above(tree, at_every_level):
    assert names(queries.suppliers_for_area(tree.compound_a)) == {
        "district",
        "street_a",
        "community_a",
        "compound_a",
    }


def test_compound_does_not_see_a_siblings_suppliers(tree, at_every_level):
    found = names(queries.suppliers_for_area(tree.compound_b))
    assert "compound_a" not in found and "community_a" not in found and "street_a" not in found
    assert found == {"district", "street_b", "compound_b"}


def test_a_building_sees_its_compounds_suppliers(tree, at_every_level):
    assert "compound_a" in names(queries.suppliers_for_area(tree.building_a))


def test_suppliers_for_area_is_one_query(tree, at_every_level, django_assert_num_queries):
    with django_assert_num_queries(1):
        assert len(list(queries.suppliers_for_area(tree.compound_a))) == 4


def test_inactive_suppliers_are_left_out_unless_asked(tree, at_every_level):
    at_every_level["street_a"].is_active = False
    at_every_level["street_a"].save()
    assert "street_a" not in names(queries.suppliers_for_area(tree.compound_a))
    assert "street_a" in names(queries.suppliers_for_area(tree.compound_a, active_only=False))


def test_a_supplier_assigned_twice_on_the_path_is_listed_once(tree, at_every_level):
    SupplierArea.objects.create(supplier=at_every_level["street_a"], area=tree.compound_a)
    suppliers = list(queries.suppliers_for_area(tree.compound_a))
    assert len(suppliers) == len(set(suppliers)) == 4


def test_staff_see_suppliers_in_and_above_their_subtree(tree, at_every_level, user_with_role):
    staff = user_with_role(Role.STREET_STAFF, tree.street_a)
    assert names(queries.suppliers_visible_to(staff)) == {
        "district",
        "street_a",
        "community_a",
        "compound_a",
    }
    liaison = user_with_role(Role.LIAISON, tree.compound_b)
    assert names(queries.suppliers_visible_to(liaison)) == {"district", "street_b", "compound_b"}


def test_district_admins_and_superusers_see_every_supplier(tree, at_every_level, user_with_role):
    admin = user_with_role(Role.DISTRICT_ADMIN, tree.district)
    superuser = UserFactory(is_superuser=True)
    for user in (admin, superuser):
        assert names(queries.suppliers_visible_to(user)) == set(at_every_level)


def test_supplier_users_see_their_own_supplier(at_every_level, user_with_role):
    user = user_with_role(Role.SUPPLIER, at_every_level["nowhere"])
    assert names(queries.suppliers_visible_to(user)) == {"nowhere"}


def test_residents_and_strangers_see_no_supplier(tree, at_every_level, user_with_role):
    for user in (user_with_role(Role.RESIDENT, tree.household_a), UserFactory()):
        assert not queries.suppliers_visible_to(user).exists()


def test_supplier_for_outside_scope_is_not_found(tree, at_every_level, user_with_role):
    from baogong.core.errors import NotFound

    staff = user_with_role(Role.STREET_STAFF, tree.street_a)
    assert queries.supplier_for(staff, at_every_level["compound_a"].pk)
    with pytest.raises(NotFound):
        queries.supplier_for(staff, at_every_level["compound_b"].pk)
    with pytest.raises(NotFound):
        queries.supplier_for(staff, "abc")


def test_packages_of_lists_the_catalog_with_lines(package, django_assert_num_queries):
    package.pk = None
    package.name, package.is_active = "旧套餐", False
    package.save()
    with django_assert_num_queries(2):
        catalog = list(queries.packages_of(package.supplier))
        assert [len(p.lines.all()) for p in catalog] == [2]
    assert len(queries.packages_of(package.supplier, active_only=False)) == 2


def test_assignments_managed_and_above(tree, at_every_level, user_with_role):
    staff = user_with_role(Role.STREET_STAFF, tree.street_a)
    managed = {a.area.name for a in queries.assignments_managed_by(staff)}
    assert managed == {tree.street_a.name, tree.community_a.name, tree.compound_a.name}
    assert [a.area for a in queries.assignments_above(staff)] == [tree.district]


def test_assignable_areas_are_streets_communities_compounds_in_scope(tree, user_with_role):
    staff = user_with_role(Role.STREET_STAFF, tree.street_a)
    assert list(queries.assignable_areas(staff)) == [
        tree.street_a,
        tree.community_a,
        tree.compound_a,
    ]
    liaison = user_with_role(Role.LIAISON, tree.compound_a)
    assert not queries.assignable_areas(liaison).exists()


def test_area_labels_show_where_an_area_lies(tree):
    labels = queries.area_labels([tree.compound_a, tree.street_b])
    assert labels == {tree.compound_a.pk: "街道a › 社区a › 小区a", tree.street_b.pk: "街道b"}
