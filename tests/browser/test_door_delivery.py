"""A building volunteer on a phone: door tasks in walking order, one delivered with the
household's code, one left at the door with a photo. Staff look at the register and the
coverage; a checkpoint scans a work pass before and after it is revoked."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from baogong.lastmile import doors, volunteers, workpasses
from baogong.lastmile.models import Bag, DoorTask, Handover, Volunteer
from tests.browser.conftest import ui
from tests.lastmile import conftest as lastmile_conftest

lastmile = lastmile_conftest.lastmile  # the last-mile world, as the lastmile tests use it
pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def photo(tmp_path):
    path = tmp_path / "door.jpg"
    Image.new("RGB", (320, 240), (200, 160, 90)).save(path, format="JPEG")
    return path


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def test_volunteer_delivers_door_tasks_on_a_phone(
    phone_page,
    lastmile,
    log_in,
    visit,
    screenshot,
    photo,
    media,
):
    lastmile.receive_all()
    Bag.objects.filter(delivery=lastmile.delivery, building=lastmile.building_3).update(
        door_delivery=True
    )
    lastmile.volunteer.name = "刘志愿"
    lastmile.volunteer.save()
    Volunteer.objects.create(
        name="刘志愿",
        phone=lastmile.volunteer.phone,
        compound=lastmile.delivery.compound,
        building=lastmile.building_3,
        user=lastmile.volunteer,
    )
    doors.door_tasks_assign(delivery=lastmile.delivery, by=lastmile.liaison)
    page = phone_page
    log_in(page, lastmile.volunteer)
    visit(page, lambda: page.get_by_role("link", name=ui("My door deliveries")).click())
    assert page.url.endswith(reverse("lastmile:my_door_tasks"))
    addresses = page.locator(".door-address").all_inner_texts()
    assert [a.split()[-1] for a in addresses] == [
        "3号楼1单元101",
        "3号楼1单元201",
        "3号楼1单元301",
        "3号楼2单元502",
    ]
    screenshot(page, "door_01_tasks_in_walking_order")

    first = DoorTask.objects.get(bag=lastmile.bag(1))
    card = page.locator(f"#task-{first.pk}")
    card.get_by_label(ui("Household's pickup code")).fill(first.bag.pickup_code.lower())
    visit(page, lambda: card.get_by_role("button", name=ui("Delivered")).click())
    assert page.locator(".message-success").count() == 1
    assert page.locator(".door-address").count() == 3
    screenshot(page, "door_02_delivered_with_code")

    second = DoorTask.objects.get(bag=lastmile.bag(2))
    card = page.locator(f"#task-{second.pk}")
    card.get_by_text(ui("Nobody opens: leave at the door")).click()
    card.get_by_label(ui("Photo of the bag at the door")).set_input_files(str(photo))
    screenshot(page, "door_03_leave_at_door_with_photo")
    visit(page, lambda: card.get_by_role("button", name=ui("Left at the door")).click())
    assert page.locator(".door-address").count() == 2
    screenshot(page, "door_04_left_at_door")

    methods = dict(Handover.objects.values_list("bag_id", "method"))
    assert methods == {
        first.bag_id: Handover.Method.DOOR_CODE,
        second.bag_id: Handover.Method.LEFT_AT_DOOR,
    }
    assert Handover.objects.get(bag=second.bag).photo


def test_staff_see_coverage_and_a_checkpoint_checks_a_work_pass(
    phone_page, lastmile, log_in, visit, screenshot, browser, live_server
):
    compound = lastmile.delivery.compound
    for n, (name, building) in enumerate(
        [
            ("王小明", lastmile.building_3),
            ("李娜", lastmile.building_3),
            ("张伟", lastmile.building_10),
        ]
    ):
        volunteers.volunteer_save(
            compound=compound,
            data=volunteers.VolunteerData(name=name, phone=f"1706000000{n}", building=building),
            by=None,
        )
    holder = Volunteer.objects.get(name="王小明")
    today = timezone.localdate()
    work_pass = workpasses.work_pass_issue(
        volunteer=holder, valid_from=today, valid_to=today + dt.timedelta(days=14), by=None
    )
    page = phone_page
    log_in(page, lastmile.staff)
    visit(page, lambda: page.get_by_role("link", name=ui("Volunteers"), exact=True).click())
    visit(page, lambda: page.get_by_role("link", name=compound.name).first.click())
    screenshot(page, "volunteers_01_register")
    visit(page, lambda: page.get_by_role("link", name=ui("Coverage per building")).click())
    assert page.locator("tr.coverage-below").count() == 1
    screenshot(page, "volunteers_02_coverage")
    visit(page, lambda: page.goto(reverse("lastmile:workpasses", args=[compound.pk])))
    screenshot(page, "volunteers_03_work_passes")

    checkpoint = browser.new_context(
        viewport={"width": 390, "height": 844}, base_url=live_server.url
    )
    scan = checkpoint.new_page()
    visit(scan, lambda: scan.goto(reverse("lastmile:workpass_verify", args=[work_pass.token])))
    assert "王**" in scan.content() and holder.phone not in scan.content()
    screenshot(scan, "volunteers_04_work_pass_check")
    workpasses.work_pass_revoke(work_pass=work_pass, by=None, reason="离岗")
    visit(scan, lambda: scan.reload())
    assert scan.locator(".message-error").count() == 1
    screenshot(scan, "volunteers_05_work_pass_revoked")
    checkpoint.close()
