from __future__ import annotations

import pytest
from django.urls import reverse

from baogong.accounts.models import Role
from baogong.supply.models import Outlet, Supplier, SupplierArea
from tests.factories import UserFactory

HTMX = {"HTTP_HX_REQUEST": "true"}


# --- list ------------------------------------------------------------------------------


def test_staff_see_suppliers_serving_their_areas_with_full_phone(
    client, served, street_staff, package
):
    client.force_login(street_staff)
    response = client.get(reverse("supply:supplier_list"))
    page = response.content.decode()
    assert response.status_code == 200
    assert "武商超市" in page and "好邻居便利店" not in page
    assert 'href="tel:13800138000"' in page
    assert "300" in page and "街道a" in page  # capacity, areas served
    assert "Register a supplier" in page or "登记" in page


def test_a_compound_liaison_sees_the_streets_supplier(client, served, user_with_role):
    client.force_login(user_with_role(Role.LIAISON, served.compound_a))
    page = client.get(reverse("supply:supplier_list")).content.decode()
    assert "武商超市" in page and "好邻居便利店" not in page
    assert reverse("supply:supplier_create") not in page


def test_supplier_list_filters_by_kind_and_search(client, served, user_with_role):
    client.force_login(user_with_role(Role.DISTRICT_ADMIN, served.district))
    url = reverse("supply:supplier_list")
    page = client.get(url, {"kind": Supplier.Kind.SMALL_SHOP}).content.decode()
    assert "好邻居便利店" in page and "武商超市" not in page
    page = client.get(url, {"q": "武商"}).content.decode()
    assert "武商超市" in page and "好邻居便利店" not in page


def test_supplier_search_by_package_name(client, served, package, user_with_role):
    client.force_login(user_with_role(Role.DISTRICT_ADMIN, served.district))
    page = client.get(reverse("supply:supplier_list"), {"q": "粮油"}).content.decode()
    assert "武商超市" in page and "好邻居便利店" not in page


def test_htmx_search_gets_the_results_only(client, served, street_staff):
    client.force_login(street_staff)
    response = client.get(reverse("supply:supplier_list"), {"q": "武商"}, **HTMX)
    assert response.templates[0].name == "supply/_supplier_results.html"
    assert "<html" not in response.content.decode()


def test_supplier_users_are_sent_to_their_own_page(client, supplier, supplier_user):
    client.force_login(supplier_user)
    response = client.get(reverse("supply:supplier_list"))
    assert response.status_code == 302
    assert response.url == reverse("supply:supplier_detail", args=[supplier.pk])


def test_supplier_list_refuses_residents_and_strangers(client, served, resident):
    for user in (resident, UserFactory()):
        client.force_login(user)
        assert client.get(reverse("supply:supplier_list")).status_code == 403


def test_supplier_pages_need_a_login(client, supplier):
    for url in (
        reverse("supply:supplier_list"),
        reverse("supply:supplier_detail", args=[supplier.pk]),
        reverse("supply:supplier_create"),
        reverse("supply:supplier_edit", args=[supplier.pk]),
    ):
        response = client.get(url)
        assert response.status_code == 302 and reverse("accounts:login") in response.url


# --- detail ----------------------------------------------------------------------------


def test_supplier_page_shows_facts_outlets_catalog_and_areas(
    client, served, supplier, package, street_staff
):
    Outlet.objects.create(supplier=supplier, name="人民路店", address="人民路1号")
    client.force_login(street_staff)
    response = client.get(reverse("supply:supplier_detail", args=[supplier.pk]))
    page = response.content.decode()
    assert response.status_code == 200
    for text in ("王经理", "人民路店", "米面粮油套餐", "¥88.00", "大米 5kg ×1袋", "街道a"):
        assert text in page
    assert reverse("supply:supplier_edit", args=[supplier.pk]) in page
    assert reverse("supply:catalog", args=[supplier.pk]) in page


def test_supplier_page_for_a_liaison_has_no_edit_links(client, served, supplier, user_with_role):
    client.force_login(user_with_role(Role.LIAISON, served.compound_a))
    page = client.get(reverse("supply:supplier_detail", args=[supplier.pk])).content.decode()
    assert reverse("supply:supplier_edit", args=[supplier.pk]) not in page
    assert reverse("supply:catalog", args=[supplier.pk]) not in page


