from __future__ import annotations

import pytest
from django.urls import reverse

from baogong.accounts.models import Role
from baogong.fulfilment.models import Document
from baogong.orders.models import OrderLine, Round
from tests.fulfilment.conftest import close


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def test_consolidation_page_shows_totals_and_documents(client, filled_round, user_with_role, tree):
    client.force_login(user_with_role(Role.LIAISON, tree.district))
    response = client.get(reverse("fulfilment:round_consolidation", args=[filled_round.round.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    for text in ("米面粮油套餐", "大米 5kg × 7袋", "小区b", "10号楼", "Make all documents",
                 "Save the rule"):  # fmt: skip
        assert text in html


@pytest.mark.parametrize("role", [Role.VOLUNTEER, Role.RESIDENT, Role.BUREAU_STAFF])
def test_people_who_do_not_run_the_round_cannot_see_it(
    client, filled_round, user_with_role, tree, role
):
    scope = {Role.VOLUNTEER: tree.building_a, Role.RESIDENT: tree.household_a}.get(
        role, tree.district
    )
    client.force_login(user_with_role(role, scope))
    url = reverse("fulfilment:round_consolidation", args=[filled_round.round.pk])
    assert client.get(url).status_code in (403, 404)


def test_liaison_of_one_compound_of_two_is_refused(client, filled_round, user_with_role, tree):
    client.force_login(user_with_role(Role.LIAISON, tree.compound_a))
    url = reverse("fulfilment:round_consolidation", args=[filled_round.round.pk])
    assert client.get(url).status_code == 403


def test_supplier_confirms_with_a_shortage(client, filled_round, user_with_role, supplier):
    round_ = close(filled_round.round)
    client.force_login(user_with_role(Role.SUPPLIER, supplier))
    url = reverse("fulfilment:round_confirm", args=[round_.pk])
    page = client.get(url)
    assert page.status_code == 200 and "Can supply all 7" in page.content.decode()
    a, b = filled_round.offers["A"], filled_round.offers["B"]
    missing = client.post(url, {f"supply_{a.pk}": "some", f"supply_{b.pk}": "all"})
    assert "Say how many units you can supply." in missing.content.decode()
    assert Round.objects.get(pk=round_.pk).state == Round.State.CLOSED
    response = client.post(
        url, {f"supply_{a.pk}": "some", f"units_{a.pk}": "5", f"supply_{b.pk}": "all"}
    )
    assert response.status_code == 302
    assert Round.objects.get(pk=round_.pk).state == Round.State.CONFIRMED
    assert sum(OrderLine.objects.filter(offer=a).values_list("cut_quantity", flat=True)) == 2


def test_liaison_chooses_the_rule(client, filled_round, user_with_role, tree):
    client.force_login(user_with_role(Role.LIAISON, tree.district))
    url = reverse("fulfilment:shortage_rule", args=[filled_round.round.pk])
    assert client.post(url, {"shortage_rule": "pro_rata"}).status_code == 302
    assert Round.objects.get(pk=filled_round.round.pk).shortage_rule == "pro_rata"


def test_documents_are_made_polled_and_downloaded(
    client, filled_round, user_with_role, supplier, media, django_capture_on_commit_callbacks
):
    round_ = filled_round.round
    client.force_login(user_with_role(Role.SUPPLIER, supplier))
    url = reverse("fulfilment:documents_prepare", args=[round_.pk])
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = client.post(url, headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert 'hx-trigger="every 2s"' in response.content.decode()  # polls while being made
    for callback in callbacks:
        callback()
    status = client.get(reverse("fulfilment:documents_status", args=[round_.pk]))
    assert 'hx-trigger="every 2s"' not in status.content.decode()
    assert status.content.decode().count("Download") == 6
    document = Document.objects.get(round=round_, kind=Document.Kind.SHEET_XLSX)
    download = client.get(reverse("fulfilment:document_download", args=[document.pk]))
    assert download.status_code == 200
    assert download["Content-Disposition"].endswith(f'round-{round_.pk}-sheet_xlsx.xlsx"')
