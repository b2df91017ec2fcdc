from __future__ import annotations

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from openpyxl import Workbook, load_workbook

from baogong.accounts.models import Role
from baogong.supply.models import SupplierArea
from tests.factories import UserFactory

HTMX = {"HTTP_HX_REQUEST": "true"}
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def xlsx_upload(rows: list[list[str]]) -> SimpleUploadedFile:
    workbook = Workbook()
    for row in rows:
        workbook.active.append(row)
    out = io.BytesIO()
    workbook.save(out)
    return SimpleUploadedFile("对应表.xlsx", out.getvalue(), content_type=XLSX)


# --- assignment page -------------------------------------------------------------------


def test_assignment_page_lists_own_and_inherited_assignments(
    client, served, supplier, other_supplier, user_with_role
):
    SupplierArea.objects.create(supplier=other_supplier, area=served.district)
    client.force_login(user_with_role(Role.STREET_STAFF, served.street_a))
    response = client.get(reverse("supply:assignments"))
    assert response.status_code == 200
    assert [a.supplier for a in response.context["page"].object_list] == [supplier]
    assert [a.area for a in response.context["above"]] == [served.district]
    area_choices = [label for _value, label in response.context["form"].fields["area"].choices]
    assert any("街道a › 社区a › 小区a" in label for label in area_choices)
    assert not any("小区b" in label for label in area_choices)


def test_assign_a_supplier_to_a_compound(client, tree, other_supplier, street_staff):
    client.force_login(street_staff)
    response = client.post(
        reverse("supply:assignments"), {"supplier": other_supplier.pk, "area": tree.compound_a.pk}
    )
    assert response.status_code == 302
    assignment = SupplierArea.objects.get()
    assert (assignment.supplier, assignment.area, assignment.assigned_by) == (
        other_supplier,
        tree.compound_a,
        street_staff,
    )


def test_assign_over_htmx_returns_the_updated_list(client, tree, other_supplier, street_staff):
    client.force_login(street_staff)
    response = client.post(
        reverse("supply:assignments"),
        {"supplier": other_supplier.pk, "area": tree.compound_a.pk},
        **HTMX,
    )
    page = response.content.decode()
    assert response.status_code == 200 and "<html" not in page
    assert "好邻居便利店" in page and 'role="status"' in page
    assert SupplierArea.objects.count() == 1


def test_assign_outside_the_street_is_refused_on_the_form(
    client, tree, other_supplier, street_staff
):
    client.force_login(street_staff)
    response = client.post(
        reverse("supply:assignments"), {"supplier": other_supplier.pk, "area": tree.compound_b.pk}
    )
    assert response.status_code == 200 and response.context["form"].errors["area"]
    assert not SupplierArea.objects.exists()


def test_inactive_supplier_cannot_be_picked(client, tree, supplier, street_staff):
    supplier.is_active = False
    supplier.save()
    client.force_login(street_staff)
    response = client.post(
        reverse("supply:assignments"), {"supplier": supplier.pk, "area": tree.compound_a.pk}
    )
    assert response.context["form"].errors["supplier"]
    assert not SupplierArea.objects.exists()


def test_remove_an_assignment(client, served, supplier, street_staff):
    assignment = SupplierArea.objects.get(supplier=supplier)
    client.force_login(street_staff)
    response = client.post(reverse("supply:assignment_remove", args=[assignment.pk]))
    assert response.status_code == 302
    assert not SupplierArea.objects.filter(pk=assignment.pk).exists()


def test_remove_over_htmx_returns_the_updated_list(client, served, supplier, street_staff):
    assignment = SupplierArea.objects.get(supplier=supplier)
    client.force_login(street_staff)
    response = client.post(reverse("supply:assignment_remove", args=[assignment.pk]), **HTMX)
    assert response.templates[0].name == "supply/_assignments.html"
    assert not SupplierArea.objects.filter(pk=assignment.pk).exists()


def test_remove_is_not_found_outside_the_street(client, served, other_supplier, street_staff):
    assignment = SupplierArea.objects.get(supplier=other_supplier)
    client.force_login(street_staff)
    assert client.post(reverse("supply:assignment_remove", args=[assignment.pk])).status_code == 404
    assert client.get(reverse("supply:assignment_remove", args=[assignment.pk])).status_code == 405
    assert SupplierArea.objects.filter(pk=assignment.pk).exists()