def test_supplier_page_is_not_found_elsewhere_in_the_tree(
    client, served, supplier, street_staff_b, user_with_role
):
    url = reverse("supply:supplier_detail", args=[supplier.pk])
    for user in (
        street_staff_b,
        user_with_role(Role.SUPPLIER, Supplier.objects.get(name="好邻居便利店")),
        UserFactory(),
    ):
        client.force_login(user)
        assert client.get(url).status_code == 404


# --- create and edit -------------------------------------------------------------------


def test_street_staff_register_a_supplier_for_a_compound(client, tree, street_staff):
    client.force_login(street_staff)
    url = reverse("supply:supplier_create")
    form = client.get(url).content.decode()
    assert "小区a" in form and "小区b" not in form
    response = client.post(
        url,
        {
            "name": "中百仓储",
            "kind": Supplier.Kind.SUPERMARKET,
            "contact_phone": "13800138002",
            "vehicles_count": "3",
            "daily_capacity": "200",
            "area": tree.compound_a.pk,
        },
    )
    supplier = Supplier.objects.get(name="中百仓储")
    assert response.status_code == 302
    assert response.url == reverse("supply:supplier_detail", args=[supplier.pk])
    assert supplier.assignments.get().area == tree.compound_a


def test_register_refuses_an_area_outside_the_street(client, tree, street_staff):
    client.force_login(street_staff)
    response = client.post(
        reverse("supply:supplier_create"),
        {
            "name": "中百仓储",
            "kind": Supplier.Kind.SUPERMARKET,
            "vehicles_count": "0",
            "daily_capacity": "0",
            "area": tree.compound_b.pk,
        },
    )
    assert response.status_code == 200 and response.context["form"].errors["area"]
    assert not Supplier.objects.filter(name="中百仓储").exists()


def test_register_a_name_already_taken_explains_what_to_do(client, tree, supplier, street_staff):
    client.force_login(street_staff)
    response = client.post(
        reverse("supply:supplier_create"),
        {
            "name": "武商超市",
            "kind": Supplier.Kind.SUPERMARKET,
            "vehicles_count": "0",
            "daily_capacity": "0",
            "area": tree.compound_a.pk,
        },
    )
    assert "assignments page" in " ".join(response.context["form"].non_field_errors())
    assert Supplier.objects.count() == 1


@pytest.mark.parametrize("role", [Role.COMMUNITY_STAFF, Role.LIAISON])
def test_register_is_refused_below_the_street_office(client, tree, user_with_role, role):
    client.force_login(user_with_role(role, tree.community_a))
    assert client.get(reverse("supply:supplier_create")).status_code == 403


def test_staff_edit_every_fact_of_a_supplier_they_serve(client, served, supplier, street_staff):
    client.force_login(street_staff)
    url = reverse("supply:supplier_edit", args=[supplier.pk])
    response = client.post(
        url,
        {
            "name": "武商量贩",
            "kind": Supplier.Kind.SUPERMARKET,
            "contact_name": "王经理",
            "contact_phone": "138-0013-8000",
            "vehicles_count": "5",
            "daily_capacity": "400",
            "is_active": "on",
        },
    )
    assert response.status_code == 302
    supplier.refresh_from_db()
    assert (supplier.name, supplier.vehicles_count) == ("武商量贩", 5)


def test_supplier_users_edit_contact_and_capacity_only(client, supplier, supplier_user):
    client.force_login(supplier_user)
    url = reverse("supply:supplier_edit", args=[supplier.pk])
    form = client.get(url).context["form"]
    assert set(form.fields) == {"contact_name", "contact_phone", "vehicles_count", "daily_capacity"}
    response = client.post(
        url,
        {
            "name": "改名",
            "contact_name": "李主管",
            "contact_phone": "13700137000",
            "vehicles_count": "1",
            "daily_capacity": "120",
        },
    )
    assert response.status_code == 302
    supplier.refresh_from_db()
    assert (supplier.name, supplier.contact_name, supplier.daily_capacity) == (
        "武商超市",
        "李主管",
        120,
    )


