"""One whole round, end to end, as four people in their own browsers (issue 6).

The supplier 赵经理, the liaison 陈志刚, the resident 李秀英 and the building volunteer 王丽
each log in through the login page in a browser context of their own. The round is
opened, ordered (self-service and by proxy), closed, confirmed, paid, an unpaid order
dropped at the payment deadline, the trip dispatched, the bags received at the gate (one
missing), two buildings called in slots, pickups verified by code and one bag taken to a
door. Every step is saved as docs/screenshots/e2e_NN_<step>.png for the walkthrough in
docs/round-walkthrough.md. Only the set-up (areas, people, catalog, vehicle) and the
orders of the neighbours are made with services; the clock is moved only where a
deadline must pass (the payment deadline), by handing the service an explicit time.
"""

from __future__ import annotations

import datetime as dt
import io
import re

import pytest
import segno
from django.core.files.uploadedfile import SimpleUploadedFile

from baogong.fulfilment.models import Trip
from baogong.lastmile.models import Bag, Delivery, DoorTask, Handover, PickupSlot
from baogong.orders import services as orders
from baogong.orders.models import Offer, Order, Round
from baogong.payments import services as payments
from baogong.payments.models import Refund
from tests.browser.conftest import PHONE, ui
from tests.browser.e2e_world import World, build_world

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DESKTOP = {"width": 1280, "height": 900}


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def world() -> World:
    world = build_world()
    out = io.BytesIO()
    segno.make("https://pay.example.invalid/haolinju", error="m").save(out, kind="png", scale=8)
    upload = SimpleUploadedFile("qr.png", out.getvalue(), content_type="image/png")
    payments.supplier_payment_qr_set(supplier=world.supplier, upload=upload, by=world.supplier_user)
    return world


class Shots:
    """Numbered screenshots: e2e_01_<step>.png, e2e_02_<step>.png, …"""

    def __init__(self, screenshot) -> None:
        self.take, self.count, self.pages = screenshot, 0, []

    def __call__(self, page, step: str) -> None:
        self.count += 1
        if page not in self.pages:
            self.pages.append(page)
        self.take(page, f"e2e_{self.count:02d}_{step}")


@pytest.fixture
def failures() -> list[str]:
    """Server errors (5xx) any of the four browsers met."""
    return []


@pytest.fixture
def people(browser, live_server, log_in, failures):
    """people(user, viewport): a logged-in page in a browser context of its own."""
    contexts = []

    def open_as(user, viewport=PHONE):
        phone = viewport == PHONE
        context = browser.new_context(
            viewport=viewport,
            device_scale_factor=2 if phone else 1,
            is_mobile=phone,
            has_touch=phone,
            base_url=live_server.url,
            locale="zh-CN",
        )
        context.set_default_timeout(10_000)
        contexts.append(context)
        page = context.new_page()
        # A server error fails the step that caused it, naming the address.
        page.on(
            "response",
            lambda response: (
                failures.append(f"{response.status} {response.url}")
                if response.status >= 500
                else None
            ),
        )
        log_in(page, user)
        return page

    yield open_as
    for context in contexts:
        context.close()


@pytest.fixture
def visit(check_accessibility, failures):
    """visit(page, action): run a navigation, wait, and check the page with axe-core once
    per kind of page (its path with the numbers taken out, plus what the page shows:
    a result banner or a message), so that the round stays fast while every page is checked."""
    seen: set[str] = set()

    def go(page, action) -> None:
        action()
        page.wait_for_load_state("networkidle")
        assert not failures, f"server error: {failures}"
        path = re.sub(r"\d+", "N", page.url.split("?")[0])
        shows = page.locator(".result-banner, .message").evaluate_all(
            "nodes => nodes.map(n => n.className).sort().join(' ')"
        )
        key = f"{path} {shows}"
        if key not in seen:
            seen.add(key)
            check_accessibility(page)

    return go


def local_input(when: dt.datetime) -> str:
    """A datetime as a datetime-local input takes it."""
    return when.strftime("%Y-%m-%dT%H:%M")


# --- the steps ------------------------------------------------------------------------------


