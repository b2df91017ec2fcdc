from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from baogong.accounts.models import Role
from baogong.areas.models import Area
from baogong.orders import services
from baogong.orders.models import Offer, Order, Round
from tests.factories import HouseholdFactory, ResidentFactory, UserFactory, make_area


@pytest.fixture
def client(client):
    """English pages, whatever translations exist."""
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


@pytest.fixture
def round_ab(tree, supplier, packages):
    """An open round for both compounds (a liaison of one still reaches only their own)."""
    now = timezone.now()
    round_ = services.round_create(
        supplier=supplier,
        title="两个小区的轮次",
        areas=[tree.compound_a, tree.compound_b],
        opens_at=now - dt.timedelta(hours=1),
        cutoff_at=now + dt.timedelta(days=1),
        offers=[services.OfferSpec(packages[0], "A"), services.OfferSpec(packages[1], "B")],
        by=None,
    )
    return services.round_transition(round_=round_, action="open", by=None)


@pytest.fixture
def liaison(tree, user_with_role):
    return user_with_role(Role.LIAISON, tree.compound_a)


def url(round_):
    return reverse("orders:proxy_order", args=[round_.pk])


def offers_of(round_):
    return {o.code: o for o in Offer.objects.filter(round=round_)}


def search(client, round_, text):
    response = client.get(url(round_), {"q": text}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    return response


def found(client, round_, text):
    return [h.pk for h in search(client, round_, text).context["results"]]


def post_quantities(client, round_, household, htmx=True, **quantities):
    offers = offers_of(round_)
    data = {"household": household.pk}
    data.update({f"offer_{offers[code].pk}": n for code, n in quantities.items()})
    extra = {"HTTP_HX_REQUEST": "true"} if htmx else {}
    return client.post(url(round_), data, **extra)


# --- finding the caller's household ---------------------------------------------------------


@pytest.mark.parametrize(
    "text", ["3-2-502", "3号楼502", "3号楼2单元502", "3栋2单元502室", "三号楼502"]
)
def test_search_finds_the_household_by_each_address_form(client, tree, open_round, liaison, text):
    client.force_login(liaison)
    assert found(client, open_round, text) == [tree.household_a.pk]


def test_search_finds_a_household_by_full_phone_or_its_last_4_digits(
    client, tree, open_round, liaison
):
    other = HouseholdFactory(building=tree.building_a, room="601", phone="13912345678")
    client.force_login(liaison)
    assert found(client, open_round, "139 1234 5678") == [other.pk]
    assert found(client, open_round, "5678") == [other.pk]
    resident = ResidentFactory(household=tree.household_a, name="王秀英", phone="13600001234")
    assert found(client, open_round, "1234") == [tree.household_a.pk]
    assert found(client, open_round, resident.phone) == [tree.household_a.pk]


def test_search_finds_a_household_by_a_residents_name_or_a_building(
    client, tree, open_round, liaison
):
    ResidentFactory(household=tree.household_a, name="王秀英")
    building = make_area(Area.Kind.BUILDING, tree.compound_a, "5栋")
    in_five = HouseholdFactory(building=building, room="101")
    client.force_login(liaison)
    assert found(client, open_round, "王秀英") == [tree.household_a.pk]
    assert found(client, open_round, "5号楼") == [in_five.pk]


def test_search_stays_inside_the_round_and_the_users_reach(client, tree, round_ab, liaison):
    client.force_login(liaison)
    # Both compounds have 3号楼2单元502; the liaison of compound a finds only theirs.
    assert found(client, round_ab, "3-2-502") == [tree.household_a.pk]
    assert found(client, round_ab, tree.household_b.phone) == []


def test_search_marks_households_that_already_ordered_and_shows_full_phones(
    client, tree, open_round, liaison
):
    offers = offers_of(open_round)
    services.order_place(
        round_=open_round,
        household=tree.household_a,
        lines={offers["A"].pk: 1},
        channel=Order.Channel.SELF,
        by=None,
    )
    client.force_login(liaison)
    response = search(client, open_round, "502")
    page = response.content.decode()
    assert "already ordered" in page and tree.household_a.phone in page
    assert 'hx-swap-oob="innerHTML"' in page and "<html" not in page


def test_search_without_javascript_renders_the_whole_page_with_links(
    client, tree, open_round, liaison
):
    client.force_login(liaison)
    response = client.get(url(open_round), {"q": "3-2-502"})
    page = response.content.decode()
    assert "<html" in page
    assert f"?household={tree.household_a.pk}" in page


def test_search_page_is_ready_for_the_keyboard(client, tree, open_round, liaison):
    client.force_login(liaison)
    page = client.get(url(open_round)).content.decode()
    assert 'id="proxy-q"' in page and "autofocus" in page
    assert 'hx-trigger="input changed delay:200ms, search"' in page
    assert 'role="status"' in page


# --- entering the order ---------------------------------------------------------------------


def test_choosing_a_household_opens_its_quantities(client, tree, open_round, liaison):
    client.force_login(liaison)
    response = client.get(url(open_round), {"household": tree.household_a.pk})
    assert response.context["household"] == tree.household_a
    page = response.content.decode()
    assert "米面粮油套餐" in page and "at most 2" in page and "Place order" in page


def test_proxy_order_is_placed_and_the_page_is_ready_for_the_next_caller(
    client, tree, open_round, liaison
):
    client.force_login(liaison)
    response = post_quantities(client, open_round, tree.household_a, A=2, B=1)
    order = Order.objects.get()
    assert (order.channel, order.entered_by, order.household) == (
        Order.Channel.PROXY,
        liaison,
        tree.household_a,
    )
    assert sorted(order.lines.values_list("offer__code", "quantity")) == [("A", 2), ("B", 1)]
    page = response.content.decode()
    assert order.pickup_code in page and "¥215.90" in page and "3号楼2单元502" in page
    assert 'id="proxy-status" hx-swap-oob="innerHTML"' in page
    assert 'id="proxy-q"' in page and "autofocus" in page  # back to the search box


def test_proxy_order_without_javascript_redirects_with_a_message(client, tree, open_round, liaison):
    client.force_login(liaison)
    response = post_quantities(client, open_round, tree.household_a, htmx=False, A=1)
    assert response.status_code == 302 and response.url == url(open_round)
    page = client.get(response.url).content.decode()
    assert Order.objects.get().pickup_code in page


def test_existing_order_is_shown_prefilled_and_can_be_changed(client, tree, open_round, liaison):
    offers = offers_of(open_round)
    order = services.order_place(
        round_=open_round,
        household=tree.household_a,
        lines={offers["A"].pk: 2},
        channel=Order.Channel.SELF,
        by=None,
    )
    client.force_login(liaison)
    response = client.get(url(open_round), {"household": tree.household_a.pk})
    assert response.context["order"] == order
    assert response.context["form"][f"offer_{offers['A'].pk}"].value() == 2
    assert "Save changes" in response.content.decode()
    post_quantities(client, open_round, tree.household_a, A=0, B=1)
    order.refresh_from_db()
    assert list(order.lines.values_list("offer__code", "quantity")) == [("B", 1)]
    assert order.channel == Order.Channel.PROXY and order.entered_by == liaison
    assert Order.objects.count() == 1


def test_existing_order_can_be_cancelled(client, tree, open_round, liaison):
    offers = offers_of(open_round)
    services.order_place(
        round_=open_round,
        household=tree.household_a,
        lines={offers["A"].pk: 2},
        channel=Order.Channel.PROXY,
        by=None,
    )
    client.force_login(liaison)
    response = client.post(
        url(open_round), {"household": tree.household_a.pk, "cancel": "1"}, HTTP_HX_REQUEST="true"
    )
    assert "cancelled" in response.content.decode()
    assert Order.objects.get().state == Order.State.CANCELLED
    assert offers_of(open_round)["A"].sold == 0


def test_over_limit_is_refused_inline_and_nothing_written(client, tree, open_round, liaison):
    client.force_login(liaison)
    response = post_quantities(client, open_round, tree.household_a, A=3)
    page = response.content.decode()
    assert response.status_code == 200
    assert 'role="alert"' in page and "At most 2 of 米面粮油套餐 per household." in page
    assert response.context["form"][f"offer_{offers_of(open_round)['A'].pk}"].value() == "3"
    assert not Order.objects.exists()


def test_sold_out_is_refused_inline(client, tree, open_round, liaison):
    Offer.objects.filter(round=open_round, code="A").update(stock_cap=1)
    client.force_login(liaison)
    page = post_quantities(client, open_round, tree.household_a, A=2).content.decode()
    assert "Sold out: 米面粮油套餐 has only 1 left." in page
    assert not Order.objects.exists()


def test_cadence_refusal_gives_the_date_of_the_earlier_order(
    client, tree, supplier, packages, open_round, liaison
):
    offers = offers_of(open_round)
    services.order_place(
        round_=open_round,
        household=tree.household_a,
        lines={offers["A"].pk: 1},
        channel=Order.Channel.SELF,
        by=None,
    )
    now = timezone.now()
    second = services.round_create(
        supplier=supplier,
        title="第2期",
        areas=[tree.compound_a],
        opens_at=now - dt.timedelta(minutes=5),
        cutoff_at=now + dt.timedelta(days=1),
        offers=[services.OfferSpec(packages[1], "B")],
        by=None,
    )
    services.round_transition(round_=second, action="open", by=None)
    client.force_login(liaison)
    page = post_quantities(client, second, tree.household_a, B=1).content.decode()
    assert "already ordered on" in page and str(timezone.localdate().year) in page
    assert Order.objects.filter(round=second).count() == 0


def test_empty_and_bad_quantities_are_refused_inline(client, tree, open_round, liaison):
    client.force_login(liaison)
    assert (
        "Choose at least one package."
        in post_quantities(client, open_round, tree.household_a, A=0).content.decode()
    )
    response = post_quantities(client, open_round, tree.household_a, A="-1")
    assert response.context["form"].errors
    response = post_quantities(client, open_round, tree.household_a, A="abc")
    assert response.status_code == 200 and response.context["form"].errors
    assert not Order.objects.exists()


def test_a_closed_round_takes_no_proxy_orders(client, tree, open_round, liaison):
    services.round_transition(round_=open_round, action="close", by=None)
    client.force_login(liaison)
    page = client.get(url(open_round)).content.decode()
    assert "This round is not taking orders now." in page and 'id="proxy-q"' not in page
    post_quantities(client, open_round, tree.household_a, A=1)
    assert not Order.objects.exists()


def test_a_household_outside_the_round_is_refused(client, tree, supplier, packages, user_with_role):
    round_ = services.round_create(
        supplier=supplier,
        title="只给小区b",
        areas=[tree.compound_b],
        opens_at=timezone.now() - dt.timedelta(hours=1),
        cutoff_at=timezone.now() + dt.timedelta(days=1),
        offers=[services.OfferSpec(packages[0], "A")],
        by=None,
    )
    services.round_transition(round_=round_, action="open", by=None)
    client.force_login(user_with_role(Role.STREET_STAFF, tree.district))
    response = client.get(url(round_), {"household": tree.household_a.pk})
    assert "not in a compound this round serves" in response.content.decode()
    post_quantities(client, round_, tree.household_a, A=1)
    assert not Order.objects.exists()


# --- permissions ----------------------------------------------------------------------------


def test_proxy_page_is_for_staff_who_reach_the_rounds_households(
    client, tree, supplier, round_ab, open_round, user_with_role
):
    for role, area in (
        (Role.LIAISON, tree.compound_a),
        (Role.VOLUNTEER, tree.building_a),
        (Role.COMMUNITY_STAFF, tree.community_a),
    ):
        client.force_login(user_with_role(role, area))
        assert client.get(url(open_round)).status_code == 200
    client.force_login(user_with_role(Role.LIAISON, tree.compound_b))
    assert client.get(url(open_round)).status_code == 404  # cannot even see the round
    assert client.get(url(round_ab)).status_code == 200
    client.force_login(user_with_role(Role.SUPPLIER, supplier))
    assert client.get(url(open_round)).status_code == 403
    client.force_login(user_with_role(Role.BUREAU_STAFF, tree.district))
    assert client.get(url(open_round)).status_code == 403
    for outsider in (user_with_role(Role.RESIDENT, tree.household_a), UserFactory()):
        client.force_login(outsider)
        assert client.get(url(open_round)).status_code == 404
    client.logout()
    assert client.get(url(open_round)).url.startswith(reverse("accounts:login"))


def test_liaison_cannot_order_for_a_household_of_another_compound(client, tree, round_ab, liaison):
    client.force_login(liaison)
    assert client.get(url(round_ab), {"household": tree.household_b.pk}).status_code == 404
    response = post_quantities(client, round_ab, tree.household_b, A=1)
    assert response.status_code == 404
    assert client.get(url(round_ab), {"household": "x"}).status_code == 404
    assert not Order.objects.exists()


def test_supplier_cannot_post_proxy_orders(client, tree, supplier, open_round, user_with_role):
    client.force_login(user_with_role(Role.SUPPLIER, supplier))
    assert post_quantities(client, open_round, tree.household_a, A=1).status_code == 403
    assert not Order.objects.exists()
    assert Round.objects.get().orders_count == 0
