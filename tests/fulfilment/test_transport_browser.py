"""The supplier declares the crew's health and dispatches a trip; the liaison meets it at
the gate (arrive, disinfect, countdown); a checkpoint scans the pass, then it is revoked."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from baogong.accounts.models import Role
from baogong.fulfilment import passes
from baogong.fulfilment.models import Trip
from baogong.supply.models import SupplierArea
from tests.browser.conftest import (  # noqa: F401  (the fixtures)
    PHONE,
    browser,
    check_accessibility,
    log_in,
    phone_page,
    screenshot,
    ui,
    visit,
)
from tests.fulfilment.transport_world import declare, make_fleet, plan_trip, stop_at

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def trip(tree, supplier):
    now = timezone.now()
    SupplierArea.objects.create(supplier=supplier, area=tree.street_a)
    fleet = make_fleet(supplier, tree.street_a, now=now, plate="鄂F12345")
    trip = plan_trip(fleet, [stop_at(tree.compound_a, now=now)], now=now)
    declare(trip, fleet.loader, now=now)
    return trip


def test_trip_dispatch_and_the_gate(
    trip,
    tree,
    supplier,
    user_with_role,
    browser,  # noqa: F811
    live_server,
    phone_page,  # noqa: F811
    log_in,  # noqa: F811
    visit,  # noqa: F811
    screenshot,  # noqa: F811
):
    page = phone_page
    log_in(page, user_with_role(Role.SUPPLIER, supplier))
    visit(page, lambda: page.goto(f"/fulfilment/transport/trips/{trip.pk}/"))
    visit(page, lambda: page.get_by_role("button", name=ui("Dispatch the trip")).click())
    assert page.locator(".messages").get_by_text("司机甲", exact=False).count() >= 1
    screenshot(page, "transport-01-dispatch-refused")
    visit(page, lambda: page.get_by_role("link", name=ui("Fill in the declaration")).click())
    page.get_by_label(ui("green")).check()
    page.get_by_label(
        ui("I have not been to a medium- or high-risk area in the last 14 days")
    ).check()
    tested = timezone.localtime() - dt.timedelta(hours=12)
    page.get_by_label(ui("Time of the last negative test")).fill(tested.strftime("%Y-%m-%dT%H:%M"))
    page.get_by_label(
        ui("I promise the above is true and I will follow the epidemic rules at every stop")
    ).check()
    screenshot(page, "transport-02-declaration")
    visit(page, lambda: page.get_by_role("button", name=ui("Save the declaration")).click())
    visit(page, lambda: page.get_by_role("button", name=ui("Dispatch the trip")).click())
    screenshot(page, "transport-03-dispatched")
    trip.refresh_from_db()
    assert trip.state == Trip.State.DISPATCHED

    stop = trip.stops.get()
    gate_page = browser.new_context(
        viewport=PHONE, base_url=live_server.url, locale="zh-CN"
    ).new_page()
    log_in(gate_page, user_with_role(Role.LIAISON, tree.compound_a))
    visit(gate_page, lambda: gate_page.goto(f"/fulfilment/transport/stops/{stop.pk}/"))
    visit(
        gate_page,
        lambda: gate_page.get_by_role("button", name=ui("The vehicle has arrived")).click(),
    )
    gate_page.get_by_label(ui("Done by")).fill("门岗志愿者")
    visit(
        gate_page, lambda: gate_page.get_by_role("button", name=ui("Save the disinfection")).click()
    )
    gate_page.wait_for_function(
        "document.querySelector('[data-countdown]').textContent.includes(':')"
    )
    screenshot(gate_page, "transport-04-stop-countdown")
    visit(gate_page, lambda: gate_page.get_by_role("button", name=ui("Unload")).click())
    screenshot(gate_page, "transport-05-unload-refused")
    gate_page.context.close()

    checkpoint = browser.new_context(
        viewport=PHONE, base_url=live_server.url, locale="zh-CN"
    ).new_page()
    url = f"/fulfilment/pass/{trip.vehicle_pass.token}/"
    visit(checkpoint, lambda: checkpoint.goto(url))
    screenshot(checkpoint, "transport-06-pass-valid")
    passes.pass_revoke(vehicle_pass=trip.vehicle_pass, reason="违规", by=None)
    visit(checkpoint, lambda: checkpoint.goto(url))
    assert checkpoint.get_by_text(ui("Revoked pass: not valid")).is_visible()
    screenshot(checkpoint, "transport-07-pass-revoked")
    checkpoint.context.close()
