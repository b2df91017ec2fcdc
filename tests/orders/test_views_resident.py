from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from baogong.accounts.models import Role, RoleGrant
from baogong.orders import services
from baogong.orders.models import Offer, Order, OrderLine, Round
from baogong.supply.models import Package, PackageLine
from tests.factories import UserFactory

SHOP = reverse("orders:shop")
MY_ORDERS = reverse("orders:my_orders")


def order_url(round_: Round) -> str:
    return reverse("orders:round_order", args=[round_.pk])


def cancel_url(order: Order) -> str:
    return reverse("orders:order_cancel", args=[order.pk])


def offers_of(round_: Round) -> dict[str, Offer]:
    return {o.code: o for o in Offer.objects.filter(round=round_)}


def quantities(round_: Round, **by_code: int) -> dict[str, int]:
    """POST data for the order form: A=2, B=0 → {"qty_<pk>": 2, …}."""
    return {f"qty_{offer.pk}": by_code.get(code, 0) for code, offer in offers_of(round_).items()}


def make_round(supplier, packages, areas, *, title="第2期", state="open", opens=-1, cutoff=24):
    now = timezone.now()
    round_ = services.round_create(
        supplier=supplier,
        title=title,
        areas=areas,
        opens_at=now + dt.timedelta(hours=opens),
        cutoff_at=now + dt.timedelta(hours=cutoff),
        offers=[services.OfferSpec(packages[0], "A"), services.OfferSpec(packages[1], "B")],
        by=None,
    )
    if state != "draft":
        Round.objects.filter(pk=round_.pk).update(state=state)
        round_.refresh_from_db()
    return round_


def place(round_, household, **by_code):
    offers = offers_of(round_)
    return services.order_place(
        round_=round_,
        household=household,
        lines={offers[code].pk: qty for code, qty in by_code.items()},
        channel=Order.Channel.PROXY,
        by=None,
    )


def nothing_written(round_: Round) -> bool:
    sold = [o.sold for o in Offer.objects.filter(round=round_)]
    return not Order.objects.filter(round=round_).exists() and sold == [0] * len(sold)


@pytest.fixture(autouse=True)
def english_and_fast_passwords(settings):
    """Assert on the English texts whatever translations exist (no Accept-Language is sent);
    hash the test users' passwords cheaply (these tests log in with force_login)."""
    settings.LANGUAGE_CODE = "en"
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def resident(tree, user_with_role):
    return user_with_role(Role.RESIDENT, tree.household_a)


@pytest.fixture
def resident_client(client, resident):
    client.force_login(resident)
    return client


# --- the shop: open rounds of the household's compound ----------------------------------------


def test_shop_lists_the_open_rounds_of_the_households_compound_with_cutoff_and_delivery(
    resident_client, open_round, tree, supplier, packages
):
    Round.objects.filter(pk=open_round.pk).update(
        cutoff_at=dt.datetime(2030, 11, 24, 10, 0, tzinfo=dt.UTC),  # 18:00 in Shanghai
        delivery_at=dt.datetime(2030, 11, 25, 2, 30, tzinfo=dt.UTC),
        delivery_note="东门",
    )
    make_round(supplier, packages, [tree.compound_b], title="别的小区的轮次")
    response = resident_client.get(SHOP)
    assert response.status_code == 200
    page = response.content.decode()
    assert "第1期 保供套餐" in page and "测试超市" in page
    assert "别的小区的轮次" not in page
    assert "Cut-off: November 24, 18:00" in page
    assert "November 25, 10:30" in page and "东门" in page
    assert order_url(open_round) in page


def test_shop_includes_rounds_opened_for_the_whole_community(
    resident_client, tree, supplier, packages
):
    make_round(supplier, packages, [tree.community_a], title="社区团购")
    assert "社区团购" in resident_client.get(SHOP).content.decode()


def test_shop_leaves_out_draft_closed_future_and_past_rounds(
    resident_client, tree, supplier, packages
):
    make_round(supplier, packages, [tree.compound_a], title="草稿", state="draft")
    make_round(supplier, packages, [tree.compound_a], title="已截单", state="closed")
    make_round(supplier, packages, [tree.compound_a], title="明天开团", opens=20, cutoff=40)
    make_round(supplier, packages, [tree.compound_a], title="过了截单", opens=-30, cutoff=-1)
    response = resident_client.get(SHOP)
    assert response.context["sections"][0].rounds == []
    assert "No round is open for your compound now." in response.content.decode()