def open_round(w: World, liaison, visit, shot) -> Round:
    """The liaison makes the round with the supplier's catalog and opens it for orders."""
    page = liaison
    visit(page, lambda: page.goto("/rounds/new/"))
    page.get_by_label(ui("Title")).fill("第5期 保供套餐")
    page.get_by_label(re.compile("幸福小区")).check()
    start = w.now.replace(second=0, microsecond=0)
    page.get_by_label(ui("Opens at")).fill(local_input(start - dt.timedelta(minutes=5)))
    page.get_by_label(ui("Cut-off")).fill(local_input(start + dt.timedelta(hours=20)))
    page.get_by_label(ui("Payment deadline")).fill(local_input(start + dt.timedelta(hours=22)))
    page.get_by_label(ui("Agreed delivery time")).fill(local_input(start + dt.timedelta(hours=28)))
    page.get_by_label(ui("Place details")).fill("东门 保供物资交接点")
    shot(page, "round_new")
    visit(page, lambda: page.get_by_role("button", name=ui("Save as draft")).click())
    round_ = Round.objects.get(title="第5期 保供套餐")
    assert round_.state == Round.State.DRAFT
    visit(page, lambda: page.get_by_role("button", name=ui("Open for orders")).click())
    assert Round.objects.get(pk=round_.pk).state == Round.State.OPEN
    shot(page, "round_open")
    return round_


def resident_orders(w: World, round_: Round, resident, visit, shot) -> Order:
    """李秀英 orders two rice-and-oil packages and a vegetable package on her phone."""
    page = resident
    visit(page, lambda: page.goto("/"))
    visit(page, lambda: page.get_by_role("link", name=ui("Order supplies")).first.click())
    visit(
        page,
        lambda: page.get_by_role("link", name=re.compile(re.escape(ui("Choose packages")))).click(),
    )
    more = ui("One more: %(name)s")
    page.get_by_role("button", name=more % {"name": "米面粮油套餐"}).click()
    page.get_by_role("button", name=more % {"name": "米面粮油套餐"}).click()
    page.get_by_role("button", name=more % {"name": "新鲜蔬菜套餐"}).click()
    assert page.locator("[data-total]").inner_text() == "¥215.90"
    shot(page, "resident_order")
    visit(page, lambda: page.get_by_role("button", name=ui("Place order")).click())
    order = Order.objects.get(round=round_, household=w.household("1-101"))
    assert order.channel == Order.Channel.SELF
    assert page.locator(".shop-pickup-code").inner_text() == order.pickup_code
    shot(page, "resident_ordered")
    return order


def liaison_proxy_order(w: World, round_: Round, liaison, visit, shot) -> Order:
    """王建国 (1号楼 201) phones in; the liaison enters his order (代下单)."""
    page = liaison
    visit(page, lambda: page.goto(f"/rounds/{round_.pk}/"))
    visit(page, lambda: page.get_by_role("link", name=ui("Order for a caller")).click())
    page.locator("#proxy-q").fill("1-1-201")
    page.locator("#proxy-results a.proxy-pick").first.wait_for()
    page.locator("#proxy-results a.proxy-pick").first.click()
    rice = page.get_by_label(re.compile("米面粮油套餐"))
    rice.wait_for()
    rice.fill("1")
    page.get_by_label(re.compile("新鲜蔬菜套餐")).fill("1")
    shot(page, "liaison_proxy_order")
    rice.press("Enter")
    page.locator("#proxy-status .proxy-done").wait_for()
    order = Order.objects.get(round=round_, household=w.household("1-201"))
    assert (order.channel, order.entered_by) == (Order.Channel.PROXY, w.liaison)
    shot(page, "liaison_proxy_saved")
    return order


def neighbours_order(w: World, round_: Round) -> dict[str, Order]:
    """The other five households order through the group chain (not what this test is about)."""
    rice = Offer.objects.get(round=round_, package__name="米面粮油套餐")
    placed = {}
    for key in ("1-301", "1-401", "2-101", "2-201", "2-301"):
        placed[key] = orders.order_place(
            round_=round_,
            household=w.household(key),
            lines={rice.pk: 1},
            channel=Order.Channel.CHAIN,
            by=w.liaison,
        )
    return placed


