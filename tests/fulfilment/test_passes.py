from __future__ import annotations

import datetime as dt
import subprocess
from pathlib import Path

import pytest
import zxingcpp
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from baogong.accounts.models import Role
from baogong.core.errors import InvalidInput, NotAllowed
from baogong.fulfilment import passes
from baogong.fulfilment.models import VehiclePass
from tests.factories import UserFactory, grant
from tests.fulfilment.transport_world import make_fleet


@pytest.fixture
def now():
    return timezone.now()


@pytest.fixture
def fleet(tree, supplier, now):
    return make_fleet(supplier, tree.street_a, now=now, plate="鄂F12345")


@pytest.fixture
def street_staff(tree):
    user = UserFactory()
    grant(user, Role.STREET_STAFF, area=tree.street_a)
    return user


def test_pass_numbers_are_generated_per_day(fleet, tree, now):
    second = passes.pass_issue(
        vehicle=fleet.vehicle,
        valid_from=now - dt.timedelta(days=1),
        valid_to=now,
        areas=[tree.street_a],
        by=None,
    )
    day = f"{timezone.localtime(now - dt.timedelta(days=1)):%Y%m%d}"
    assert fleet.vehicle_pass.number == f"TX{day}-0001"
    assert second.number == f"TX{day}-0002"
    assert fleet.vehicle_pass.authority == "街道a疫情防控指挥部"


def test_street_staff_issue_only_for_their_own_area(fleet, tree, street_staff, now):
    window = {"valid_from": now, "valid_to": now + dt.timedelta(days=2)}
    with pytest.raises(NotAllowed):
        passes.pass_issue(vehicle=fleet.vehicle, areas=[tree.street_b], by=street_staff, **window)
    with pytest.raises(InvalidInput, match="Valid to"):
        passes.pass_issue(
            vehicle=fleet.vehicle,
            areas=[tree.street_a],
            by=street_staff,
            valid_from=now,
            valid_to=now,
        )
    issued = passes.pass_issue(
        vehicle=fleet.vehicle, areas=[tree.compound_a], by=street_staff, **window
    )
    assert issued.issued_by == street_staff
    assert issued.authority == "街道a疫情防控指挥部"


def test_status_is_derived_from_dates_and_revocation(fleet, now):
    vehicle_pass = fleet.vehicle_pass
    assert passes.pass_status(vehicle_pass, now) == passes.VALID
    assert passes.pass_status(vehicle_pass, now + dt.timedelta(days=8)) == passes.EXPIRED
    assert passes.pass_status(vehicle_pass, now - dt.timedelta(days=2)) == passes.NOT_YET
    with pytest.raises(InvalidInput, match="Reason"):
        passes.pass_revoke(vehicle_pass=vehicle_pass, reason=" ", by=None)
    passes.pass_revoke(vehicle_pass=vehicle_pass, reason="违规", by=None)
    vehicle_pass.refresh_from_db()
    assert passes.pass_status(vehicle_pass, now) == passes.REVOKED
    # Revoking twice is not an error.
    passes.pass_revoke(vehicle_pass=vehicle_pass, reason="", by=None)


def test_public_page_shows_validity_plate_and_expiry_only(client, fleet):
    url = reverse("fulfilment:pass_verify", args=[fleet.vehicle_pass.token])
    response = client.get(url)  # anonymous
    assert response.status_code == 200
    body = response.content.decode()
    assert "鄂F12345" in body and "Valid pass" in body
    for secret in ("司机甲", "17000001001", "1700****1001", "420", "测试超市", "街道a"):
        assert secret not in body, secret
    assert response["Cache-Control"] == "no-store"


def test_revocation_shows_on_the_public_page_at_once(client, fleet, tree, street_staff):
    url = reverse("fulfilment:pass_verify", args=[fleet.vehicle_pass.token])
    assert "Valid pass" in client.get(url).content.decode()
    staff_client = type(client)()
    staff_client.force_login(street_staff)
    response = staff_client.post(
        reverse("fulfilment:pass_revoke", args=[fleet.vehicle_pass.pk]), {"reason": "车辆违规"}
    )
    assert response.status_code == 302
    body = client.get(url).content.decode()
    assert "Revoked pass: not valid" in body and "Valid pass" not in body


def test_expired_pass_reads_expired_on_the_public_page(client, fleet, now):
    VehiclePass.objects.filter(pk=fleet.vehicle_pass.pk).update(
        valid_to=now - dt.timedelta(minutes=1)
    )
    body = client.get(reverse("fulfilment:pass_verify", args=[fleet.vehicle_pass.token]))
    assert "Expired pass: not valid" in body.content.decode()


def test_unknown_token_is_404(client, db):
    assert client.get(reverse("fulfilment:pass_verify", args=["nope"])).status_code == 404


def test_pass_pdf_qr_opens_the_public_page(client, fleet, supplier, tmp_path: Path):
    user = UserFactory()
    grant(user, Role.SUPPLIER, supplier=supplier)
    client.force_login(user)
    response = client.get(reverse("fulfilment:pass_pdf", args=[fleet.vehicle_pass.pk]))
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    pdf = tmp_path / "pass.pdf"
    pdf.write_bytes(response.content)
    subprocess.run(["pdftoppm", "-png", "-r", "150", str(pdf), str(tmp_path / "p")], check=True)
    [page] = sorted(tmp_path.glob("p*.png"))
    [code] = zxingcpp.read_barcodes(Image.open(page))
    expected = "http://testserver" + reverse(
        "fulfilment:pass_verify", args=[fleet.vehicle_pass.token]
    )
    assert code.text == expected
    text = subprocess.run(
        ["pdftotext", str(pdf), "-"], check=True, capture_output=True, text=True
    ).stdout
    assert "鄂F12345" in text and "司机甲" not in text and "17000001001" not in text


def test_pass_pages_are_for_the_fleet_and_the_issuing_staff(client, fleet, tree):
    outsider = UserFactory()
    grant(outsider, Role.STREET_STAFF, area=tree.street_b)
    client.force_login(outsider)
    assert (
        client.get(reverse("fulfilment:pass_detail", args=[fleet.vehicle_pass.pk])).status_code
        == 404
    )
    assert client.get(reverse("fulfilment:pass_issue")).status_code == 200
    liaison = UserFactory()
    grant(liaison, Role.LIAISON, area=tree.compound_a)
    client.force_login(liaison)
    assert client.get(reverse("fulfilment:pass_issue")).status_code == 403