def test_shop_marks_rounds_the_household_already_ordered_in(resident_client, open_round, tree):
    place(open_round, tree.household_a, A=1)
    response = resident_client.get(SHOP)
    [round_] = response.context["sections"][0].rounds
    assert round_.already_ordered
    assert "You have ordered in this round." in response.content.decode()


def test_a_resident_of_two_households_orders_for_the_one_the_round_serves(
    client, open_round, tree, supplier, packages, user_with_role
):
    user = user_with_role(Role.RESIDENT, tree.household_a)
    RoleGrant.objects.create(user=user, role=Role.RESIDENT, household=tree.household_b)
    round_b = make_round(supplier, packages, [tree.compound_b], title="小区b的轮次")
    client.force_login(user)
    sections = client.get(SHOP).context["sections"]
    assert [[r.title for r in s.rounds] for s in sections] == [["第1期 保供套餐"], ["小区b的轮次"]]
    response = client.post(order_url(round_b), quantities(round_b, A=1))
    assert response.status_code == 302
    assert Order.objects.get(round=round_b).household == tree.household_b
    # Asking for the round as the other household is not found.
    response = client.get(order_url(round_b), {"household": tree.household_a.pk})
    assert response.status_code == 404


# --- permissions --------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["shop", "round_order", "my_orders"])
def test_pages_refuse_staff_suppliers_and_strangers(
    client, name, open_round, tree, supplier, user_with_role
):
    url = order_url(open_round) if name == "round_order" else reverse(f"orders:{name}")
    for user in (
        user_with_role(Role.LIAISON, tree.compound_a),
        user_with_role(Role.COMMUNITY_STAFF, tree.community_a),
        user_with_role(Role.SUPPLIER, supplier),
        UserFactory(),
    ):
        client.force_login(user)
        assert client.get(url).status_code == 403, user


@pytest.mark.parametrize("name", ["shop", "round_order", "my_orders"])
def test_pages_send_anonymous_visitors_to_log_in(client, name, open_round):
    url = order_url(open_round) if name == "round_order" else reverse(f"orders:{name}")
    response = client.get(url)
    assert response.status_code == 302
    assert response.url.startswith(reverse("accounts:login"))


def test_a_round_of_another_compound_is_not_found(resident_client, tree, supplier, packages):
    elsewhere = make_round(supplier, packages, [tree.compound_b])
    assert resident_client.get(order_url(elsewhere)).status_code == 404
    response = resident_client.post(order_url(elsewhere), quantities(elsewhere, A=1))
    assert response.status_code == 404
    assert nothing_written(elsewhere)


def test_a_draft_round_and_a_missing_round_are_not_found(resident_client, tree, supplier, packages):
    draft = make_round(supplier, packages, [tree.compound_a], state="draft")
    assert resident_client.get(order_url(draft)).status_code == 404
    assert resident_client.get(reverse("orders:round_order", args=[999999])).status_code == 404


def test_a_household_parameter_that_is_not_theirs_is_not_found(resident_client, open_round, tree):
    for value in (str(tree.household_b.pk), "nonsense"):
        response = resident_client.get(order_url(open_round), {"household": value})
        assert response.status_code == 404


def test_the_resident_of_another_compound_cannot_see_the_round(
    client, open_round, tree, user_with_role
):
    client.force_login(user_with_role(Role.RESIDENT, tree.household_b))
    assert client.get(order_url(open_round)).status_code == 404
    assert client.get(SHOP).context["sections"][0].rounds == []


def test_cancel_refuses_anonymous_get_and_other_households(
    client, open_round, tree, user_with_role
):
    order = place(open_round, tree.household_a, A=1)
    assert client.post(cancel_url(order), {"confirm": "1"}).status_code == 302  # to log in
    client.force_login(user_with_role(Role.RESIDENT, tree.household_a))
    assert client.get(cancel_url(order)).status_code == 405
    client.force_login(user_with_role(Role.RESIDENT, tree.household_b))
    assert client.post(cancel_url(order), {"confirm": "1"}).status_code == 404
    client.force_login(user_with_role(Role.LIAISON, tree.compound_a))
    assert client.post(cancel_url(order), {"confirm": "1"}).status_code == 403
    order.refresh_from_db()
    assert order.state == Order.State.PLACED


# --- the order page -----------------------------------------------------------------------------


def test_order_page_shows_packages_with_price_contents_stock_and_limit(resident_client, open_round):
    response = resident_client.get(order_url(open_round))
    assert response.status_code == 200
    page = response.content.decode()
    assert "米面粮油套餐" in page and "¥88.00" in page and "¥39.90" in page
    assert "大米 5kg ×1袋" in page and "白菜 ×2颗" in page
    assert "50 left" in page and "at most 2 per household" in page
    assert 'aria-live="polite"' in page
    a = offers_of(open_round)["A"]
    assert re.search(rf'name="qty_{a.pk}"[^>]*max="2"', page)