def liaison_closes(round_: Round, liaison, visit, shot) -> None:
    """Everyone who wanted to order has: the liaison cuts off early, saying why."""
    page = liaison
    visit(page, lambda: page.goto(f"/rounds/{round_.pk}/"))
    page.locator(".round-facts summary").click()
    page.locator("#reason-close").fill("全部住户已接龙")
    shot(page, "liaison_close")
    close = ui("Close now (cut off early)")
    visit(
        page, lambda: page.locator("form.action-confirm").get_by_role("button", name=close).click()
    )
    assert Round.objects.get(pk=round_.pk).state == Round.State.CLOSED
    shot(page, "round_closed")


def supplier_confirms(round_: Round, supplier, visit, shot) -> None:
    """赵经理 can supply everything and confirms the round."""
    page = supplier
    visit(page, lambda: page.goto(f"/rounds/{round_.pk}/"))
    consolidation = ui("Consolidation, confirmation and documents")
    visit(page, lambda: page.get_by_role("link", name=consolidation).click())
    shot(page, "supplier_consolidation")
    confirm_link = ui("Confirm the round (say what you are short of)")
    visit(page, lambda: page.get_by_role("link", name=confirm_link).click())
    shot(page, "supplier_confirm")
    visit(page, lambda: page.get_by_role("button", name=ui("Confirm the round")).click())
    assert Round.objects.get(pk=round_.pk).state == Round.State.CONFIRMED
    shot(page, "supplier_confirmed")


def resident_pays(order: Order, resident, visit, shot) -> None:
    """李秀英 pays with the supplier's payment code and reports it."""
    page = resident
    visit(page, lambda: page.goto("/my-orders/"))
    visit(page, lambda: page.get_by_role("link", name=re.compile(ui("Pay now"))).first.click())
    page.get_by_label(ui("Last 4 digits of the payment")).fill("4821")
    shot(page, "resident_pay")
    visit(page, lambda: page.get_by_role("button", name=ui("I have paid")).click())
    assert Order.objects.get(pk=order.pk).payment_state == Order.PaymentState.CLAIMED
    shot(page, "resident_paid")


def supplier_confirms_payment(round_: Round, order: Order, supplier, visit, shot) -> None:
    page = supplier
    visit(page, lambda: page.goto(f"/payments/rounds/{round_.pk}/?show=claimed"))
    shot(page, "supplier_payments_to_confirm")
    page.locator(f"#order-{order.pk}").get_by_role("button", name=ui("Confirm")).click()
    page.locator(f"#order-{order.pk} .pay-claim").wait_for(state="detached")
    assert Order.objects.get(pk=order.pk).payment_state == Order.PaymentState.PAID
    shot(page, "supplier_payment_confirmed")


def others_pay(w: World, placed: dict[str, Order], proxy: Order) -> None:
    """Everyone but 1号楼 301 pays (cash to the liaison, recorded as staff)."""
    for order in [proxy, *(o for k, o in placed.items() if k != "1-301")]:
        payments.payment_record(
            order=order,
            by=w.liaison,
            amount=Order.objects.get(pk=order.pk).amount_due,
            method="cash",
        )


def deadline_drops_unpaid(w: World, round_: Round, liaison, visit, shot) -> Order:
    """The payment deadline passes (the task runs with an explicit time); the page shows it."""
    round_ = Round.objects.get(pk=round_.pk)
    after = round_.payment_deadline + dt.timedelta(minutes=1)
    assert payments.round_payments_close(round_id=round_.pk, now=after) == 1
    dropped = Order.objects.get(round=round_, household=w.household("1-301"))
    assert dropped.state == Order.State.DROPPED
    page = liaison
    visit(page, lambda: page.goto(f"/payments/rounds/{round_.pk}/?show=dropped"))
    assert page.locator(f"#order-{dropped.pk}").is_visible()
    shot(page, "liaison_dropped_unpaid")
    return dropped


