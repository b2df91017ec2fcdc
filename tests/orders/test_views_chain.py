"""The order chain page: paste, preview, correct, commit; who may use it."""

from __future__ import annotations

import pytest
from django.urls import reverse

from baogong.accounts.models import Role
from baogong.orders import intake
from baogong.orders.models import Offer, Order, OrderLine
from tests.factories import HouseholdFactory, UserFactory


@pytest.fixture
def client(client):
    """English pages, whatever translations exist."""
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


CHAIN = "#接龙\n1. 3号楼2单元502 张阿姨 A套餐×2\n2、3-2-503 李四 两份A\n3. 9-9-909 王 A\n4. +1"


@pytest.fixture
def neighbour(tree):
    return HouseholdFactory(building=tree.building_a, unit="2", room="503")


@pytest.fixture
def liaison(tree, user_with_role):
    return user_with_role(Role.LIAISON, tree.compound_a)


@pytest.fixture
def url(open_round):
    return reverse("orders:chain_paste", args=[open_round.pk])


def preview(client, url, text=CHAIN, htmx=False, **extra):
    headers = {"HX-Request": "true"} if htmx else {}
    return client.post(url, {"action": "preview", "text": text, **extra}, headers=headers)


def commit(client, url, text=CHAIN, keep=None, **extra):
    digest = intake.text_digest(text)
    data = {"action": "commit", "text": text, "digest": digest, **extra}
    if keep is not None:
        data["keep"] = [str(k) for k in keep]
    return client.post(url, data)


def written(round_):
    return (Order.objects.filter(round=round_).count(), OrderLine.objects.count())


# --- who may use it ---------------------------------------------------------------------------


def test_anonymous_is_sent_to_login(client, url):
    response = client.get(url)
    assert response.status_code == 302 and reverse("accounts:login") in response["Location"]


def test_a_stranger_gets_nothing(client, url, open_round):
    client.force_login(UserFactory())
    assert client.get(url).status_code in (403, 404)
    assert preview(client, url).status_code in (403, 404)
    assert written(open_round) == (0, 0)


def test_a_liaison_elsewhere_in_the_tree_gets_nothing(
    client, url, tree, user_with_role, open_round
):
    client.force_login(user_with_role(Role.LIAISON, tree.compound_b))
    assert client.get(url).status_code in (403, 404)
    assert commit(client, url).status_code in (403, 404)
    assert written(open_round) == (0, 0)


def test_the_supplier_sees_the_round_but_may_not_enter_orders(
    client, url, supplier, user_with_role, open_round
):
    client.force_login(user_with_role(Role.SUPPLIER, supplier))
    assert client.get(url).status_code == 403
    assert commit(client, url).status_code == 403
    assert written(open_round) == (0, 0)


def test_a_missing_round_is_404(client, liaison):
    client.force_login(liaison)
    assert client.get(reverse("orders:chain_paste", args=[99999])).status_code == 404


@pytest.mark.parametrize("role", [Role.LIAISON, Role.VOLUNTEER, Role.COMMUNITY_STAFF])
def test_proxy_roles_over_the_compound_get_the_page(client, url, tree, user_with_role, role):
    scope = tree.building_a if role == Role.VOLUNTEER else tree.compound_a
    client.force_login(user_with_role(role, scope))
    response = client.get(url)
    assert response.status_code == 200
    html = response.content.decode()
    assert 'name="text"' in html and 'for="id_text"' in html
    assert "米面粮油套餐" in html  # the options the chain refers to


# --- preview ----------------------------------------------------------------------------------


def test_preview_shows_every_line_and_writes_nothing(client, url, liaison, neighbour, open_round):
    client.force_login(liaison)
    response = preview(client, url)
    assert response.status_code == 200
    result = response.context["preview"]
    statuses = {row.number: str(row.status) for row in result.rows}
    assert statuses == {1: "ignored", 2: "matched", 3: "matched", 4: "unmatched", 5: "ignored"}
    html = response.content.decode()
    assert 'name="keep" value="2" checked' in html and 'name="keep" value="3" checked' in html
    assert 'name="keep" value="4"' not in html
    assert f'name="digest" value="{intake.text_digest(CHAIN)}"' in html
    assert "9-9-909" in html and "No household at" in html
    assert written(open_round) == (0, 0)


def test_htmx_preview_returns_the_region_only(client, url, liaison, neighbour):
    client.force_login(liaison)
    response = preview(client, url, htmx=True)
    html = response.content.decode()
    assert "<html" not in html
    assert 'id="intake-status"' in html and 'hx-swap-oob="true"' in html
    assert "Preview ready: 2 orders to save, 1 not matched." in html