def test_a_sold_out_package_is_shown_as_such_and_has_no_quantity_field(resident_client, open_round):
    Offer.objects.filter(round=open_round, code="B").update(stock_cap=0)
    b = offers_of(open_round)["B"]
    page = resident_client.get(order_url(open_round)).content.decode()
    assert "Sold out" in page
    assert f'name="qty_{b.pk}"' not in page
    a = offers_of(open_round)["A"]
    response = resident_client.post(order_url(open_round), {f"qty_{a.pk}": 1, f"qty_{b.pk}": 1})
    assert response.status_code == 302  # a sold-out package posted anyway is left out
    assert list(Order.objects.get().lines.values_list("offer__code", flat=True)) == ["A"]


def test_placing_an_order_records_it_as_self_service_and_confirms_with_the_pickup_code(
    resident_client, resident, open_round, tree
):
    response = resident_client.post(order_url(open_round), quantities(open_round, A=2, B=1))
    assert response.status_code == 302 and "placed=1" in response.url
    order = Order.objects.get(round=open_round)
    assert order.household == tree.household_a
    assert order.channel == Order.Channel.SELF and order.entered_by == resident
    assert order.amount_due == Decimal("215.90")
    page = resident_client.get(response.url).content.decode()
    assert "Your order is placed" in page
    assert f'<p class="shop-pickup-code">{order.pickup_code}</p>' in page
    assert "¥215.90" in page and "Cut-off" in page


def test_an_existing_order_prefills_the_form_and_submitting_edits_it(
    resident_client, open_round, tree
):
    first = place(open_round, tree.household_a, A=2)
    response = resident_client.get(order_url(open_round))
    form = response.context["form"]
    a, b = offers_of(open_round)["A"], offers_of(open_round)["B"]
    assert form[f"qty_{a.pk}"].value() == 2 and form[f"qty_{b.pk}"].value() == 0
    assert first.pickup_code in response.content.decode()
    assert "Save changes" in response.content.decode()

    response = resident_client.post(order_url(open_round), quantities(open_round, B=1))
    assert response.status_code == 302
    order = Order.objects.get(round=open_round)
    assert order.pk == first.pk and order.pickup_code == first.pickup_code
    assert list(order.lines.values_list("offer__code", "quantity")) == [("B", 1)]
    assert (offers_of(open_round)["A"].sold, offers_of(open_round)["B"].sold) == (0, 1)


def test_over_the_limit_is_refused_in_an_alert_keeping_the_quantities(resident_client, open_round):
    response = resident_client.post(order_url(open_round), quantities(open_round, A=3, B=1))
    assert response.status_code == 200
    page = response.content.decode()
    assert re.search(r'role="alert">\s*<p><strong>Your order was not saved', page)
    assert "At most 2 of 米面粮油套餐 per household." in page
    a = offers_of(open_round)["A"]
    assert response.context["form"][f"qty_{a.pk}"].value() == "3"
    assert re.search(rf'name="qty_{a.pk}" value="3"', page)
    assert nothing_written(open_round)


def test_sold_out_is_refused_saying_what_is_left(resident_client, open_round):
    Offer.objects.filter(round=open_round, code="A").update(stock_cap=1)
    response = resident_client.post(order_url(open_round), quantities(open_round, A=2))
    assert "Sold out: 米面粮油套餐 has only 1 left." in response.content.decode()
    assert nothing_written(open_round)


def test_the_cadence_rule_is_refused_with_the_next_allowed_date(
    resident_client, open_round, tree, supplier, packages
):
    earlier = make_round(supplier, packages, [tree.compound_a], title="上一期")
    place(earlier, tree.household_a, B=1)
    response = resident_client.post(order_url(open_round), quantities(open_round, A=1))
    page = response.content.decode()
    assert "the next order is possible from" in page and "one order every 3 days" in page
    assert nothing_written(open_round)


def test_an_empty_order_is_refused(resident_client, open_round):
    response = resident_client.post(order_url(open_round), quantities(open_round))
    assert "Choose at least one package." in response.content.decode()
    assert nothing_written(open_round)


def test_unreadable_quantities_are_form_errors_not_server_errors(resident_client, open_round):
    data = quantities(open_round)
    first = next(iter(data))
    for bad in ("abc", "-1", "100000"):
        response = resident_client.post(order_url(open_round), {**data, first: bad})
        assert response.status_code == 200
        assert response.context["form"].errors
    assert nothing_written(open_round)