def supplier_dispatches(w: World, round_: Round, supplier, visit, shot) -> None:
    """赵经理 plans the trip to the east gate, fills in the driver's declaration, dispatches."""
    page = supplier
    visit(page, lambda: page.get_by_role("link", name=ui("Trips and passes")).click())
    visit(page, lambda: page.get_by_role("link", name=ui("Plan a trip")).click())
    # The labels carry a "*" for required fields: pick the fields by their ids.
    page.locator("#id_vehicle").select_option(str(w.vehicle.pk))
    page.locator("#id_vehicle_pass").select_option(str(w.vehicle_pass.pk))
    page.locator("#id_driver").select_option(str(w.driver.pk))
    arrive = Round.objects.get(pk=round_.pk).delivery_at
    page.locator("#id_departs_at").fill(local_input(arrive - dt.timedelta(hours=2)))
    page.locator("#id_place").select_option(str(w.gate.pk))
    page.locator("#id_window_from").fill(local_input(arrive - dt.timedelta(minutes=30)))
    page.locator("#id_window_to").fill(local_input(arrive + dt.timedelta(minutes=30)))
    page.get_by_label(re.compile("第5期 保供套餐")).check()
    shot(page, "supplier_trip_plan")
    visit(page, lambda: page.get_by_role("button", name=ui("Plan the trip")).click())
    trip = Trip.objects.get(vehicle=w.vehicle)
    shot(page, "supplier_trip_needs_declaration")

    visit(page, lambda: page.get_by_role("link", name=ui("Fill in the declaration")).click())
    page.locator("input[name=health_code][value=green]").check()
    page.locator("#id_travel_record").fill("樊城区")
    page.locator("#id_travel_ok").check()
    tested = w.now - dt.timedelta(hours=6)
    page.locator("#id_last_test_at").fill(local_input(tested))
    page.locator("#id_commitment_signed").check()
    shot(page, "supplier_crew_declaration")
    visit(page, lambda: page.locator("form button[type=submit]").last.click())
    visit(page, lambda: page.get_by_role("button", name=ui("Dispatch the trip")).click())
    assert Trip.objects.get(pk=trip.pk).state == Trip.State.DISPATCHED
    assert Round.objects.get(pk=round_.pk).state == Round.State.DISPATCHED
    shot(page, "supplier_trip_dispatched")


def code_of(w: World, round_: Round, key: str) -> str:
    return Order.objects.get(round=round_, household=w.household(key)).pickup_code


def liaison_receives_at_the_gate(w: World, round_: Round, liaison, visit, shot) -> Delivery:
    """The van arrives; the liaison checks every bag: 2号楼 301's bag is not on it."""
    page = liaison
    visit(page, lambda: page.goto("/lastmile/deliveries/"))
    shot(page, "liaison_deliveries")
    visit(page, lambda: page.get_by_role("link", name=re.compile("幸福小区")).first.click())
    delivery = Delivery.objects.get(round=round_)
    assert delivery.state == Delivery.State.ON_THE_WAY
    visit(page, lambda: page.get_by_role("link", name=ui("Gate receipt")).click())
    visit(page, lambda: page.get_by_role("button", name=ui("Start the gate receipt")).click())
    # One label typed (as a scan fills it in), then each building's list ticked.
    page.locator("#code").fill(code_of(w, round_, "1-101").lower())
    page.locator("#code").press("Enter")
    page.locator("#receipt-result .result-ok").wait_for()
    shot(page, "liaison_gate_scan")
    missing = code_of(w, round_, "2-301")
    page.locator("#code").fill(missing)
    page.locator("input[name=gate_state][value=missing]").check()
    page.locator("#note").fill("车上没有这一袋")
    page.locator("#code").press("Enter")
    page.locator("#receipt-result .result-ok").get_by_text(missing).wait_for()
    visit(page, lambda: page.reload())
    for building in ("1号楼", "2号楼"):
        mark = ui("Mark %(building)s").replace("%(building)s", building)
        visit(page, lambda mark=mark: page.get_by_role("button", name=mark).click())
    shot(page, "liaison_gate_checked")
    visit(page, lambda: page.get_by_role("button", name=ui("Finish the gate receipt")).click())
    delivery.refresh_from_db()
    assert delivery.state == Delivery.State.PICKUP
    bag = Bag.objects.get(delivery=delivery, pickup_code=missing)
    assert bag.gate_state == Bag.GateState.MISSING
    assert Refund.objects.filter(order=bag.order).exists()
    shot(page, "liaison_gate_summary")
    return delivery


