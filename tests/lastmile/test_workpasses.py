"""Work passes: numbering, PDF with a QR that opens the public page, revocation at once."""

from __future__ import annotations

import datetime as dt
import subprocess

import pytest
import zxingcpp
from django.urls import reverse
from PIL import Image

from baogong.accounts.models import Role
from baogong.core.errors import Conflict, InvalidInput
from baogong.lastmile import workpasses
from baogong.lastmile.models import Volunteer, WorkPass
from tests.factories import UserFactory, grant

TODAY = dt.date(2026, 4, 10)


@pytest.fixture
def holder(tree) -> Volunteer:
    return Volunteer.objects.create(
        name="王小明", phone="17050000001", compound=tree.compound_a, building=tree.building_a
    )


@pytest.fixture
def street_staff(tree):
    user = UserFactory()
    grant(user, Role.STREET_STAFF, area=tree.street_a)
    return user


def issue(holder, by=None, **fields) -> WorkPass:
    return workpasses.work_pass_issue(
        volunteer=holder, valid_from=TODAY, valid_to=TODAY + dt.timedelta(days=14), by=by, **fields
    )


def test_numbers_follow_the_compounds_sequence_and_authority_defaults_to_the_street(holder):
    first, second = issue(holder), issue(holder)
    compound = holder.compound
    assert first.number == f"GZ{compound.pk:04d}-0001"
    assert second.number == f"GZ{compound.pk:04d}-0002"
    assert first.authority == "街道a疫情防控指挥部"
    assert issue(holder, authority="社区a防控办").authority == "社区a防控办"


def test_issue_refuses_reversed_dates_and_inactive_volunteers(holder):
    with pytest.raises(InvalidInput):
        workpasses.work_pass_issue(
            volunteer=holder, valid_from=TODAY, valid_to=TODAY - dt.timedelta(days=1), by=None
        )
    holder.active = False
    with pytest.raises(InvalidInput):
        issue(holder)
    assert not WorkPass.objects.exists()


def test_status_is_read_live(holder):
    work_pass = issue(holder)
    assert workpasses.pass_status(work_pass, today=TODAY) == "valid"
    assert workpasses.pass_status(work_pass, today=TODAY + dt.timedelta(days=15)) == "expired"
    with pytest.raises(InvalidInput):
        workpasses.work_pass_revoke(work_pass=work_pass, by=None, reason=" ")
    workpasses.work_pass_revoke(work_pass=work_pass, by=None, reason="离岗")
    work_pass.refresh_from_db()
    assert workpasses.pass_status(work_pass, today=TODAY) == "revoked"
    with pytest.raises(Conflict):
        workpasses.work_pass_revoke(work_pass=work_pass, by=None, reason="again")


def test_public_page_shows_validity_masked_name_and_no_phone_and_revocation_at_once(
    client, holder, time_machine
):
    time_machine.move_to(dt.datetime(2026, 4, 11, 10, 0, tzinfo=dt.UTC))
    work_pass = issue(holder)
    url = reverse("lastmile:workpass_verify", args=[work_pass.token])
    page = client.get(url).content.decode()  # anonymous
    assert "王**" in page and "王小明" not in page
    assert holder.phone not in page and "0001" not in page.replace(work_pass.token, "")
    assert "2026-04-24" in page and "message-success" in page
    workpasses.work_pass_revoke(work_pass=work_pass, by=None, reason="离岗")
    page = client.get(url).content.decode()
    assert "message-error" in page and "message-success" not in page
    assert client.get(reverse("lastmile:workpass_verify", args=["nope"])).status_code == 404


def test_pdf_qr_decodes_to_the_public_page(client, holder, street_staff, tmp_path):
    work_pass = issue(holder)
    client.force_login(street_staff)
    response = client.get(reverse("lastmile:workpass_pdf", args=[work_pass.pk]))
    assert response["Content-Type"] == "application/pdf"
    pdf = tmp_path / "pass.pdf"
    pdf.write_bytes(response.content)
    subprocess.run(["pdftoppm", "-png", "-r", "150", str(pdf), str(tmp_path / "pass")], check=True)
    (page,) = sorted(tmp_path.glob("pass*.png"))
    (result,) = zxingcpp.read_barcodes(Image.open(page))
    expected = reverse("lastmile:workpass_verify", args=[work_pass.token])
    assert result.text == f"http://testserver{expected}"
    text = subprocess.run(
        ["pdftotext", str(pdf), "-"], check=True, capture_output=True, text=True
    ).stdout
    assert "王小明" in text and holder.phone not in text


def test_issue_and_revoke_pages(client, holder, street_staff, tree):
    client.force_login(street_staff)
    url = reverse("lastmile:workpass_issue", args=[holder.pk])
    bad = client.post(url, {"valid_from": "2026-04-10", "valid_to": "2026-04-01"})
    assert bad.status_code == 200 and not WorkPass.objects.exists()
    assert (
        client.post(url, {"valid_from": "2026-04-10", "valid_to": "2026-04-30"}).status_code == 302
    )
    work_pass = WorkPass.objects.get()
    listing = client.get(reverse("lastmile:workpasses", args=[tree.compound_a.pk]))
    assert work_pass.number in listing.content.decode()
    revoke = reverse("lastmile:workpass_revoke", args=[work_pass.pk])
    client.post(revoke, {"reason": ""})
    assert WorkPass.objects.get().status == WorkPass.Status.VALID
    client.post(revoke, {"reason": "离岗"})
    assert WorkPass.objects.get().status == WorkPass.Status.REVOKED


def test_other_streets_staff_and_liaisons_cannot_touch_passes(client, holder, tree):
    work_pass = issue(holder)
    other, liaison = UserFactory(), UserFactory()
    grant(other, Role.STREET_STAFF, area=tree.street_b)
    grant(liaison, Role.LIAISON, area=tree.compound_a)
    for user in (other, liaison):
        client.force_login(user)
        assert client.get(reverse("lastmile:workpass_pdf", args=[work_pass.pk])).status_code == 404
        revoke = reverse("lastmile:workpass_revoke", args=[work_pass.pk])
        assert client.post(revoke, {"reason": "x"}).status_code == 404
    assert WorkPass.objects.get().status == WorkPass.Status.VALID