@pytest.mark.parametrize(
    "url_name", ["supply:assignments", "supply:assignment_import", "supply:assignment_template"]
)
def test_assignment_pages_are_refused_below_the_street_office(
    client, served, user_with_role, supplier, resident, url_name
):
    for user in (
        user_with_role(Role.COMMUNITY_STAFF, served.community_a),
        user_with_role(Role.LIAISON, served.compound_a),
        user_with_role(Role.SUPPLIER, supplier),
        resident,
        UserFactory(),
    ):
        client.force_login(user)
        assert client.get(reverse(url_name)).status_code == 403
    client.logout()
    assert client.get(reverse(url_name)).status_code == 302


def test_community_staff_cannot_remove_an_assignment(client, served, supplier, user_with_role):
    assignment = SupplierArea.objects.get(supplier=supplier)
    client.force_login(user_with_role(Role.COMMUNITY_STAFF, served.community_a))
    assert client.post(reverse("supply:assignment_remove", args=[assignment.pk])).status_code == 404
    assert SupplierArea.objects.filter(pk=assignment.pk).exists()


# --- import ----------------------------------------------------------------------------


def test_import_previews_then_confirms(client, tree, supplier, other_supplier, street_staff):
    client.force_login(street_staff)
    url = reverse("supply:assignment_import")
    file = xlsx_upload(
        [
            ["保供单位", "街道", "社区", "小区"],
            ["武商超市", "街道a", "", ""],
            ["好邻居便利店", "街道a", "社区a", "小区a"],
            ["不存在的店", "街道a", "", ""],
            ["好邻居便利店", "街道b", "", ""],
        ]
    )
    preview = client.post(url, {"file": file})
    page = preview.content.decode()
    report = preview.context["report"]
    assert (report.dry_run, report.added, report.rejected) == (True, 2, 2)
    assert "不存在的店" in page and "outside your area" in page and 'role="alert"' in page
    assert not SupplierArea.objects.exists()

    done = client.post(url, {"rows": preview.context["rows"]})
    assert done.context["report"].added == 2 and not done.context["report"].dry_run
    assert SupplierArea.objects.count() == 2

    again = client.post(url, {"rows": preview.context["rows"]})
    assert (again.context["report"].added, again.context["report"].existing) == (0, 2)
    assert SupplierArea.objects.count() == 2


def test_a_tampered_preview_writes_nothing(client, tree, supplier, street_staff):
    client.force_login(street_staff)
    url = reverse("supply:assignment_import")
    response = client.post(url, {"rows": '[[2, "武商超市", "街道a", "", ""]]'})
    assert response.status_code == 302 and response.url == url
    assert not SupplierArea.objects.exists()


def test_another_users_preview_is_not_accepted(
    client, tree, supplier, street_staff, user_with_role
):
    client.force_login(street_staff)
    url = reverse("supply:assignment_import")
    preview = client.post(url, {"file": xlsx_upload([["保供单位", "街道"], ["武商超市", "街道a"]])})
    client.force_login(user_with_role(Role.STREET_STAFF, tree.street_a))
    assert client.post(url, {"rows": preview.context["rows"]}).status_code == 302
    assert not SupplierArea.objects.exists()


def test_a_file_that_is_not_a_spreadsheet_is_explained(client, tree, street_staff):
    client.force_login(street_staff)
    response = client.post(
        reverse("supply:assignment_import"),
        {"file": SimpleUploadedFile("photo.xlsx", b"\x89PNG\r\n\x1a\n\x00\x00", "image/png")},
    )
    assert response.status_code == 200
    assert response.context["form"].errors["file"]
    assert "report" not in response.context


def test_template_download_is_a_workbook_with_the_headings(client, tree, supplier, street_staff):
    client.force_login(street_staff)
    response = client.get(reverse("supply:assignment_template"))
    assert response.status_code == 200 and response["Content-Type"] == XLSX
    sheet = load_workbook(io.BytesIO(response.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0] == ("保供单位", "街道", "社区", "小区")
    assert rows[1][:2] == ("武商超市", "街道a")
