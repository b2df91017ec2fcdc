"""The supplier confirms a round it is short of; the liaison makes and downloads documents."""

from __future__ import annotations

import pytest

from baogong.accounts.models import Role
from baogong.fulfilment.models import Document
from baogong.orders.models import OrderLine, Round
from tests.browser.conftest import ui
from tests.fulfilment.conftest import (  # noqa: F401  (the fixtures)
    close,
    filled_round,
    open_round,
    packages,
    supplier,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def test_supplier_confirms_with_a_shortage(
    filled_round,  # noqa: F811
    supplier,  # noqa: F811
    user_with_role,
    phone_page,
    log_in,
    visit,
    screenshot,
):
    round_ = close(filled_round.round)
    page = phone_page
    log_in(page, user_with_role(Role.SUPPLIER, supplier))
    visit(page, lambda: page.goto(f"/rounds/{round_.pk}/"))
    visit(
        page,
        lambda: page.get_by_role(
            "link", name=ui("Consolidation, confirmation and documents")
        ).click(),
    )
    visit(
        page,
        lambda: page.get_by_role(
            "link", name=ui("Confirm the round (say what you are short of)")
        ).click(),
    )
    offer = filled_round.offers["A"]
    page.locator(f"#id_supply_{offer.pk}_1").check()
    page.locator(f"#id_units_{offer.pk}").fill("5")
    screenshot(page, "fulfilment-supplier-confirm")
    visit(page, lambda: page.get_by_role("button", name=ui("Confirm the round")).click())
    assert Round.objects.get(pk=round_.pk).state == Round.State.CONFIRMED
    assert sum(OrderLine.objects.filter(offer=offer).values_list("cut_quantity", flat=True)) == 2


def test_liaison_makes_and_downloads_the_documents(
    filled_round,  # noqa: F811
    tree,
    user_with_role,
    phone_page,
    log_in,
    visit,
    screenshot,
):
    round_ = close(filled_round.round)
    page = phone_page
    log_in(page, user_with_role(Role.LIAISON, tree.district))
    visit(page, lambda: page.goto(f"/fulfilment/rounds/{round_.pk}/"))
    page.get_by_role("button", name=ui("Make all documents")).click()
    download_links = page.get_by_role("link", name=ui("Download"))
    download_links.nth(5).wait_for()
    assert Document.objects.filter(round=round_, state=Document.State.DONE).count() == 6
    visit(page, lambda: None)
    screenshot(page, "fulfilment-consolidation")
    with page.expect_download() as info:
        download_links.first.click()
    assert info.value.suggested_filename == f"round-{round_.pk}-sheet_xlsx.xlsx"
