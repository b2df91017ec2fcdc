from __future__ import annotations

import io
from decimal import Decimal

import pytest
from PIL import Image

from baogong.accounts.models import Role
from baogong.areas.models import Area
from baogong.core.errors import InvalidInput, NotAllowed
from baogong.supply import services
from baogong.supply.models import Outlet, Package, PackageLine, Supplier, SupplierArea
from baogong.supply.services import LineSpec
from tests.factories import UserFactory
from tests.supply.conftest import image_bytes, upload

RICE = [LineSpec("大米", "5kg", Decimal("1"), "袋"), LineSpec("鸡蛋", "30枚", Decimal("1"), "盒")]


# --- suppliers -------------------------------------------------------------------------


def test_street_staff_register_a_supplier_for_their_area(tree, street_staff):
    supplier = services.supplier_create(
        name=" 家乐福  樊城店 ",
        kind=Supplier.Kind.SUPERMARKET,
        area=tree.compound_a,
        contact_phone="138 0013 8001",
        by=street_staff,
    )
    assert supplier.name == "家乐福 樊城店"
    assert supplier.contact_phone == "13800138001"
    assignment = SupplierArea.objects.get(supplier=supplier)
    assert assignment.area == tree.compound_a and assignment.assigned_by == street_staff
    assert supplier.history.get().history_user == street_staff
    assert assignment.history.get().history_user == street_staff


def test_street_staff_cannot_register_a_supplier_for_another_street(tree, street_staff):
    with pytest.raises(NotAllowed):
        services.supplier_create(
            name="家乐福", kind=Supplier.Kind.SUPERMARKET, area=tree.compound_b, by=street_staff
        )
    assert not Supplier.objects.exists()


@pytest.mark.parametrize("role", [Role.COMMUNITY_STAFF, Role.LIAISON, Role.BUREAU_STAFF])
def test_roles_below_street_office_cannot_register_suppliers(tree, user_with_role, role):
    user = user_with_role(role, tree.community_a)
    with pytest.raises(NotAllowed):
        services.supplier_create(
            name="家乐福", kind=Supplier.Kind.SUPERMARKET, area=tree.compound_a, by=user
        )
    assert not Supplier.objects.exists()


def test_only_district_admins_register_a_supplier_serving_nowhere(
    tree, user_with_role, street_staff
):
    with pytest.raises(NotAllowed):
        services.supplier_create(
            name="沃尔玛", kind=Supplier.Kind.SUPERMARKET, area=None, by=street_staff
        )
    admin = user_with_role(Role.DISTRICT_ADMIN, tree.district)
    supplier = services.supplier_create(
        name="沃尔玛", kind=Supplier.Kind.SUPERMARKET, area=None, by=admin
    )
    assert not supplier.assignments.exists()
    assert services.may_manage_supplier(admin, supplier)
    assert not services.may_manage_supplier(street_staff, supplier)


def test_supplier_names_are_unique_ignoring_case_and_width(tree, street_staff, supplier):
    with pytest.raises(InvalidInput, match="already registered"):
        services.supplier_create(
            name="武商 超市", kind=Supplier.Kind.SUPERMARKET, area=tree.street_a, by=street_staff
        )
    assert Supplier.objects.count() == 1


def test_supplier_create_reports_every_problem_at_once(tree, street_staff):
    with pytest.raises(InvalidInput) as error:
        services.supplier_create(
            name="", kind="bakery", contact_phone="12345", area=tree.street_a, by=street_staff
        )
    message = error.value.message
    assert "name" in message and "kind" in message and "12345" in message


def test_staff_who_serve_the_supplier_edit_everything(served, supplier, street_staff):
    services.supplier_update(
        supplier=supplier, name="武商量贩", is_active=False, daily_capacity=500, by=street_staff
    )
    supplier.refresh_from_db()
    assert (supplier.name, supplier.is_active, supplier.daily_capacity) == ("武商量贩", False, 500)
    assert supplier.history.first().history_user == street_staff


def test_staff_of_another_street_cannot_edit_the_supplier(served, supplier, street_staff_b):
    with pytest.raises(NotAllowed):
        services.supplier_update(supplier=supplier, name="改名", by=street_staff_b)
    supplier.refresh_from_db()
    assert supplier.name == "武商超市"