def test_an_empty_paste_says_so(client, url, liaison, open_round):
    client.force_login(liaison)
    response = preview(client, url, text="   ")
    assert response.status_code == 200
    assert "Paste the order chain first." in response.content.decode()
    response = preview(client, url, text="   ", htmx=True)
    assert 'role="alert"' in response.content.decode()
    assert written(open_round) == (0, 0)


def test_nonsense_input_never_breaks_the_page(client, url, liaison, open_round):
    client.force_login(liaison)
    for text in ["\x00\x01", "🙏" * 500, "1." * 3000, "<script>alert(1)</script> 3-2-502 A"]:
        response = preview(client, url, text=text)
        assert response.status_code == 200
        assert "<script>alert(1)</script>" not in response.content.decode()
    assert commit(client, url, text="x", keep=["a", "-1"]).status_code == 200
    assert written(open_round) == (0, 0)


# --- commit -----------------------------------------------------------------------------------


def test_commit_saves_the_kept_rows_as_chain_orders(client, url, liaison, neighbour, open_round):
    client.force_login(liaison)
    response = commit(client, url, keep=[2, 3])
    assert response.status_code == 200
    report = response.context["report"]
    assert report.counts == {"created": 2}
    orders = Order.objects.filter(round=open_round)
    assert set(orders.values_list("channel", "entered_by")) == {(Order.Channel.CHAIN, liaison.pk)}
    assert Offer.objects.get(round=open_round, code="A").sold == 4
    assert "Saved" in response.content.decode()


def test_committing_the_same_chain_again_changes_nothing(
    client, url, liaison, neighbour, open_round
):
    client.force_login(liaison)
    commit(client, url, keep=[2, 3])
    before = list(Order.objects.values_list("pk", "updated_at", "amount_due"))
    again = preview(client, url)
    assert again.context["preview"].keepable_count == 0
    assert "Nothing to save" in again.content.decode()
    response = commit(client, url, keep=[])
    assert response.context["report"].counts == {"unchanged": 2}
    assert list(Order.objects.values_list("pk", "updated_at", "amount_due")) == before


def test_unticked_rows_are_left_out(client, url, liaison, neighbour, open_round):
    client.force_login(liaison)
    response = commit(client, url, keep=[3])
    assert response.context["report"].counts == {"created": 1, "dropped": 1}
    assert list(Order.objects.values_list("household", flat=True)) == [neighbour.pk]


def test_a_text_that_changed_since_the_preview_is_not_committed(client, url, liaison, open_round):
    client.force_login(liaison)
    response = client.post(
        url, {"action": "commit", "text": CHAIN, "digest": "0" * 64, "keep": ["2"]}
    )
    assert "report" not in response.context
    assert "changed after the preview" in response.content.decode()
    assert written(open_round) == (0, 0)


def test_correcting_a_line_re_parses_before_committing(client, url, liaison, neighbour, open_round):
    client.force_login(liaison)
    fixed = {"edit-4": "3. 3号楼2单元503 王 B"}
    response = commit(client, url, keep=[2, 3], **fixed)
    assert "report" not in response.context  # edited: preview again first
    assert "You changed some lines" in response.content.decode()
    assert written(open_round) == (0, 0)
    result = response.context["preview"]
    rows = {row.number: row for row in result.rows}
    assert rows[3].status == "duplicate" and rows[4].status == "matched"  # 503 twice now
    text = response.context["text"]
    assert text.splitlines()[3] == "3. 3号楼2单元503 王 B"
    html = response.content.decode()
    assert f'name="digest" value="{intake.text_digest(text)}"' in html
    response = commit(client, url, text=text, keep=[2, 4])
    assert response.context["report"].counts == {"created": 2}
    assert Order.objects.get(household=neighbour).lines.get().offer.code == "B"


def test_a_refused_row_is_listed_and_the_others_are_saved(
    client, url, liaison, neighbour, open_round
):
    Offer.objects.filter(round=open_round, code="A").update(stock_cap=2)
    client.force_login(liaison)
    response = commit(client, url, keep=[2, 3])
    report = response.context["report"]
    assert report.counts == {"created": 1, "refused": 1}
    html = response.content.decode()
    assert "Sold out" in html and "3号楼2单元503" in html
    assert written(open_round) == (1, 1)


def test_a_closed_round_warns_on_the_page(client, url, liaison, open_round):
    from baogong.orders import services

    services.round_transition(round_=open_round, action="close", by=None)
    client.force_login(liaison)
    assert "not taking orders now" in client.get(url).content.decode()
