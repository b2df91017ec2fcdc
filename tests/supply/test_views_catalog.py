from __future__ import annotations

from decimal import Decimal

from django.urls import reverse

from baogong.accounts.models import Role
from baogong.supply.models import Package, PackageLine
from tests.factories import UserFactory
from tests.supply.conftest import image_bytes, upload

HTMX = {"HTTP_HX_REQUEST": "true"}


def package_data(*lines, initial=0, **fields):
    data = {
        "name": "蔬菜套餐",
        "category": Package.Category.VEGETABLES,
        "price": "39.90",
        "default_stock_cap": "100",
        "per_household_limit": "1",
        "aliases": "B餐",
        "lines-TOTAL_FORMS": str(len(lines)),
        "lines-INITIAL_FORMS": str(initial),
        "lines-MIN_NUM_FORMS": "1",
        "lines-MAX_NUM_FORMS": "50",
    }
    for index, line in enumerate(lines):
        for key, value in line.items():
            data[f"lines-{index}-{key}"] = value
    data.update(fields)
    return data


CABBAGE = {"item": "白菜", "specification": "", "quantity": "2", "unit": "颗"}
POTATO = {"item": "土豆", "specification": "2kg", "quantity": "1", "unit": "袋"}


# --- catalog page ----------------------------------------------------------------------


def test_supplier_users_see_their_catalog_in_and_out(client, package, supplier_user):
    retired = Package.objects.create(
        supplier=package.supplier, name="旧套餐", price="1", is_active=False
    )
    client.force_login(supplier_user)
    response = client.get(reverse("supply:catalog", args=[package.supplier_id]))
    page = response.content.decode()
    assert response.status_code == 200
    assert "米面粮油套餐" in page and "¥88.00" in page and "菜籽油 1.8L ×1桶" in page
    assert retired.name in page and "Put back in catalog" in page
    assert reverse("supply:package_edit", args=[package.pk]) in page


def test_staff_serving_the_supplier_may_keep_its_catalog(client, served, package, street_staff):
    client.force_login(street_staff)
    assert client.get(reverse("supply:catalog", args=[package.supplier_id])).status_code == 200


def test_catalog_is_refused_to_liaisons_other_suppliers_and_strangers(
    client, served, package, other_supplier, user_with_role, street_staff_b
):
    url = reverse("supply:catalog", args=[package.supplier_id])
    client.force_login(user_with_role(Role.LIAISON, served.compound_a))
    assert client.get(url).status_code == 403
    for user in (user_with_role(Role.SUPPLIER, other_supplier), street_staff_b, UserFactory()):
        client.force_login(user)
        assert client.get(url).status_code == 404
    client.logout()
    assert client.get(url).status_code == 302


# --- package form ----------------------------------------------------------------------


def test_new_package_form_starts_with_one_line(client, supplier, supplier_user):
    client.force_login(supplier_user)
    response = client.get(reverse("supply:package_create", args=[supplier.pk]))
    assert response.status_code == 200
    assert len(response.context["lines"].forms) == 1
    assert 'name="lines-0-item"' in response.content.decode()


def test_create_a_package_with_its_lines(client, supplier, supplier_user):
    client.force_login(supplier_user)
    response = client.post(
        reverse("supply:package_create", args=[supplier.pk]), package_data(CABBAGE, POTATO)
    )
    assert response.status_code == 302
    assert response.url == reverse("supply:catalog", args=[supplier.pk])
    package = Package.objects.get(name="蔬菜套餐")
    assert package.price == Decimal("39.90") and package.aliases == "B餐"
    assert [str(line) for line in package.lines.all()] == ["白菜 ×2颗", "土豆 2kg ×1袋"]


def test_blank_extra_rows_are_ignored(client, supplier, supplier_user):
    client.force_login(supplier_user)
    blank = {"item": "", "specification": "", "quantity": "", "unit": ""}
    client.post(reverse("supply:package_create", args=[supplier.pk]), package_data(CABBAGE, blank))
    assert Package.objects.get(name="蔬菜套餐").lines.count() == 1


def test_add_a_line_keeps_what_was_typed_and_saves_nothing(client, supplier, supplier_user):
    client.force_login(supplier_user)
    url = reverse("supply:package_create", args=[supplier.pk])
    response = client.post(url, package_data(CABBAGE, add_line="1"))
    assert response.status_code == 200
    lines = response.context["lines"]
    assert len(lines.forms) == 2 and lines.forms[0]["item"].value() == "白菜"
    assert "autofocus" in str(lines.forms[1]["item"])
    assert response.context["form"]["name"].value() == "蔬菜套餐"
    assert not Package.objects.exists()


def test_add_a_line_over_htmx_returns_the_rows_only(client, supplier, supplier_user):
    client.force_login(supplier_user)
    url = reverse("supply:package_create", args=[supplier.pk])
    response = client.post(url, package_data(CABBAGE, add_line="1"), **HTMX)
    page = response.content.decode()
    assert response.templates[0].name == "supply/_line_rows.html"
    assert 'name="lines-1-item"' in page and 'value="2"' in page and "<html" not in page
    assert not Package.objects.exists()