def liaison_sees_door_tasks(delivery: Delivery, liaison, visit, shot) -> None:
    """Finishing the receipt gave the sealed household's bag to its building's volunteer."""
    page = liaison
    task = DoorTask.objects.get(bag__delivery=delivery)
    assert task.volunteer is not None
    visit(page, lambda: page.goto(f"/lastmile/deliveries/{delivery.pk}/"))
    visit(page, lambda: page.get_by_role("link", name=ui("Door deliveries")).click())
    assert task.volunteer.name in page.locator(f"#task-{task.pk}").inner_text()
    shot(page, "liaison_door_tasks")


def liaison_plans_slots(w: World, delivery: Delivery, liaison, visit, shot) -> None:
    """Two buildings, two slots; the households are told their time."""
    page = liaison
    visit(page, lambda: page.goto(f"/lastmile/deliveries/{delivery.pk}/"))
    visit(page, lambda: page.get_by_role("link", name=ui("Pickup slots")).click())
    start = (w.now + dt.timedelta(hours=1)).replace(minute=0, second=0, microsecond=0)
    page.locator("#id_start_at").fill(local_input(start))
    page.locator("#id_max_waiting").fill("2")
    page.locator("#id_minutes_per_household").fill("10")
    visit(page, lambda: page.locator(".slots-settings button[type=submit]").click())
    assert PickupSlot.objects.filter(delivery=delivery).count() == 2
    shot(page, "liaison_slots")
    visit(page, lambda: page.locator("form[action$='/slots/notify/'] button").click())
    shot(page, "liaison_slots_told")


def resident_sees_slot(resident, visit, shot) -> None:
    page = resident
    visit(page, lambda: page.goto("/notify/"))
    shot(page, "resident_told_slot")


def call_building(page, visit, shot, step: str) -> None:
    visit(page, lambda: page.locator(".calling-next button").click())
    shot(page, step)


def hand_over(page, visit, code: str, shot, step: str, *, ok: bool = True) -> None:
    page.locator("#code").fill(code)
    page.locator("#code").press("Enter")
    if ok:  # the banner names the bag's code, so an earlier banner cannot pass for it
        page.locator("#handover-result .result-ok").get_by_text(code).wait_for()
    else:
        page.locator("#handover-result .result-bad").wait_for()
    visit(page, lambda: None)
    shot(page, step)


def pickup_in_slots(w: World, round_: Round, delivery: Delivery, liaison, volunteer, visit, shot):
    """1号楼 is called; the liaison and the volunteer verify codes; then 2号楼; then closed."""
    page = liaison
    visit(page, lambda: page.goto(f"/lastmile/deliveries/{delivery.pk}/calling/"))
    call_building(page, visit, shot, "liaison_calling_building_1")
    visit(page, lambda: page.get_by_role("link", name=ui("Verify a pickup code")).click())
    hand_over(page, visit, code_of(w, round_, "1-101"), shot, "liaison_handover_ok")
    hand_over(page, visit, code_of(w, round_, "1-101"), shot, "liaison_handover_reused", ok=False)

    visit(volunteer, lambda: volunteer.goto("/lastmile/deliveries/"))
    visit(
        volunteer, lambda: volunteer.get_by_role("link", name=re.compile("幸福小区")).first.click()
    )
    visit(volunteer, lambda: volunteer.get_by_role("link", name=ui("Hand bags over")).click())
    hand_over(volunteer, visit, code_of(w, round_, "1-201"), shot, "volunteer_handover_ok")

    visit(page, lambda: page.goto(f"/lastmile/deliveries/{delivery.pk}/calling/"))
    shot(page, "liaison_calling_building_1_done")
    call_building(page, visit, shot, "liaison_calling_building_2")
    visit(page, lambda: page.get_by_role("link", name=ui("Verify a pickup code")).click())
    hand_over(page, visit, code_of(w, round_, "2-101"), shot, "liaison_handover_building_2")
    visit(page, lambda: page.goto(f"/lastmile/deliveries/{delivery.pk}/calling/"))
    # 2号楼 201 never came down: closing the pickup puts the bag on the follow-up list.
    visit(page, lambda: page.locator(".calling-next button").click())
    delivery.refresh_from_db()
    assert delivery.state == Delivery.State.DONE
    visit(page, lambda: page.goto(f"/lastmile/deliveries/{delivery.pk}/followup/"))
    late = Bag.objects.get(delivery=delivery, pickup_code=code_of(w, round_, "2-201"))
    assert late.state == Bag.State.UNCOLLECTED
    page.locator("input[name=action][value=phone]").check()
    page.locator(f"#note-{late.pk}").fill("已电话联系，明早送到门口")
    shot(page, "liaison_followup")
    visit(page, lambda: page.get_by_role("button", name=ui("Save")).click())
    late.refresh_from_db()
    assert late.follow_up == Bag.FollowUp.PHONE