def test_supplier_users_edit_their_contact_and_capacity_only(supplier, supplier_user):
    services.supplier_update(
        supplier=supplier,
        contact_name="李主管",
        contact_phone="13700137000",
        vehicles_count=4,
        by=supplier_user,
    )
    supplier.refresh_from_db()
    assert (supplier.contact_name, supplier.contact_phone, supplier.vehicles_count) == (
        "李主管",
        "13700137000",
        4,
    )
    with pytest.raises(NotAllowed):
        services.supplier_update(supplier=supplier, name="新名字", by=supplier_user)
    supplier.refresh_from_db()
    assert supplier.name == "武商超市"


def test_a_supplier_user_cannot_edit_another_supplier(other_supplier, supplier_user):
    with pytest.raises(NotAllowed):
        services.supplier_update(supplier=other_supplier, contact_name="x", by=supplier_user)


def test_residents_and_strangers_cannot_change_suppliers(tree, served, supplier, resident):
    for user in (resident, UserFactory()):
        with pytest.raises(NotAllowed):
            services.supplier_update(supplier=supplier, contact_name="x", by=user)
        with pytest.raises(NotAllowed):
            services.supplier_assign(supplier, tree.compound_a, by=user)
        with pytest.raises(NotAllowed):
            services.package_create(supplier=supplier, name="x", price="1", lines=RICE, by=user)
    assert not Package.objects.exists()


# --- outlets ---------------------------------------------------------------------------


def test_supplier_users_add_and_edit_their_outlets(tree, supplier, supplier_user):
    outlet = services.outlet_create(
        supplier=supplier,
        name="人民路店",
        address="人民路1号",
        area=tree.community_a,
        phone="0710-3456789",
        by=supplier_user,
    )
    services.outlet_update(outlet=outlet, kind=Outlet.Kind.WAREHOUSE, by=supplier_user)
    outlet.refresh_from_db()
    assert (outlet.kind, outlet.phone, outlet.area) == (
        Outlet.Kind.WAREHOUSE,
        "0710-3456789",
        tree.community_a,
    )


def test_outlet_names_are_unique_per_supplier(supplier, supplier_user):
    services.outlet_create(supplier=supplier, name="人民路店", by=supplier_user)
    with pytest.raises(InvalidInput, match="already has an outlet"):
        services.outlet_create(supplier=supplier, name="人民路店 ", by=supplier_user)
    assert supplier.outlets.count() == 1


def test_outlets_of_another_supplier_are_refused(other_supplier, supplier_user):
    with pytest.raises(NotAllowed):
        services.outlet_create(supplier=other_supplier, name="x", by=supplier_user)
    assert not Outlet.objects.exists()


# --- packages --------------------------------------------------------------------------


def test_package_create_writes_the_package_and_its_lines(supplier, supplier_user):
    package = services.package_create(
        supplier=supplier,
        name="米蛋套餐",
        price="59.9",
        lines=RICE,
        aliases="A餐，米蛋、 A餐",
        category=Package.Category.GRAIN_OIL,
        per_household_limit=2,
        default_stock_cap=80,
        by=supplier_user,
    )
    assert package.price == Decimal("59.90")
    assert package.aliases == "A餐, 米蛋"
    assert [(line.item, line.position) for line in package.lines.all()] == [
        ("大米", 0),
        ("鸡蛋", 1),
    ]
    assert package.history.get().history_user == supplier_user


def test_a_single_item_is_a_package_with_one_line(supplier, supplier_user):
    package = services.package_create(
        supplier=supplier,
        name="鸡蛋",
        price="25",
        lines=[LineSpec("鸡蛋", "30枚", Decimal("1"), "盒")],
        by=supplier_user,
    )
    assert package.lines.count() == 1


def test_package_with_a_bad_line_writes_nothing(supplier, supplier_user):
    lines = [RICE[0], LineSpec("", "", Decimal("0"), "")]
    with pytest.raises(InvalidInput) as error:
        services.package_create(
            supplier=supplier, name="套餐", price="-1", lines=lines, by=supplier_user
        )
    assert "Line 2" in error.value.message and "price" in error.value.message
    assert not Package.objects.exists() and not PackageLine.objects.exists()


def test_package_needs_at_least_one_line(supplier, supplier_user):
    with pytest.raises(InvalidInput, match="at least one line"):
        services.package_create(
            supplier=supplier, name="空套餐", price="1", lines=[], by=supplier_user
        )


def test_supplier_user_edits_own_catalog_only(package, other_supplier, user_with_role):
    outsider = user_with_role(Role.SUPPLIER, other_supplier)
    with pytest.raises(NotAllowed):
        services.package_update(package=package, price="1", by=outsider)
    with pytest.raises(NotAllowed):
        services.package_deactivate(package=package, by=outsider)
    package.refresh_from_db()
    assert package.price == Decimal("88.00") and package.is_active