def test_bad_phone_stays_on_the_form(client, supplier, supplier_user):
    client.force_login(supplier_user)
    response = client.post(
        reverse("supply:supplier_edit", args=[supplier.pk]),
        {
            "contact_name": "x",
            "contact_phone": "12345",
            "vehicles_count": "1",
            "daily_capacity": "1",
        },
    )
    assert response.status_code == 200 and response.context["form"].errors["contact_phone"]
    supplier.refresh_from_db()
    assert supplier.contact_name == "王经理"


def test_edit_is_refused_to_liaisons_and_other_streets(
    client, served, supplier, street_staff_b, user_with_role
):
    url = reverse("supply:supplier_edit", args=[supplier.pk])
    client.force_login(user_with_role(Role.LIAISON, served.compound_a))
    assert client.get(url).status_code == 403
    client.force_login(street_staff_b)
    assert client.get(url).status_code == 404


# --- outlets ---------------------------------------------------------------------------


def test_supplier_users_add_and_edit_outlets(client, served, supplier, supplier_user):
    client.force_login(supplier_user)
    response = client.post(
        reverse("supply:outlet_create", args=[supplier.pk]),
        {
            "kind": Outlet.Kind.STORE,
            "name": "人民路店",
            "address": "人民路1号",
            "area": served.community_a.pk,
            "phone": "0710 3456789",
        },
    )
    assert response.status_code == 302
    outlet = Outlet.objects.get()
    assert (outlet.area, outlet.phone) == (served.community_a, "0710-3456789")
    response = client.post(
        reverse("supply:outlet_edit", args=[outlet.pk]),
        {"kind": Outlet.Kind.WAREHOUSE, "name": "人民路前置仓", "address": "", "phone": ""},
    )
    assert response.status_code == 302
    outlet.refresh_from_db()
    assert (outlet.name, outlet.area) == ("人民路前置仓", None)


def test_duplicate_outlet_name_is_shown_on_the_form(client, supplier, supplier_user):
    Outlet.objects.create(supplier=supplier, name="人民路店")
    client.force_login(supplier_user)
    response = client.post(
        reverse("supply:outlet_create", args=[supplier.pk]),
        {"kind": Outlet.Kind.STORE, "name": "人民路店"},
    )
    assert response.status_code == 200 and response.context["form"].non_field_errors()
    assert Outlet.objects.count() == 1


def test_outlets_are_refused_to_liaisons_and_other_suppliers(
    client, served, supplier, other_supplier, user_with_role
):
    url = reverse("supply:outlet_create", args=[supplier.pk])
    client.force_login(user_with_role(Role.LIAISON, served.compound_a))
    assert client.post(url, {"kind": "store", "name": "x"}).status_code == 403
    client.force_login(user_with_role(Role.SUPPLIER, other_supplier))
    assert client.post(url, {"kind": "store", "name": "x"}).status_code == 404
    assert not Outlet.objects.exists()


def test_unassigned_supplier_still_visible_to_district_admin(client, tree, user_with_role):
    supplier = Supplier.objects.create(name="沃尔玛", kind=Supplier.Kind.SUPERMARKET)
    client.force_login(user_with_role(Role.DISTRICT_ADMIN, tree.district))
    assert client.get(reverse("supply:supplier_detail", args=[supplier.pk])).status_code == 200
    assert not SupplierArea.objects.exists()


def test_supplier_list_queries_do_not_grow_with_suppliers(client, tree, street_staff):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(reverse("supply:supplier_list")).status_code == 200
        return len(queries)

    client.force_login(street_staff)
    for n in range(2):
        supplier = Supplier.objects.create(name=f"店{n}", kind=Supplier.Kind.SMALL_SHOP)
        SupplierArea.objects.create(supplier=supplier, area=tree.compound_a)
    few = count()
    for n in range(2, 12):
        supplier = Supplier.objects.create(name=f"店{n}", kind=Supplier.Kind.SMALL_SHOP)
        SupplierArea.objects.create(supplier=supplier, area=tree.community_a)
        SupplierArea.objects.create(supplier=supplier, area=tree.compound_a)
    assert count() == few