def volunteer_delivers_to_the_door(w: World, round_: Round, volunteer, visit, shot) -> None:
    """王丽 takes 张桂兰's bag up to 1号楼 401 and checks her pickup code at the door."""
    page = volunteer
    visit(page, lambda: page.get_by_role("link", name=ui("My door deliveries")).click())
    shot(page, "volunteer_door_tasks")
    code = code_of(w, round_, "1-401")
    page.get_by_label(ui("Household's pickup code")).fill(code)
    visit(page, lambda: page.get_by_role("button", name=re.compile(ui("Delivered"))).click())
    bag = Bag.objects.get(order__pickup_code=code, order__round=round_)
    assert bag.state == Bag.State.DELIVERED
    assert bag.handover.method == Handover.Method.DOOR_CODE
    shot(page, "volunteer_door_delivered")


# --- the test ------------------------------------------------------------------------------


def test_one_round_end_to_end_as_four_people(world, people, visit, screenshot, tmp_path):
    w, shot = world, Shots(screenshot)
    try:
        run_the_round(w, people, visit, shot)
    except Exception as error:
        # What each browser showed when the step failed (kept out of docs/).
        for n, page in enumerate(shot.pages):
            page.screenshot(path=str(tmp_path / f"failed_{n}.png"), full_page=True)
        error.add_note(f"the four browsers' last pages: {tmp_path}/failed_*.png")
        raise


def run_the_round(w: World, people, visit, shot: Shots) -> None:
    supplier = people(w.supplier_user, DESKTOP)
    liaison = people(w.liaison)
    resident = people(w.resident)

    round_ = open_round(w, liaison, visit, shot)
    mine = resident_orders(w, round_, resident, visit, shot)
    proxy = liaison_proxy_order(w, round_, liaison, visit, shot)
    placed = neighbours_order(w, round_)
    liaison_closes(round_, liaison, visit, shot)
    supplier_confirms(round_, supplier, visit, shot)
    resident_pays(mine, resident, visit, shot)
    supplier_confirms_payment(round_, mine, supplier, visit, shot)
    others_pay(w, placed, proxy)
    deadline_drops_unpaid(w, round_, liaison, visit, shot)
    supplier_dispatches(w, round_, supplier, visit, shot)
    delivery = liaison_receives_at_the_gate(w, round_, liaison, visit, shot)
    liaison_sees_door_tasks(delivery, liaison, visit, shot)
    liaison_plans_slots(w, delivery, liaison, visit, shot)
    resident_sees_slot(resident, visit, shot)
    volunteer = people(w.volunteer)
    pickup_in_slots(w, round_, delivery, liaison, volunteer, visit, shot)
    volunteer_delivers_to_the_door(w, round_, volunteer, visit, shot)
    assert Handover.objects.filter(bag__delivery=delivery).count() == 4