def test_form_errors_stay_on_the_page_and_nothing_is_written(client, supplier, supplier_user):
    client.force_login(supplier_user)
    bad_line = {"item": "", "specification": "", "quantity": "0", "unit": ""}
    response = client.post(
        reverse("supply:package_create", args=[supplier.pk]), package_data(bad_line, price="-3")
    )
    assert response.status_code == 200
    assert response.context["form"].errors["price"]
    assert response.context["lines"].forms[0].errors
    assert not Package.objects.exists() and not PackageLine.objects.exists()


def test_removing_every_line_is_refused_with_a_reason(client, package, supplier_user):
    client.force_login(supplier_user)
    data = package_data({**CABBAGE, "DELETE": "on"}, initial=1, name="米面粮油套餐")
    response = client.post(reverse("supply:package_edit", args=[package.pk]), data)
    assert response.status_code == 200
    assert "at least one line" in " ".join(response.context["form"].non_field_errors())
    assert package.lines.count() == 2


def test_edit_a_package_removes_and_adds_lines(client, package, supplier_user):
    client.force_login(supplier_user)
    url = reverse("supply:package_edit", args=[package.pk])
    form = client.get(url)
    assert [f["item"].value() for f in form.context["lines"].forms] == ["大米", "菜籽油"]
    rice = {"item": "大米", "specification": "5kg", "quantity": "1", "unit": "袋"}
    oil = {"item": "菜籽油", "specification": "1.8L", "quantity": "1", "unit": "桶", "DELETE": "on"}
    data = package_data(
        rice, oil, POTATO, initial=2, name="米面粮油套餐", price="95", aliases="A餐"
    )
    assert client.post(url, data).status_code == 302
    package.refresh_from_db()
    assert package.price == Decimal("95.00")
    assert [line.item for line in package.lines.all()] == ["大米", "土豆"]


def test_an_alias_taken_by_another_package_is_explained(client, package, supplier_user):
    client.force_login(supplier_user)
    response = client.post(
        reverse("supply:package_create", args=[package.supplier_id]),
        package_data(CABBAGE, aliases="米面油"),
    )
    assert "米面油" in " ".join(response.context["form"].non_field_errors())
    assert Package.objects.count() == 1


def test_upload_a_photo_and_see_it(client, package, supplier_user, resident):
    client.force_login(supplier_user)
    rice = {"item": "大米", "specification": "5kg", "quantity": "1", "unit": "袋"}
    data = package_data(
        rice, initial=1, name="米面粮油套餐", aliases="A餐", photo=upload(image_bytes())
    )
    assert client.post(reverse("supply:package_edit", args=[package.pk]), data).status_code == 302
    package.refresh_from_db()
    assert package.photo
    photo_url = reverse("supply:package_photo", args=[package.pk])
    assert (
        photo_url
        in client.get(reverse("supply:catalog", args=[package.supplier_id])).content.decode()
    )
    client.force_login(resident)  # residents see package photos in the shop
    response = client.get(photo_url)
    assert response.status_code == 200 and response["Content-Type"] == "image/jpeg"
    assert b"".join(response.streaming_content)[:2] == b"\xff\xd8"


def test_a_file_that_is_not_an_image_is_refused_on_the_form(
    client, supplier, supplier_user, media_root
):
    client.force_login(supplier_user)
    data = package_data(CABBAGE, photo=upload(b"MZ\x90\x00 not an image", "virus.jpg"))
    response = client.post(reverse("supply:package_create", args=[supplier.pk]), data)
    assert response.status_code == 200 and response.context["form"].errors["photo"]
    assert not Package.objects.exists()
    assert not media_root.exists() or not any(media_root.rglob("*.*"))


def test_photo_of_a_package_without_one_is_not_found(client, package, supplier_user):
    client.force_login(supplier_user)
    assert client.get(reverse("supply:package_photo", args=[package.pk])).status_code == 404
    assert client.get(reverse("supply:package_photo", args=[9999])).status_code == 404
    client.logout()
    assert client.get(reverse("supply:package_photo", args=[package.pk])).status_code == 302


def test_package_edit_is_refused_outside_the_supplier(
    client, served, package, other_supplier, user_with_role, resident
):
    url = reverse("supply:package_edit", args=[package.pk])
    client.force_login(user_with_role(Role.LIAISON, served.compound_a))
    assert client.get(url).status_code == 403
    for user in (user_with_role(Role.SUPPLIER, other_supplier), resident):
        client.force_login(user)
        assert client.post(url, package_data(CABBAGE, name="x")).status_code == 404
    package.refresh_from_db()
    assert package.name == "米面粮油套餐"


# --- in and out of the catalog ---------------------------------------------------------


def test_take_a_package_out_of_the_catalog_and_back(client, package, supplier_user):
    client.force_login(supplier_user)
    url = reverse("supply:package_active", args=[package.pk])
    assert client.post(url, {"active": "0"}).status_code == 302
    package.refresh_from_db()
    assert not package.is_active
    client.post(url, {"active": "1"})
    package.refresh_from_db()
    assert package.is_active


def test_deactivate_needs_post_and_the_right_supplier(
    client, package, other_supplier, user_with_role, supplier_user
):
    url = reverse("supply:package_active", args=[package.pk])
    client.force_login(supplier_user)
    assert client.get(url).status_code == 405
    client.force_login(user_with_role(Role.SUPPLIER, other_supplier))
    assert client.post(url, {"active": "0"}).status_code == 404
    package.refresh_from_db()
    assert package.is_active