def close_soon(round_: Round) -> dt.datetime:
    """Move the cut-off 5 minutes ahead (the session outlives it); return a moment after it."""
    Round.objects.filter(pk=round_.pk).update(cutoff_at=timezone.now() + dt.timedelta(minutes=5))
    return timezone.now() + dt.timedelta(minutes=6)


def test_after_the_cutoff_orders_are_refused_and_the_form_is_gone(resident_client, open_round):
    with time_machine.travel(close_soon(open_round)):
        response = resident_client.post(order_url(open_round), quantities(open_round, A=1))
        assert "This round is not taking orders now." in response.content.decode()
        page = resident_client.get(order_url(open_round)).content.decode()
    assert "This round is no longer taking orders." in page
    assert 'class="shop-order-form"' not in page
    assert nothing_written(open_round)


def test_the_order_page_query_count_does_not_grow_with_packages(
    resident_client, open_round, supplier, django_assert_max_num_queries
):
    for n in range(12):
        package = Package.objects.create(supplier=supplier, name=f"套餐{n}", price=Decimal("10"))
        for item in ("大米", "面粉", "鸡蛋"):
            PackageLine.objects.create(package=package, item=item)
        Offer.objects.create(
            round=open_round,
            package=package,
            code=str(n),
            name=package.name,
            price=10,
            stock_cap=10,
            position=n + 2,
        )
    with django_assert_max_num_queries(12):
        response = resident_client.get(order_url(open_round))
    assert response.content.decode().count('class="shop-offer-card') == 14


# --- cancelling and "my orders" -------------------------------------------------------------


def test_cancel_asks_first_then_cancels_and_gives_the_stock_back(resident_client, open_round, tree):
    order = place(open_round, tree.household_a, A=2)
    response = resident_client.post(cancel_url(order))
    assert response.status_code == 200
    assert "Yes, cancel my order" in response.content.decode()
    order.refresh_from_db()
    assert order.state == Order.State.PLACED

    response = resident_client.post(cancel_url(order), {"confirm": "1"}, follow=True)
    assert response.redirect_chain[-1][0] == MY_ORDERS
    assert "is cancelled" in response.content.decode()
    order.refresh_from_db()
    assert order.state == Order.State.CANCELLED
    assert offers_of(open_round)["A"].sold == 0


def test_cancel_after_the_cutoff_is_refused_on_my_orders(resident_client, open_round, tree):
    order = place(open_round, tree.household_a, A=1)
    with time_machine.travel(close_soon(open_round)):
        response = resident_client.post(cancel_url(order), {"confirm": "1"})
    assert response.status_code == 200
    assert re.search(
        r'role="alert"><p>This round is not taking orders now.', response.content.decode()
    )
    order.refresh_from_db()
    assert order.state == Order.State.PLACED
    assert offers_of(open_round)["A"].sold == 1


def test_my_orders_lists_the_households_orders_newest_first(
    resident_client, open_round, tree, supplier, packages
):
    older = make_round(supplier, packages, [tree.compound_a], title="上一期")
    with time_machine.travel(timezone.now() - dt.timedelta(days=5)):
        Round.objects.filter(pk=older.pk).update(
            opens_at=timezone.now() - dt.timedelta(hours=1),
            cutoff_at=timezone.now() + dt.timedelta(hours=1),
        )
        older.refresh_from_db()
        first = place(older, tree.household_a, B=1)
    Round.objects.filter(pk=older.pk).update(state=Round.State.DELIVERED)
    latest = place(open_round, tree.household_a, A=2, B=1)
    place(make_round(supplier, packages, [tree.compound_b]), tree.household_b, A=1)

    response = resident_client.get(MY_ORDERS)
    assert response.status_code == 200
    assert list(response.context["page"].object_list) == [latest, first]
    page = response.content.decode()
    assert latest.pickup_code in page and first.pickup_code in page
    assert "¥215.90" in page and "¥39.90" in page and "米面粮油套餐" in page
    # Only the open round's order can still be changed or cancelled.
    assert cancel_url(latest) in page and cancel_url(first) not in page


def test_my_orders_shows_cancelled_orders_without_their_pickup_code(
    resident_client, resident, open_round, tree
):
    order = place(open_round, tree.household_a, A=1)
    services.order_cancel(order=order, by=resident)
    page = resident_client.get(MY_ORDERS).content.decode()
    assert "Cancelled" in page and order.pickup_code not in page
    assert OrderLine.objects.filter(order=order).exists()
