"""A free distribution on a phone, end to end: the street office plans it (shortfall and
waiting list shown), commits it and prints the labels; the compound's liaison receives
the bags at the gate and verifies a pickup by code; the street office reads coverage.
Every step through the pages, with a screenshot under docs/screenshots/distribution_*.png.
"""

from __future__ import annotations

import subprocess

import pytest
from django.urls import reverse

from baogong.accounts.models import Role
from baogong.areas.models import Area, Containment
from baogong.distributions.models import Allocation, Distribution
from baogong.lastmile.models import Bag, Delivery, Handover
from tests.browser.conftest import PHONE, SCREENSHOTS, ui
from tests.factories import HouseholdFactory, UserFactory, grant, make_area

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Members per household, by building: 3号楼 has big families, 10号楼 is sealed.
FAMILIES = {"3号楼": [1, 3, 5, 2], "10号楼": [2, 4]}


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def street(db):
    district = make_area(Area.Kind.DISTRICT, None, "樊城区")
    street = make_area(Area.Kind.STREET, district, "王寨街道")
    community = make_area(Area.Kind.COMMUNITY, street, "陈庵社区")
    compound = make_area(Area.Kind.COMPOUND, community, "和平花园")
    for name, families in FAMILIES.items():
        containment = Containment.SEALED if name == "10号楼" else Containment.NONE
        building = make_area(Area.Kind.BUILDING, compound, name, containment=containment)
        for i, members in enumerate(families, start=1):
            HouseholdFactory(building=building, unit="1", room=f"{i}01", members_count=members)
    return street, compound


def second_phone(browser, live_server):
    context = browser.new_context(
        viewport=PHONE,
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
        base_url=live_server.url,
        locale="zh-CN",
    )
    context.set_default_timeout(10_000)
    return context


def test_street_plans_prints_receives_hands_over_and_reads_coverage(
    street, browser, live_server, phone_page, log_in, visit, screenshot
):
    street_area, compound = street
    staff = UserFactory(name="街道测试员")
    grant(staff, Role.STREET_STAFF, area=street_area)
    liaison = UserFactory(name="小区联络员")
    grant(liaison, Role.LIAISON, area=compound)

    # 1. The street office creates the distribution: 6 households need 1+2+3+1 + 1+2 = 10
    # packs by size band; only 8 are in stock.
    page = phone_page
    log_in(page, staff)
    visit(page, lambda: page.goto(reverse("distributions:list")))
    visit(page, lambda: page.get_by_role("link", name=ui("New distribution")).click())
    # Labels carry a "*" for required fields: fields are found by their ids.
    page.locator("#id_title").fill("第1批政府保供包")
    page.locator("#id_source").select_option("reserve")
    page.locator("#id_targets").select_option(str(street_area.pk))
    page.locator("#id_package_name").fill("政府保供包")
    page.locator("#id_package_contents").fill("大米 5kg ×1\n食用油 1.8L ×1")
    page.locator("#id_package_quantity").fill("8")
    page.locator("#id_rule").select_option("size_bands")
    screenshot(page, "distribution_01_form")
    visit(page, lambda: page.get_by_role("button", name=ui("Save and see the plan")).click())

    # 2. The plan: the shortfall is stated and who waits is counted, before anything is packed.
    distribution = Distribution.objects.get(title="第1批政府保供包")
    assert page.url.endswith(reverse("distributions:plan", args=[distribution.pk]))
    alert = page.locator(".dist-shortfall")
    assert "10" in alert.inner_text() and "8" in alert.inner_text()
    screenshot(page, "distribution_02_plan")

    # 3. Commit: bags are made, the documents page follows.
    visit(
        page,
        lambda: page.get_by_role("button", name=ui("Commit the plan and make the bags")).click(),
    )
    waiting = Allocation.objects.filter(distribution=distribution, state="waiting")
    assert waiting.count() >= 1
    # The sealed 10号楼 comes first: nobody there waits.
    assert not waiting.filter(building__name="10号楼").exists()
    delivery = Delivery.objects.get(distribution=distribution)
    assert (
        delivery.bags.count()
        == Allocation.objects.filter(distribution=distribution, state="bagged").count()
    )

    # 4. Labels: made within the request for a distribution this small.
    button = page.get_by_role("button", name=ui("Make the documents"))
    if button.count():
        visit(page, lambda: button.click())
    page.get_by_role("link", name=ui("Download (PDF)")).first.wait_for()
    screenshot(page, "distribution_03_documents")
    labels = page.request.get(
        reverse("distributions:document", args=[distribution.pk, "labels_a4"])
    )
    assert labels.ok and labels.body().startswith(b"%PDF")
    pdf = SCREENSHOTS / "distribution_04_labels.pdf"
    pdf.write_bytes(labels.body())
    first_page = ["-png", "-r", "60", "-f", "1", "-l", "1", "-singlefile"]
    target = SCREENSHOTS / "distribution_04_labels"
    subprocess.run(["pdftoppm", *first_page, str(pdf), str(target)], check=True)
    pdf.unlink()

    # 5. The liaison receives the bags at the gate, building by building.
    context = second_phone(browser, live_server)
    gate = context.new_page()
    log_in(gate, liaison)
    visit(gate, lambda: gate.goto(reverse("lastmile:delivery_list")))
    visit(gate, lambda: gate.get_by_role("link", name="和平花园").first.click())
    visit(gate, lambda: gate.get_by_role("link", name=ui("Gate receipt")).click())
    visit(gate, lambda: gate.get_by_role("button", name=ui("Start the gate receipt")).click())
    for building in FAMILIES:
        label = ui("Mark %(building)s") % {"building": building}
        visit(gate, lambda label=label: gate.get_by_role("button", name=label).click())
    screenshot(gate, "distribution_05_receipt")
    visit(gate, lambda: gate.get_by_role("button", name=ui("Finish the gate receipt")).click())
    assert not delivery.bags.exclude(gate_state=Bag.GateState.RECEIVED).exists()
    screenshot(gate, "distribution_06_receipt_done")

    # 6. Pickup verified by code; the same code a second time is refused, saying when.
    bag = delivery.bags.filter(door_delivery=False).order_by("pk").first()
    visit(gate, lambda: gate.get_by_role("link", name=ui("Hand bags over")).first.click())
    gate.get_by_label(ui("The household's pickup code")).fill(bag.pickup_code.lower())
    gate.get_by_role("button", name=ui("Check and hand over")).click()
    gate.locator("#handover-result").wait_for()
    gate.wait_for_load_state("networkidle")
    assert Handover.objects.filter(bag=bag).count() == 1
    screenshot(gate, "distribution_07_handover")
    gate.get_by_label(ui("The household's pickup code")).fill(bag.pickup_code)
    gate.get_by_role("button", name=ui("Check and hand over")).click()
    gate.wait_for_load_state("networkidle")
    assert Handover.objects.filter(bag=bag).count() == 1
    screenshot(gate, "distribution_08_handover_again")
    context.close()

    # 7. Coverage: the street office sees 1 household reached, and who has not received.
    visit(page, lambda: page.goto(reverse("distributions:detail", args=[distribution.pk])))
    visit(page, lambda: page.get_by_role("link", name=ui("Coverage report")).click())
    assert "1 / 6" in page.locator("table").first.inner_text()
    screenshot(page, "distribution_09_report")
    visit(page, lambda: page.get_by_role("link", name="陈庵社区").click())
    visit(page, lambda: page.get_by_role("link", name="和平花园").click())
    assert "3号楼" in page.locator("table").first.inner_text()
    screenshot(page, "distribution_10_report_buildings")
