"""The planning pages: create, plan, commit, documents, and who reaches them."""

from __future__ import annotations

import pytest
from django.urls import reverse

from baogong.accounts.models import Role
from baogong.areas.models import Area
from baogong.distributions import services
from baogong.distributions.models import Allocation, Distribution
from baogong.lastmile.models import Bag
from tests.factories import make_area


@pytest.fixture
def staff(street, user_with_role):
    return user_with_role(Role.STREET_STAFF, street.street)


def form_data(street, **overrides) -> dict:
    data = {
        "title": "第1批政府保供包",
        "source": "reserve",
        "targets": [street.compound_a.pk, street.compound_b.pk],
        "package_name": "保供包",
        "package_contents": "大米 5kg ×1",
        "package_quantity": "6",
        "rule": "size_bands",
        "bands": "1-2:1, 3-4:2, 5+:3",
        "special_extra_packs": "0",
    }
    data.update(overrides)
    return data


def test_staff_create_plan_and_commit_a_distribution(client, street, staff):
    client.force_login(staff)
    assert "Free distributions" in client.get(reverse("distributions:list")).text
    response = client.post(reverse("distributions:create"), form_data(street))
    distribution = Distribution.objects.get()
    assert response.url == reverse("distributions:plan", args=[distribution.pk])
    assert distribution.organiser == street.community
    assert [(b.min_members, b.max_members, b.packs) for b in distribution.bands.all()] == [
        (1, 2, 1),
        (3, 4, 2),
        (5, None, 3),
    ]
    page = client.get(response.url).text
    # 11 packs needed, 6 available: the shortfall and who waits are stated, never silent.
    assert "6 packs available, 11 needed." in page
    assert "3 households are left out" in page
    assert "sealed buildings and households and special groups" in page
    response = client.post(reverse("distributions:commit", args=[distribution.pk]))
    assert response.url == reverse("distributions:documents", args=[distribution.pk])
    assert Bag.objects.filter(distribution=distribution).count() == 4
    assert Allocation.objects.filter(state=Allocation.State.WAITING).count() == 3
    # A double submit makes nothing more.
    client.post(reverse("distributions:commit", args=[distribution.pk]))
    assert Bag.objects.filter(distribution=distribution).count() == 4
    page = client.get(reverse("distributions:detail", args=[distribution.pk])).text
    assert "春园小区" in page and "3 on the waiting list" in page
    assert client.get(reverse("distributions:plan", args=[distribution.pk])).status_code == 200


def test_documents_page_makes_and_serves_the_files(
    client, street, staff, settings, tmp_path, django_capture_on_commit_callbacks
):
    settings.MEDIA_ROOT = tmp_path
    distribution = street.distribution()
    client.force_login(staff)
    url = reverse("distributions:documents", args=[distribution.pk])
    client.post(url)
    assert "Make the bags first" in client.get(url).text
    services.distribution_commit(distribution=distribution, by=None)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(url)
    page = client.get(url).text
    assert page.count("Download (PDF)") == 4
    response = client.get(reverse("distributions:document", args=[distribution.pk, "labels_a4"]))
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"


def test_bad_input_names_the_field(client, street, staff):
    client.force_login(staff)
    response = client.post(reverse("distributions:create"), form_data(street, bands="1-2:1, x"))
    assert response.status_code == 400
    assert "is not a band" in response.text
    response = client.post(reverse("distributions:create"), form_data(street, bands="2-3:1, 4+:2"))
    assert response.status_code == 400 and "should start at 1" in response.text
    response = client.post(
        reverse("distributions:create"), form_data(street, source="donation", donor_name="")
    )
    assert response.status_code == 400 and "Donor" in response.text
    assert not Distribution.objects.exists()


def test_targets_outside_the_users_area_are_refused(client, street, user_with_role):
    other = make_area(Area.Kind.COMMUNITY, street.street, "夏园社区")
    staff = user_with_role(Role.COMMUNITY_STAFF, other)
    client.force_login(staff)
    response = client.post(
        reverse("distributions:create"), form_data(street, targets=[street.compound_a.pk])
    )
    assert response.status_code == 400  # not among the choices offered
    assert not Distribution.objects.exists()


@pytest.mark.parametrize("role", [Role.LIAISON, Role.VOLUNTEER, Role.BUREAU_STAFF])
def test_roles_that_do_not_plan_are_refused(client, street, user_with_role, role):
    distribution = street.distribution()
    client.force_login(user_with_role(role, street.street))
    assert client.get(reverse("distributions:list")).status_code == 403
    assert client.get(reverse("distributions:create")).status_code == 403
    assert client.get(reverse("distributions:plan", args=[distribution.pk])).status_code == 404


def test_staff_of_another_street_get_404(client, street, user_with_role):
    distribution = street.distribution()
    other = make_area(Area.Kind.STREET, street.street.parent, "清河街道")
    client.force_login(user_with_role(Role.STREET_STAFF, other))
    for name in ("detail", "plan", "documents", "edit"):
        assert (
            client.get(reverse(f"distributions:{name}", args=[distribution.pk])).status_code == 404
        )
    assert client.post(reverse("distributions:commit", args=[distribution.pk])).status_code == 404
    assert not Bag.objects.exists()
    assert distribution.title not in client.get(reverse("distributions:list")).text


def test_edit_a_draft_then_no_more_once_committed(client, street, staff):
    distribution = street.distribution()
    client.force_login(staff)
    url = reverse("distributions:edit", args=[distribution.pk])
    assert "保供包" in client.get(url).text
    client.post(url, form_data(street, title="第1批（改）", rule="household"))
    distribution.refresh_from_db()
    assert distribution.title == "第1批（改）" and not distribution.bands.exists()
    services.distribution_commit(distribution=distribution, by=None)
    assert client.get(url).url == reverse("distributions:detail", args=[distribution.pk])


def test_create_from_an_allocation_order_links_back(client, chain):
    order = chain.confirmed()
    client.force_login(chain.street_staff)
    url = reverse("distributions:create") + f"?allocation={order.pk}"
    page = client.get(url).text
    assert order.number in page and "大米 5kg装" in page
    tree = chain.tree
    response = client.post(
        url,
        {
            "title": "调拨发放",
            "source": "allocation",
            "allocation": order.pk,
            "targets": [tree.compound_a.pk],
            "package_name": "调拨包",
            "package_quantity": "10",
            "rule": "household",
            "special_extra_packs": "0",
        },
    )
    assert response.status_code == 302
    distribution = Distribution.objects.get()
    assert distribution.allocation_order == order
    page = client.get(reverse("distributions:detail", args=[distribution.pk])).text
    assert reverse("requisitions:allocation_detail", args=[order.pk]) in page


def test_an_allocation_order_outside_the_users_reach_is_404(client, chain, user_with_role):
    order = chain.confirmed()
    client.force_login(chain.other_street_staff)
    response = client.get(reverse("distributions:create") + f"?allocation={order.pk}")
    assert response.status_code == 404
