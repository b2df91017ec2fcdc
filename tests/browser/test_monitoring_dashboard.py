"""Bureau staff on a phone: the market monitoring dashboard with its charts and tables;
a supplier filing the day's figures."""

from __future__ import annotations

import pytest

from baogong.accounts.models import Role
from baogong.areas.models import Area
from baogong.monitoring.demo import demo_monitoring
from baogong.supply.models import Outlet, Supplier
from tests.browser.conftest import ui
from tests.factories import UserFactory, grant, make_area

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def market():
    district = make_area(Area.Kind.DISTRICT, None, "樊城区")
    streets = [make_area(Area.Kind.STREET, district, name) for name in ("汉江街道", "王寨街道")]
    supplier = Supplier.objects.create(name="武商量贩", kind=Supplier.Kind.SUPERMARKET)
    other = Supplier.objects.create(name="好邻居", kind=Supplier.Kind.SMALL_SHOP)
    for n, (owner, street) in enumerate(
        [(supplier, streets[0]), (other, streets[0]), (supplier, streets[1]), (other, streets[1])]
    ):
        Outlet.objects.create(supplier=owner, name=f"{n + 1}号店", area=street)
    demo_monitoring(district=district)
    bureau = UserFactory(name="商务局王科长")
    grant(bureau, Role.BUREAU_STAFF, area=district)
    contact = UserFactory(name="门店店长")
    grant(contact, Role.SUPPLIER, supplier=supplier)
    return {"district": district, "bureau": bureau, "contact": contact}


def test_bureau_staff_read_the_dashboard_with_charts_and_tables(
    phone_page, market, log_in, visit, screenshot
):
    page = phone_page
    log_in(page, market["bureau"])
    visit(page, lambda: page.goto(f"/monitoring/areas/{market['district'].pk}/"))
    assert page.get_by_role("heading", name=ui("Market monitoring")).is_visible()
    # Chart.js has drawn the two charts from the vendored file (no CDN).
    page.wait_for_function("() => window.Chart && Chart.getChart('stock-chart') !== undefined")
    assert page.evaluate("() => Chart.getChart('price-chart').data.datasets.length") == 3
    assert (
        page.get_by_role("cell", name="汉江街道")
        .or_(page.get_by_role("rowheader", name="汉江街道"))
        .count()
        >= 1
    )
    # Wide tables scroll inside their own box; the page itself never scrolls sideways.
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 390, page.evaluate(
        """() => [...document.querySelectorAll('body *')]
            .filter(e => e.getBoundingClientRect().right > 391
                    && !(e.parentElement.getBoundingClientRect().right > 391))
            .map(e => e.tagName + '.' + e.className + ' ' + e.getBoundingClientRect().right)"""
    )
    screenshot(page, "monitoring-dashboard")


def test_supplier_files_a_report_on_the_phone(phone_page, market, log_in, visit, screenshot):
    page = phone_page
    log_in(page, market["contact"])
    visit(page, lambda: page.goto("/monitoring/report/"))
    visit(
        page,
        lambda: page.get_by_role(
            "link", name=ui("Report for %(name)s") % {"name": "1号店"}
        ).click(),
    )
    screenshot(page, "monitoring-report-entry")
