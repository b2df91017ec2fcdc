from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from baogong.accounts.models import Role
from baogong.areas.models import Area
from baogong.notify.models import Message
from baogong.orders import services
from baogong.orders.models import Offer, Order, Round
from baogong.supply.models import Package, Supplier, SupplierArea
from tests.factories import HouseholdFactory, UserFactory, make_area

LIST = reverse("orders:round_list")
CREATE = reverse("orders:round_create")


@pytest.fixture
def client(client):
    """English pages, whatever translations exist."""
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


@pytest.fixture
def assigned(tree, supplier):
    """The supplier serves street a (and so compound a below it)."""
    return SupplierArea.objects.create(supplier=supplier, area=tree.street_a)


@pytest.fixture
def other_supplier(db):
    supplier = Supplier.objects.create(name="别家超市", kind=Supplier.Kind.SMALL_SHOP)
    Package.objects.create(supplier=supplier, name="别家套餐", price=Decimal("50.00"))
    return supplier


def detail_url(round_):
    return reverse("orders:round_detail", args=[round_.pk])


def action_url(round_, action):
    return reverse("orders:round_action", args=[round_.pk, action])


def offers_of(round_):
    return {o.code: o for o in Offer.objects.filter(round=round_)}


def place(round_, household, **quantities):
    offers = offers_of(round_)
    return services.order_place(
        round_=round_,
        household=household,
        lines={offers[code].pk: n for code, n in quantities.items()},
        channel=Order.Channel.PROXY,
        by=None,
    )


def draft_round(supplier, packages, areas, title="草稿轮次"):
    now = timezone.now()
    return services.round_create(
        supplier=supplier,
        title=title,
        areas=areas,
        opens_at=now - dt.timedelta(hours=1),
        cutoff_at=now + dt.timedelta(days=1),
        offers=[services.OfferSpec(packages[0], "A"), services.OfferSpec(packages[1], "B")],
        by=None,
    )


