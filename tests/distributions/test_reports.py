"""Coverage, who has not received, and the summary by source: the counts and the pages."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pytest
from django.urls import reverse
from django.utils import timezone

from baogong.accounts.models import Role
from baogong.accounts.scoping import scope_for
from baogong.areas.models import Area
from baogong.distributions import reports, services
from baogong.distributions.models import Allocation, Distribution
from baogong.lastmile.handover import bag_hand_over
from baogong.lastmile.models import Bag, Delivery, Handover, PickupSlot
from tests.factories import UserFactory, grant, make_area

TZ = timezone.get_current_timezone()
DAY_1 = dt.datetime(2026, 4, 10, 10, 0, tzinfo=TZ)
DAY_2 = dt.datetime(2026, 4, 11, 9, 0, tzinfo=TZ)


@dataclass
class Committed:
    distribution: Distribution
    served: list[Allocation]  # in rank order
    waiting: list[Allocation]
    handed: list[Bag]  # handed over: one on DAY_1, one on DAY_2


def hand_over(bag: Bag, when: dt.datetime) -> Handover:
    Bag.objects.filter(pk=bag.pk).update(gate_state=Bag.GateState.RECEIVED)
    return bag_hand_over(bag=bag, method=Handover.Method.CODE, by=None, now=when)


@pytest.fixture
def committed(street) -> Committed:
    """7 households, 5 packs: the sealed 1号楼 and 3号楼 are served, 10号楼 waits."""
    distribution = street.distribution(package=services.PackageSpec("保供包", "大米 5kg ×1", 5))
    services.distribution_commit(distribution=distribution, by=None)
    allocations = Allocation.objects.filter(distribution=distribution).select_related("bag")
    served = [a for a in allocations if a.state == Allocation.State.BAGGED]
    waiting = [a for a in allocations if a.state == Allocation.State.WAITING]
    in_a = [a.bag for a in served if a.compound_id == street.compound_a.pk]
    hand_over(in_a[0], DAY_1)
    hand_over(in_a[1], DAY_2)
    return Committed(distribution, served, waiting, in_a[:2])


def staff(role: str, area: Area):
    user = UserFactory()
    grant(user, role, area=area)
    return user


def test_coverage_counts_reached_over_targeted_per_compound_with_days(street, committed):
    assert len(committed.served) == 5 and len(committed.waiting) == 2
    report = reports.coverage(committed.distribution, street.community)
    by_name = {row.area.name: row for row in report.rows}
    assert (by_name["春园小区"].targeted, by_name["春园小区"].reached) == (5, 2)
    assert (by_name["秋园小区"].targeted, by_name["秋园小区"].reached) == (2, 0)
    assert (report.total.targeted, report.total.reached, report.total.percent) == (7, 2, 29)
    assert report.days == [DAY_1.date(), DAY_2.date()]
    assert by_name["春园小区"].cells == [1, 1]
    assert by_name["秋园小区"].cells == [0, 0]


def test_coverage_drills_down_to_buildings_in_natural_order(street, committed):
    report = reports.coverage(committed.distribution, street.compound_a)
    assert [(r.area.name, r.targeted, r.reached) for r in report.rows] == [
        ("3号楼", 3, 2),
        ("10号楼", 2, 0),
    ]


def test_not_received_lists_waiting_list_and_bags_left_after_the_last_slot(street, committed):
    rows = reports.not_received(committed.distribution, street.street, now=DAY_2)
    # Before any slot ended only the waiting list shows.
    assert {r.household.pk for r in rows} == {a.household_id for a in committed.waiting}
    assert all("waiting list" in r.reason for r in rows)
    delivery = Delivery.objects.get(distribution=committed.distribution, compound=street.compound_a)
    PickupSlot.objects.create(
        delivery=delivery,
        building=street.buildings[0],
        position=1,
        starts_at=DAY_2 - dt.timedelta(hours=1),
        ends_at=DAY_2,
    )
    left = Bag.objects.get(delivery=delivery, state=Bag.State.WAITING, building=street.buildings[0])
    rows = reports.not_received(committed.distribution, street.street, now=DAY_2)
    assert left.household_id in {r.household.pk for r in rows}
    assert len(rows) == 3
    # Handed-over bags are never on the list, whatever the time.
    assert not {b.household_id for b in committed.handed} & {r.household.pk for r in rows}


def test_not_received_counts_are_anonymous(street, committed):
    counts = reports.not_received_counts(
        reports.not_received(committed.distribution, street.street, now=DAY_2)
    )
    assert counts == [("春园小区", "10号楼", "waiting list (stock short)", 2)]


def test_summary_groups_handed_over_packs_by_source_and_donor(street, committed):
    donated = street.distribution(
        title="爱心蔬菜包",
        source=Distribution.Source.DONATION,
        donor_name="谷城合作社",
        targets=[street.compound_b],
    )
    services.distribution_commit(distribution=donated, by=None)
    hand_over(Bag.objects.filter(distribution=donated).first(), DAY_2)
    bureau = staff(Role.BUREAU_STAFF, street.street.parent)
    rows = reports.summary_by_source(scope_for(bureau))
    assert [(r.source, r.donor, r.distributions, r.households, r.packs) for r in rows] == [
        ("donation", "谷城合作社", 1, 1, 1),
        ("reserve", "", 1, 2, 2),
    ]
    outsider = staff(Role.STREET_STAFF, make_area(Area.Kind.STREET, street.street.parent, "别街"))
    assert reports.summary_by_source(scope_for(outsider)) == []


# --- pages ---------------------------------------------------------------------------


def test_street_staff_see_households_not_reached(client, street, committed):
    client.force_login(staff(Role.STREET_STAFF, street.street))
    url = reverse("distributions:report", args=[committed.distribution.pk])
    page = client.get(url).content.decode()
    waiting = committed.waiting[0].household
    assert waiting.room in page and "10号楼" in page
    assert "Excel" in page and "personal=1" in page
    drilled = client.get(url, {"area": street.compound_a.pk}).content.decode()
    assert "3号楼" in drilled and "2 / 3" in drilled


def test_bureau_sees_counts_only(client, street, committed):
    client.force_login(staff(Role.BUREAU_STAFF, street.street.parent))
    url = reverse("distributions:report", args=[committed.distribution.pk])
    page = client.get(url).content.decode()
    assert "2 / 7" in page
    for allocation in committed.waiting:
        assert allocation.household.phone not in page
    assert "personal=1" not in page
    export = reverse("distributions:report_export", args=[committed.distribution.pk])
    assert client.get(export, {"personal": "1"}).status_code == 403
    assert client.get(export).status_code == 200


def test_community_staff_see_their_part_and_outsiders_nothing(client, street, committed):
    client.force_login(staff(Role.COMMUNITY_STAFF, street.community))
    url = reverse("distributions:report", args=[committed.distribution.pk])
    assert client.get(url).status_code == 200
    other_street = make_area(Area.Kind.STREET, street.street.parent, "汉江街道")
    client.force_login(staff(Role.STREET_STAFF, other_street))
    assert client.get(url).status_code == 404
    client.force_login(staff(Role.LIAISON, street.compound_a))
    assert client.get(url).status_code == 404
    # Drilling outside the reader's grants is refused too.
    client.force_login(staff(Role.COMMUNITY_STAFF, street.community))
    assert client.get(url, {"area": street.street.pk}).status_code == 404
    assert client.get(url, {"area": "x"}).status_code == 404


def test_summary_page_lists_sources_for_the_bureau(client, street, committed):
    client.force_login(staff(Role.BUREAU_STAFF, street.street.parent))
    page = client.get(reverse("distributions:summary")).content.decode()
    assert committed.distribution.title in page
    client.force_login(staff(Role.LIAISON, street.compound_a))
    assert client.get(reverse("distributions:summary")).status_code == 403