def test_staff_serving_the_supplier_may_keep_its_catalog(
    served, package, street_staff, street_staff_b
):
    services.package_update(package=package, price="90", by=street_staff)
    with pytest.raises(NotAllowed):
        services.package_update(package=package, price="1", by=street_staff_b)
    package.refresh_from_db()
    assert package.price == Decimal("90.00")


def test_package_update_replaces_lines_in_order(package, supplier_user):
    updated = services.package_update(
        package=package,
        lines=[LineSpec("面粉", "2.5kg", Decimal("2"), "袋"), RICE[0]],
        by=supplier_user,
    )
    assert [str(line) for line in updated.lines.all()] == ["面粉 2.5kg ×2袋", "大米 5kg ×1袋"]
    assert package.history.first().history_user == supplier_user  # lines alone leave a trace


def test_package_update_without_lines_keeps_them(package, supplier_user):
    services.package_update(package=package, name="粮油套餐", by=supplier_user)
    assert package.lines.count() == 2


def test_short_names_may_not_name_two_packages(package, supplier_user):
    with pytest.raises(InvalidInput, match="“a餐” already names the package “米面粮油套餐”"):
        services.package_create(
            supplier=package.supplier,
            name="蔬菜套餐",
            price="30",
            aliases="a餐",
            lines=RICE,
            by=supplier_user,
        )
    with pytest.raises(InvalidInput, match="already has a package"):
        services.package_create(
            supplier=package.supplier, name="米面粮油套餐", price="30", lines=RICE, by=supplier_user
        )
    assert Package.objects.count() == 1


def test_other_suppliers_may_use_the_same_names(package, other_supplier):
    services.package_create(
        supplier=other_supplier, name="米面粮油套餐", price="80", aliases="A餐", lines=RICE, by=None
    )


def test_deactivate_and_reactivate_a_package(package, supplier_user):
    services.package_deactivate(package=package, by=supplier_user)
    package.refresh_from_db()
    assert not package.is_active
    # Its names are free while it is out of the catalog...
    other = services.package_create(
        supplier=package.supplier,
        name="新套餐",
        price="1",
        aliases="A餐",
        lines=RICE,
        by=supplier_user,
    )
    # ...so it comes back only when they are free again.
    with pytest.raises(InvalidInput, match="A餐"):
        services.package_reactivate(package=package, by=supplier_user)
    services.package_update(package=other, aliases="", by=supplier_user)
    services.package_reactivate(package=package, by=supplier_user)
    package.refresh_from_db()
    assert package.is_active


# --- photos ----------------------------------------------------------------------------


def test_photo_validation_rejects_a_file_that_is_not_an_image(supplier, supplier_user, media_root):
    fake = upload(b"%PDF-1.4 not a picture at all", name="menu.jpg")
    with pytest.raises(InvalidInput, match="not a photo"):
        services.package_create(
            supplier=supplier, name="套餐", price="10", lines=RICE, photo=fake, by=supplier_user
        )
    assert not Package.objects.exists()
    assert not media_root.exists() or not any(media_root.rglob("*.*"))


def test_photo_validation_rejects_a_photo_over_2_mb(package, supplier_user):
    big = upload(b"\xff\xd8" + b"0" * (services.PHOTO_MAX_BYTES + 1))
    with pytest.raises(InvalidInput, match="photos up to 2"):
        services.package_photo_set(package=package, photo=big, by=supplier_user)
    package.refresh_from_db()
    assert not package.photo


def test_photo_validation_rejects_other_image_formats(package, supplier_user):
    with pytest.raises(InvalidInput, match="not a photo"):
        services.package_photo_set(
            package=package, photo=upload(image_bytes("BMP")), by=supplier_user
        )


def test_photo_is_stored_re_encoded_without_camera_data(package, supplier_user):
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make; GPS data would sit beside it
    data = image_bytes("JPEG", size=(3000, 2000), exif=exif.tobytes())
    services.package_photo_set(package=package, photo=upload(data), by=supplier_user)
    package.refresh_from_db()
    assert package.photo.name.startswith("packages/") and package.photo.name.endswith(".jpg")
    with package.photo.open("rb") as stored, Image.open(stored) as image:
        assert max(image.size) == services.PHOTO_MAX_SIDE
        assert not dict(image.getexif())


def test_transparent_photos_stay_png(package, supplier_user):
    services.package_photo_set(
        package=package, photo=upload(image_bytes("PNG"), "a.png"), by=supplier_user
    )
    package.refresh_from_db()
    assert package.photo.name.endswith(".png")