def create_data(supplier, packages, areas, **overrides):
    """A complete POST of the create form offering both packages as A and B."""
    now = timezone.localtime()
    data = {
        "supplier": supplier.pk,
        "title": "第2期 蔬菜",
        "areas": [a.pk for a in areas],
        "opens_at": now.strftime("%Y-%m-%dT%H:%M"),
        "cutoff_at": (now + dt.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M"),
        "payment_deadline": "",
        "delivery_at": (now + dt.timedelta(days=2)).strftime("%Y-%m-%dT%H:%M"),
        "delivery_place": Round.Place.GATE,
        "delivery_note": "南门",
        "capacity": "80",
        "offers-TOTAL_FORMS": str(len(packages)),
        "offers-INITIAL_FORMS": str(len(packages)),
    }
    for i, (package, code) in enumerate(zip(packages, "AB", strict=False)):
        data.update(
            {
                f"offers-{i}-package": package.pk,
                f"offers-{i}-include": "on",
                f"offers-{i}-code": code,
                f"offers-{i}-price": str(package.price),
                f"offers-{i}-stock_cap": "30",
                f"offers-{i}-per_household_limit": "2",
            }
        )
    data.update(overrides)
    return data


# --- list -------------------------------------------------------------------------------


def test_round_list_shows_a_liaison_the_rounds_of_their_compound_only(
    client, tree, supplier, packages, open_round, user_with_role
):
    draft_round(supplier, packages, [tree.compound_b], title="小区b的轮次")
    place(open_round, tree.household_a, A=1, B=1)
    client.force_login(user_with_role(Role.LIAISON, tree.compound_a))
    response = client.get(LIST)
    assert response.status_code == 200
    assert [r.pk for r in response.context["page"].object_list] == [open_round.pk]
    [row] = response.context["page"].object_list
    assert row.money_due == Decimal("127.90")
    page = response.content.decode()
    assert "第1期 保供套餐" in page and "小区b的轮次" not in page
    assert "¥127.90" in page and "1 order" in page


def test_round_list_shows_a_community_round_to_a_volunteer_of_a_building_below(
    client, tree, supplier, packages, user_with_role
):
    round_ = draft_round(supplier, packages, [tree.community_a])
    client.force_login(user_with_role(Role.VOLUNTEER, tree.building_a))
    assert [r.pk for r in client.get(LIST).context["page"].object_list] == [round_.pk]


def test_round_list_shows_supplier_users_their_suppliers_rounds_only(
    client, tree, supplier, packages, open_round, other_supplier, user_with_role
):
    other = services.round_create(
        supplier=other_supplier,
        title="别家轮次",
        areas=[tree.compound_a],
        opens_at=timezone.now(),
        cutoff_at=timezone.now() + dt.timedelta(days=1),
        offers=[services.OfferSpec(other_supplier.packages.get(), "A")],
        by=None,
    )
    client.force_login(user_with_role(Role.SUPPLIER, supplier))
    assert [r.pk for r in client.get(LIST).context["page"].object_list] == [open_round.pk]
    client.force_login(user_with_role(Role.SUPPLIER, other_supplier))
    assert [r.pk for r in client.get(LIST).context["page"].object_list] == [other.pk]


def test_round_list_filters_by_state(client, tree, supplier, packages, open_round, user_with_role):
    draft = draft_round(supplier, packages, [tree.compound_a])
    client.force_login(user_with_role(Role.STREET_STAFF, tree.street_a))
    rows = client.get(LIST, {"state": "draft"}).context["page"].object_list
    assert [r.pk for r in rows] == [draft.pk]
    rows = client.get(LIST, {"state": "nonsense"}).context["page"].object_list
    assert {r.pk for r in rows} == {draft.pk, open_round.pk}


def test_round_list_refuses_residents_and_strangers(client, tree, open_round, user_with_role):
    client.force_login(user_with_role(Role.RESIDENT, tree.household_a))
    assert client.get(LIST).status_code == 403
    client.force_login(UserFactory())
    assert client.get(LIST).status_code == 403


def test_round_list_sends_anonymous_visitors_to_log_in(client, db):
    response = client.get(LIST)
    assert response.status_code == 302 and response.url.startswith(reverse("accounts:login"))


# --- create -----------------------------------------------------------------------------


def test_supplier_user_creates_a_draft_round_for_a_compound_it_serves(
    client, tree, supplier, packages, assigned, user_with_role
):
    user = user_with_role(Role.SUPPLIER, supplier)
    client.force_login(user)
    form_page = client.get(CREATE)
    assert form_page.status_code == 200
    form = form_page.context["form"]
    choices = set(form.fields["areas"].queryset)
    assert choices == {tree.community_a, tree.compound_a}
    assert len(form_page.context["formset"].forms) == 2
    response = client.post(CREATE, create_data(supplier, packages, [tree.compound_a]))
    round_ = Round.objects.get()
    assert response.status_code == 302 and response.url == detail_url(round_)
    assert round_.state == Round.State.DRAFT and round_.created_by == user
    assert round_.capacity == 80 and round_.delivery_note == "南门"
    assert list(round_.areas.all()) == [tree.compound_a]
    assert [(o.code, o.stock_cap, o.per_household_limit) for o in round_.offers.all()] == [
        ("A", 30, 2),
        ("B", 30, 2),
    ]


def test_liaison_creates_a_round_with_a_supplier_assigned_above_their_compound(
    client, tree, supplier, packages, assigned, user_with_role
):
    client.force_login(user_with_role(Role.LIAISON, tree.compound_a))
    form = client.get(CREATE).context["form"]
    assert list(form.fields["supplier"].queryset) == [supplier]
    assert list(form.fields["areas"].queryset) == [tree.compound_a]
    data = create_data(supplier, packages, [tree.compound_a])
    data["offers-1-include"] = ""  # offer only the first package
    assert client.post(CREATE, data).status_code == 302
    assert [o.name for o in Offer.objects.all()] == ["米面粮油套餐"]


def test_choosing_a_supplier_reloads_its_compounds_and_catalog(
    client, tree, supplier, packages, assigned, other_supplier, user_with_role
):
    SupplierArea.objects.create(supplier=other_supplier, area=tree.district)
    client.force_login(user_with_role(Role.STREET_STAFF, tree.street_a))
    first = client.get(CREATE)
    assert first.context["supplier"] is None  # two to choose from
    response = client.get(CREATE, {"supplier": other_supplier.pk}, HTTP_HX_REQUEST="true")
    assert response.context["supplier"] == other_supplier
    assert [f.package_obj.name for f in response.context["formset"].forms] == ["别家套餐"]
    assert 'id="supplier-parts"' in response.content.decode()


def test_liaison_cannot_create_a_round_for_another_compound(
    client, tree, supplier, packages, user_with_role
):
    SupplierArea.objects.create(supplier=supplier, area=tree.district)
    client.force_login(user_with_role(Role.LIAISON, tree.compound_a))
    response = client.post(CREATE, create_data(supplier, packages, [tree.compound_b]))
    assert response.status_code == 200
    assert "areas" in response.context["form"].errors
    assert not Round.objects.exists()


def test_create_refuses_a_cut_off_before_opening_and_writes_nothing(
    client, tree, supplier, packages, assigned, user_with_role
):
    client.force_login(user_with_role(Role.SUPPLIER, supplier))
    data = create_data(supplier, packages, [tree.compound_a], cutoff_at="2020-01-01T08:00")
    response = client.post(CREATE, data)
    assert response.status_code == 200
    assert "cutoff_at" in response.context["form"].errors
    assert 'role="alert"' in response.content.decode()
    assert not Round.objects.exists()


def test_create_refuses_two_packages_with_one_option_code(
    client, tree, supplier, packages, assigned, user_with_role
):
    client.force_login(user_with_role(Role.SUPPLIER, supplier))
    data = create_data(supplier, packages, [tree.compound_a], **{"offers-1-code": "a"})
    response = client.post(CREATE, data)
    assert "own option letter" in response.content.decode()
    assert not Round.objects.exists()


def test_create_refuses_another_suppliers_package(
    client, tree, supplier, packages, assigned, other_supplier, user_with_role
):
    client.force_login(user_with_role(Role.SUPPLIER, supplier))
    foreign = other_supplier.packages.get()
    data = create_data(supplier, packages, [tree.compound_a], **{"offers-1-package": foreign.pk})
    response = client.post(CREATE, data)
    assert "only its own supplier" in response.content.decode()
    assert not Round.objects.exists()


def test_supplier_user_cannot_create_rounds_for_another_supplier(
    client, tree, supplier, packages, assigned, other_supplier, user_with_role
):
    client.force_login(user_with_role(Role.SUPPLIER, other_supplier))
    response = client.post(CREATE, create_data(supplier, packages, [tree.compound_a]))
    assert response.status_code == 200
    assert "supplier" in response.context["form"].errors
    assert not Round.objects.exists()


def test_create_refuses_residents_volunteers_and_strangers(client, tree, user_with_role):
    for user in (
        user_with_role(Role.RESIDENT, tree.household_a),
        user_with_role(Role.VOLUNTEER, tree.building_a),
        UserFactory(),
    ):
        client.force_login(user)
        assert client.get(CREATE).status_code == 403
        assert client.post(CREATE, {}).status_code == 403


def test_create_sends_anonymous_visitors_to_log_in(client, db):
    assert client.get(CREATE).url.startswith(reverse("accounts:login"))


# --- edit -------------------------------------------------------------------------------


def test_edit_changes_a_draft_round_and_its_offers(
    client, tree, supplier, packages, assigned, user_with_role
):
    round_ = draft_round(supplier, packages, [tree.compound_a])
    client.force_login(user_with_role(Role.LIAISON, tree.compound_a))
    url = reverse("orders:round_edit", args=[round_.pk])
    form = client.get(url).context["form"]
    assert form.initial["title"] == "草稿轮次" and "supplier" not in form.fields
    data = create_data(supplier, packages, [tree.compound_a], title="改过的标题")
    data["offers-0-include"] = ""
    data["offers-1-code"] = "1"
    assert client.post(url, data).status_code == 302
    round_.refresh_from_db()
    assert round_.title == "改过的标题" and round_.capacity == 80
    assert [(o.code, o.name) for o in round_.offers.all()] == [("1", "蔬菜套餐")]


def test_edit_of_an_open_round_is_refused_and_nothing_changes(
    client, tree, open_round, user_with_role
):
    client.force_login(user_with_role(Role.LIAISON, tree.compound_a))
    url = reverse("orders:round_edit", args=[open_round.pk])
    response = client.post(url, {"title": "不能改"}, follow=True)
    assert "Only a draft round can be changed." in response.content.decode()
    open_round.refresh_from_db()
    assert open_round.title == "第1期 保供套餐"


def test_edit_is_refused_outside_the_rounds_areas(
    client, tree, supplier, packages, other_supplier, user_with_role
):
    round_ = draft_round(supplier, packages, [tree.compound_a])
    url = reverse("orders:round_edit", args=[round_.pk])
    client.force_login(user_with_role(Role.LIAISON, tree.compound_b))
    assert client.get(url).status_code == 404
    client.force_login(user_with_role(Role.SUPPLIER, other_supplier))
    assert client.get(url).status_code == 404
    client.force_login(user_with_role(Role.VOLUNTEER, tree.building_a))  # sees, may not run
    assert client.get(url).status_code == 403
    client.logout()
    assert client.get(url).status_code == 302


# --- actions ----------------------------------------------------------------------------


def test_liaison_opens_a_draft_round_and_people_are_told(
    client, tree, supplier, packages, user_with_role, django_capture_on_commit_callbacks
):
    round_ = draft_round(supplier, packages, [tree.compound_a])
    liaison = user_with_role(Role.LIAISON, tree.compound_a)
    client.force_login(liaison)
    response = client.post(action_url(round_, "open"), follow=True)
    round_.refresh_from_db()
    assert round_.state == Round.State.OPEN
    assert "The round is now open." in response.content.decode()
    assert Message.objects.filter(recipient=liaison, kind="round_open").exists()


def test_closing_early_keeps_the_reason(client, tree, open_round, user_with_role):
    client.force_login(user_with_role(Role.LIAISON, tree.compound_a))
    client.post(action_url(open_round, "close"), {"reason": "货源不足"})
    open_round.refresh_from_db()
    assert open_round.state == Round.State.CLOSED and open_round.closed_reason == "货源不足"


def test_only_the_supplier_confirms_a_closed_round(
    client, tree, supplier, open_round, user_with_role
):
    services.round_transition(round_=open_round, action="close", by=None)
    client.force_login(user_with_role(Role.LIAISON, tree.compound_a))
    assert client.post(action_url(open_round, "confirm")).status_code == 403
    open_round.refresh_from_db()
    assert open_round.state == Round.State.CLOSED
    client.force_login(user_with_role(Role.SUPPLIER, supplier))
    client.post(action_url(open_round, "confirm"))
    open_round.refresh_from_db()
    assert open_round.state == Round.State.CONFIRMED


def test_a_refused_transition_says_why(client, tree, open_round, user_with_role):
    services.round_transition(round_=open_round, action="close", by=None)
    client.force_login(user_with_role(Role.LIAISON, tree.compound_a))
    response = client.post(action_url(open_round, "open"), follow=True)
    [message] = response.context["messages"]
    assert message.level_tag == "error"
    assert "closed" in message.message and "cannot" in message.message
    assert message.message in response.content.decode()
    open_round.refresh_from_db()
    assert open_round.state == Round.State.CLOSED


def test_cancelling_a_round_releases_its_orders(
    client, tree, open_round, user_with_role, django_capture_on_commit_callbacks
):
    place(open_round, tree.household_a, A=2)
    client.force_login(user_with_role(Role.COMMUNITY_STAFF, tree.community_a))
    with django_capture_on_commit_callbacks(execute=True):
        client.post(action_url(open_round, "cancel"), {"reason": "封控升级"})
    open_round.refresh_from_db()
    assert open_round.state == Round.State.CANCELLED
    assert Order.objects.get().state == Order.State.CANCELLED
    assert offers_of(open_round)["A"].sold == 0


def test_actions_refuse_get_unknown_actions_and_outsiders(client, tree, open_round, user_with_role):
    client.force_login(user_with_role(Role.LIAISON, tree.compound_a))
    assert client.get(action_url(open_round, "close")).status_code == 405
    assert client.post(action_url(open_round, "explode")).status_code == 404
    client.force_login(user_with_role(Role.LIAISON, tree.compound_b))
    assert client.post(action_url(open_round, "close")).status_code == 404
    client.force_login(user_with_role(Role.RESIDENT, tree.household_a))
    assert client.post(action_url(open_round, "close")).status_code == 404
    client.logout()
    assert client.post(action_url(open_round, "close")).status_code == 302
    open_round.refresh_from_db()
    assert open_round.state == Round.State.OPEN


def test_detail_offers_only_the_actions_the_user_may_take(
    client, tree, supplier, open_round, user_with_role
):
    client.force_login(user_with_role(Role.LIAISON, tree.compound_a))
    actions = [a["action"] for a in client.get(detail_url(open_round)).context["actions"]]
    assert actions == ["close", "cancel"]
    services.round_transition(round_=open_round, action="close", by=None)
    actions = [a["action"] for a in client.get(detail_url(open_round)).context["actions"]]
    assert actions == ["cancel"]
    client.force_login(user_with_role(Role.SUPPLIER, supplier))
    actions = [a["action"] for a in client.get(detail_url(open_round)).context["actions"]]
    assert actions == ["confirm", "cancel"]
    client.force_login(user_with_role(Role.VOLUNTEER, tree.building_a))
    assert client.get(detail_url(open_round)).context["actions"] == []


# --- the liaison's round page -------------------------------------------------------------


@pytest.fixture
def busy_round(tree, open_round):
    """Round on compound a with a second building: 4 households, 2 ordered (proxy, self)."""
    building = make_area(Area.Kind.BUILDING, tree.compound_a, "5号楼")
    second = HouseholdFactory(building=tree.building_a, unit="1", room="101", phone="13800138000")
    third = HouseholdFactory(building=building, unit="1", room="201")
    HouseholdFactory(building=building, unit="1", room="202")
    place(open_round, tree.household_a, A=2, B=1)
    offers = offers_of(open_round)
    services.order_place(
        round_=open_round,
        household=third,
        lines={offers["B"].pk: 1},
        channel=Order.Channel.SELF,
        by=None,
    )
    return {"round": open_round, "second": second, "building": building}


def test_round_page_counts_packages_buildings_channels_and_money(
    client, tree, busy_round, user_with_role
):
    client.force_login(user_with_role(Role.LIAISON, tree.compound_a))
    response = client.get(detail_url(busy_round["round"]))
    assert response.status_code == 200
    counts = response.context["counts"]
    assert [(o.code, o.sold, o.stock_cap, o.remaining) for o in counts.offers] == [
        ("A", 2, 50, 48),
        ("B", 2, 100, 98),
    ]
    assert [(b.building, b.households, b.orders, b.units) for b in counts.buildings] == [
        ("3号楼", 2, 1, 3),
        ("5号楼", 2, 1, 1),
    ]
    assert counts.money_due == Decimal("255.80") and counts.orders == 2
    assert sorted((label, n) for label, n, _amount in counts.channels) == [
        ("order on behalf", 1),
        ("self-service", 1),
    ]
    page = response.content.decode()
    assert 'hx-trigger="every 10s"' in page and 'aria-live="polite"' in page
    assert "¥255.80" in page


def test_round_page_lists_who_has_not_ordered_by_building_with_full_phones_for_the_liaison(
    client, tree, busy_round, user_with_role
):
    round_ = busy_round["round"]
    client.force_login(user_with_role(Role.LIAISON, tree.compound_a))
    chase = client.get(detail_url(round_)).context["chase"]
    assert [(g.building, g.count, g.households) for g in chase] == [
        ("3号楼", 1, None),
        ("5号楼", 1, None),
    ]
    # Opening a building's list loads its households (htmx), with what to phone.
    first = chase[0].building_id
    response = client.get(
        detail_url(round_), {"part": "chase", "building": first}, HTTP_HX_REQUEST="true"
    )
    assert [h.place for h in response.context["households"]] == ["1单元101"]
    page = response.content.decode()
    assert 'href="tel:13800138000"' in page and "<html" not in page
    proxy = reverse("orders:proxy_order", args=[round_.pk])
    assert f"{proxy}?household={busy_round['second'].pk}" in page
    # Without JavaScript, ?building= opens that list inside the page.
    response = client.get(detail_url(round_), {"building": first})
    [opened, closed] = response.context["chase"]
    assert [h.pk for h in opened.households] == [busy_round["second"].pk]
    assert closed.households is None
    assert "13800138000" in response.content.decode()


def test_chase_list_of_a_building_outside_the_users_reach_is_empty(
    client, tree, supplier, packages, user_with_role
):
    round_ = draft_round(supplier, packages, [tree.compound_a, tree.compound_b])
    client.force_login(user_with_role(Role.LIAISON, tree.compound_a))
    response = client.get(detail_url(round_), {"part": "chase", "building": tree.building_b.pk})
    assert response.context["households"] == []
    assert tree.household_b.phone not in response.content.decode()
    response = client.get(detail_url(round_), {"part": "chase", "building": "x"})
    assert response.status_code == 200 and response.context["households"] == []


def test_round_page_gives_bureau_staff_the_counts_only(client, tree, busy_round, user_with_role):
    client.force_login(user_with_role(Role.BUREAU_STAFF, tree.district))
    response = client.get(detail_url(busy_round["round"]))
    assert response.status_code == 200
    assert response.context["chase"] == [] and response.context["recent"] == []
    assert "13800138000" not in response.content.decode()


def test_round_page_shows_the_supplier_orders_but_nobody_to_chase(
    client, tree, supplier, busy_round, user_with_role
):
    client.force_login(user_with_role(Role.SUPPLIER, supplier))
    response = client.get(detail_url(busy_round["round"]))
    assert response.context["chase"] == []
    assert len(response.context["recent"]) == 2
    page = response.content.decode()
    assert "13800138000" not in page and "Order for a caller" not in page


def test_round_page_shows_the_latest_orders_with_channel_and_who_entered_them(
    client, tree, open_round, user_with_role
):
    liaison = user_with_role(Role.LIAISON, tree.compound_a)
    offers = offers_of(open_round)
    order = services.order_place(
        round_=open_round,
        household=tree.household_a,
        lines={offers["A"].pk: 1},
        channel=Order.Channel.PROXY,
        by=liaison,
    )
    client.force_login(liaison)
    response = client.get(detail_url(open_round))
    assert response.context["recent"] == [order]
    page = response.content.decode()
    assert order.pickup_code in page and liaison.name in page and "order on behalf" in page


def test_round_page_marks_households_that_ordered_in_another_round_recently(
    client, tree, supplier, packages, open_round, user_with_role
):
    place(open_round, tree.household_a, A=1)
    second = draft_round(supplier, packages, [tree.compound_a], title="第2期")
    services.round_transition(round_=second, action="open", by=None)
    client.force_login(user_with_role(Role.LIAISON, tree.compound_a))
    [group] = client.get(detail_url(second)).context["chase"]
    response = client.get(detail_url(second), {"part": "chase", "building": group.building_id})
    [household] = response.context["households"]
    assert household.ordered_elsewhere_at is not None
    assert "ordered in another round on" in response.content.decode()


def test_counts_poll_answers_204_when_nothing_changed(client, tree, busy_round, user_with_role):
    round_ = busy_round["round"]
    client.force_login(user_with_role(Role.LIAISON, tree.compound_a))
    first = client.get(detail_url(round_), {"part": "counts"}, HTTP_HX_REQUEST="true")
    assert first.status_code == 200
    assert 'id="round-counts"' in first.content.decode() and "<html" not in first.content.decode()
    version = first.context["counts"].version
    same = client.get(detail_url(round_), {"part": "counts", "v": version})
    assert same.status_code == 204
    place(round_, busy_round["second"], A=1)
    changed = client.get(detail_url(round_), {"part": "counts", "v": version})
    assert changed.status_code == 200 and changed.context["counts"].orders == 3


def test_round_page_query_count_does_not_grow_with_households(
    client, tree, open_round, user_with_role, django_assert_max_num_queries
):
    buildings = [make_area(Area.Kind.BUILDING, tree.compound_a, f"{n}号楼") for n in (5, 6, 7)]
    households = [
        HouseholdFactory(building=buildings[n % 3], unit=str(n % 2 + 1), room=str(101 + n))
        for n in range(210)
    ]
    for household in households[:40]:
        place(open_round, household, B=1)
    client.force_login(user_with_role(Role.LIAISON, tree.compound_a))
    # 16 for the page, plus the unread-messages count in the menu.
    with django_assert_max_num_queries(17):
        response = client.get(detail_url(open_round), {"building": buildings[0].pk})
    assert response.context["counts"].households == 211
    assert sum(g.count for g in response.context["chase"]) == 171
    assert len(response.context["chase"][1].households) == 70 - 14
    with django_assert_max_num_queries(10):
        response = client.get(
            detail_url(open_round), {"part": "chase", "building": buildings[1].pk}
        )
    assert len(response.context["households"]) == 70 - 13
    with django_assert_max_num_queries(12):
        client.get(detail_url(open_round), {"part": "counts"})


def test_round_page_permissions(client, tree, supplier, open_round, other_supplier, user_with_role):
    url = detail_url(open_round)
    client.force_login(user_with_role(Role.COMMUNITY_STAFF, tree.community_a))
    assert client.get(url).status_code == 200
    client.force_login(user_with_role(Role.SUPPLIER, supplier))
    assert client.get(url).status_code == 200
    for outsider in (
        user_with_role(Role.LIAISON, tree.compound_b),
        user_with_role(Role.SUPPLIER, other_supplier),
        user_with_role(Role.RESIDENT, tree.household_a),
        UserFactory(),
    ):
        client.force_login(outsider)
        assert client.get(url).status_code == 404
    client.logout()
    assert client.get(url).url.startswith(reverse("accounts:login"))


def test_edit_refuses_a_compound_outside_the_users_reach_and_changes_nothing(
    client, tree, supplier, packages, user_with_role
):
    SupplierArea.objects.create(supplier=supplier, area=tree.district)
    round_ = draft_round(supplier, packages, [tree.compound_a])
    client.force_login(user_with_role(Role.LIAISON, tree.compound_a))
    url = reverse("orders:round_edit", args=[round_.pk])
    data = create_data(supplier, packages, [tree.compound_a, tree.compound_b], title="新标题")
    response = client.post(url, data)
    assert response.status_code == 200 and "areas" in response.context["form"].errors
    round_.refresh_from_db()
    assert round_.title == "草稿轮次" and list(round_.areas.all()) == [tree.compound_a]


def test_round_update_service_refuses_users_who_do_not_run_the_round(
    tree, supplier, packages, user_with_role
):
    from baogong.core.errors import NotAllowed
    from baogong.orders.round_services import round_update

    round_ = draft_round(supplier, packages, [tree.compound_a])
    with pytest.raises(NotAllowed):
        round_update(
            round_=round_,
            by=user_with_role(Role.LIAISON, tree.compound_b),
            title="别人的",
            areas=[tree.compound_b],
            opens_at=round_.opens_at,
            cutoff_at=round_.cutoff_at,
            offers=[services.OfferSpec(packages[0], "A")],
        )
    round_.refresh_from_db()
    assert round_.title == "草稿轮次" and round_.offers.count() == 2