def test_replacing_a_photo_deletes_the_old_file(
    package, supplier_user, django_capture_on_commit_callbacks
):
    services.package_photo_set(package=package, photo=upload(image_bytes()), by=supplier_user)
    package.refresh_from_db()
    storage, first = package.photo.storage, package.photo.name
    with django_capture_on_commit_callbacks(execute=True):
        services.package_update(package=package, photo=upload(image_bytes()), by=supplier_user)
    package.refresh_from_db()
    assert package.photo.name != first
    assert storage.exists(package.photo.name) and not storage.exists(first)
    with django_capture_on_commit_callbacks(execute=True):
        services.package_update(package=package, remove_photo=True, by=supplier_user)
    package.refresh_from_db()
    assert not package.photo


def test_photo_problem_explains_for_forms(supplier):
    assert services.photo_problem(upload(image_bytes())) is None
    assert "not a photo" in services.photo_problem(upload(b"hello"))


# --- assignments -----------------------------------------------------------------------


@pytest.mark.parametrize("node", ["street_a", "community_a", "compound_a"])
def test_street_staff_assign_suppliers_inside_their_street(tree, supplier, street_staff, node):
    area = getattr(tree, node)
    assignment = services.supplier_assign(supplier, area, by=street_staff)
    assert assignment.area == area and assignment.assigned_by == street_staff
    assert assignment.history.get().history_user == street_staff


def test_assigning_twice_adds_nothing(tree, supplier, street_staff):
    first = services.supplier_assign(supplier, tree.compound_a, by=street_staff)
    again = services.supplier_assign(supplier, tree.compound_a, by=street_staff)
    assert first.pk == again.pk and SupplierArea.objects.count() == 1


def test_street_staff_cannot_assign_outside_their_street(tree, supplier, street_staff):
    for area in (tree.compound_b, tree.street_b, tree.district):
        with pytest.raises(NotAllowed):
            services.supplier_assign(supplier, area, by=street_staff)
    assert not SupplierArea.objects.exists()


def test_community_staff_and_liaisons_cannot_assign(tree, supplier, user_with_role):
    for role, node in ((Role.COMMUNITY_STAFF, tree.community_a), (Role.LIAISON, tree.compound_a)):
        with pytest.raises(NotAllowed):
            services.supplier_assign(supplier, tree.compound_a, by=user_with_role(role, node))
    assert not SupplierArea.objects.exists()


def test_district_admin_assigns_anywhere_in_the_district(tree, supplier, user_with_role):
    admin = user_with_role(Role.DISTRICT_ADMIN, tree.district)
    services.supplier_assign(supplier, tree.compound_b, by=admin)
    assert SupplierArea.objects.filter(area=tree.compound_b).exists()


def test_assignments_are_to_streets_communities_or_compounds(tree, supplier, user_with_role):
    admin = user_with_role(Role.DISTRICT_ADMIN, tree.district)
    for area in (tree.district, tree.building_a):
        with pytest.raises(InvalidInput):
            services.supplier_assign(supplier, area, by=admin)
    assert not SupplierArea.objects.exists()


def test_inactive_suppliers_are_not_assigned(tree, supplier, street_staff):
    supplier.is_active = False
    supplier.save()
    with pytest.raises(InvalidInput, match="no longer active"):
        services.supplier_assign(supplier, tree.street_a, by=street_staff)


def test_unassign_inside_own_street_only(served, supplier, other_supplier, street_staff):
    with pytest.raises(NotAllowed):
        services.supplier_unassign(other_supplier, served.compound_b, by=street_staff)
    assert services.supplier_unassign(supplier, served.street_a, by=street_staff)
    assert not services.supplier_unassign(supplier, served.street_a, by=street_staff)
    assert list(SupplierArea.objects.values_list("supplier__name", flat=True)) == ["好邻居便利店"]
    deleted = SupplierArea.history.filter(history_type="-").get()
    assert deleted.history_user == street_staff


def test_kinds_offered_for_assignment_match_the_tree():
    assert set(services.ASSIGNABLE_KINDS) == {
        Area.Kind.STREET,
        Area.Kind.COMMUNITY,
        Area.Kind.COMPOUND,
    }


def test_names_compare_without_spaces_width_or_case():
    assert services.name_key("Ａ 套餐") == services.name_key("a套餐")
    assert services.split_aliases("A餐，米面油、 A餐;1号") == ["A餐", "米面油", "1号"]


def test_photo_bytes_helper_makes_real_images():
    with Image.open(io.BytesIO(image_bytes())) as image:
        assert image.format == "JPEG"
