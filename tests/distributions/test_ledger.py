"""Per compound, received at the gate = distributed (ledger lines) + on hand, across an
ordered round and a free distribution going through the same gate and handover."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db.models import Sum
from django.urls import reverse

from baogong.accounts.models import Role
from baogong.areas.models import Area
from baogong.core.errors import InvalidInput
from baogong.distributions import reports, services
from baogong.distributions.models import Distribution
from baogong.distributions.planning import Band
from baogong.lastmile.handover import bag_hand_over
from baogong.lastmile.models import Bag, Delivery, Handover
from baogong.lastmile.receipt import bag_check, receipt_finish, receipt_start
from baogong.requisitions.models import DistributionEntry
from tests.factories import UserFactory, grant
from tests.lastmile.conftest import lastmile  # noqa: F401 (fixture)
from tests.requisitions.conftest import chain  # noqa: F401 (fixture)

RECEIVED, MISSING = Bag.GateState.RECEIVED, Bag.GateState.MISSING


def receive(delivery: Delivery, by, *, missing: set[int] = frozenset()) -> None:
    """Check every live bag at the gate through the receipt services and finish."""
    receipt_start(delivery=delivery, by=by)
    for bag in delivery.bags.exclude(state=Bag.State.VOID).order_by("pk"):
        bag_check(bag=bag, gate_state=MISSING if bag.pk in missing else RECEIVED, by=by)
    receipt_finish(delivery=delivery, by=by)


def free_distribution(compound: Area) -> Distribution:
    spec = services.DistributionSpec(
        title="第2批政府保供包",
        source=Distribution.Source.RESERVE,
        targets=[compound],
        package=services.PackageSpec("保供包", "大米 5kg ×1", 100),
        rule=Distribution.Rule.SIZE_BANDS,
        bands=(Band(1, 2, 1), Band(3, 4, 2), Band(5, None, 3)),
    )
    distribution = services.distribution_create(spec=spec, by=None)
    services.distribution_commit(distribution=distribution, by=None)
    return distribution


@pytest.fixture
def both(lastmile, tree):  # noqa: F811
    """compound_a: the round's delivery and a free distribution's, both received at the gate;
    some bags of each handed over, one ordered bag missing at the gate."""
    households = lastmile.households
    type(households[1]).objects.filter(pk=households[1].pk).update(members_count=4)
    type(households[4]).objects.filter(pk=households[4].pk).update(members_count=6)
    ordered = lastmile.delivery
    receive(ordered, lastmile.liaison, missing={lastmile.bag(5).pk})
    distribution = free_distribution(tree.compound_a)
    free = Delivery.objects.get(distribution=distribution)
    receive(free, lastmile.liaison)
    for bag in [lastmile.bag(0), lastmile.bag(1)]:
        bag_hand_over(bag=bag, method=Handover.Method.CODE, by=None)
    for household in [households[1], households[4], households[5]]:
        bag = Bag.objects.get(delivery=free, household=household)
        bag_hand_over(bag=bag, method=Handover.Method.SCANNED, by=None)
    return ordered, free


def compound_row(compound: Area) -> reports.LedgerRow:
    (row,) = reports.bag_ledger(Area.objects.filter(pk=compound.pk))
    return row


def test_received_equals_distributed_plus_on_hand_across_ordered_and_free(tree, both):
    _ordered, free = both
    row = compound_row(tree.compound_a)
    assert row.balanced
    # Counted independently: packs in bags the gate received, ledger lines, bags left.
    received = Bag.objects.filter(delivery__compound=tree.compound_a, gate_state=RECEIVED)
    assert row.received == received.aggregate(n=Sum("packs"))["n"]
    assert row.received_free == free.bags.aggregate(n=Sum("packs"))["n"]
    lines = DistributionEntry.objects.filter(bag__delivery__compound=tree.compound_a)
    assert lines.count() == Handover.objects.count() == 5
    assert row.distributed == lines.aggregate(n=Sum("quantity"))["n"]
    # Size bands: 4 people get 2 packs, 6 people 3; the ordered bags are 1 each.
    assert row.distributed == 2 + 2 + 3 + 1
    assert row.on_hand == received.filter(handover__isnull=True).aggregate(n=Sum("packs"))["n"]
    assert all(line.unit == "袋" and line.from_area_id == tree.compound_a.pk for line in lines)
    assert {line.quantity for line in lines} <= {Decimal(1), Decimal(2), Decimal(3)}


def test_a_bag_missing_at_the_gate_cannot_be_handed_over_and_the_identity_holds(
    tree,
    both,
    lastmile,  # noqa: F811
):
    before = compound_row(tree.compound_a)
    with pytest.raises(InvalidInput):
        bag_hand_over(bag=lastmile.bag(5), method=Handover.Method.CODE, by=None)
    after = compound_row(tree.compound_a)
    assert (after.received, after.distributed, after.on_hand) == (
        before.received,
        before.distributed,
        before.on_hand,
    )
    assert after.balanced


def test_handing_over_moves_packs_from_on_hand_to_distributed(tree, both):
    _ordered, free = both
    before = compound_row(tree.compound_a)
    bag = free.bags.filter(handover__isnull=True).first()
    bag_hand_over(bag=bag, method=Handover.Method.CODE, by=None)
    after = compound_row(tree.compound_a)
    assert after.received == before.received
    assert after.distributed == before.distributed + bag.packs
    assert after.on_hand == before.on_hand - bag.packs
    assert after.balanced


def test_report_page_shows_the_ledger_adding_up(client, tree, both):
    _ordered, free = both
    user = UserFactory()
    grant(user, Role.STREET_STAFF, area=tree.street_a)
    client.force_login(user)
    page = client.get(reverse("distributions:report", args=[free.distribution_id]))
    assert page.status_code == 200
    ledger = page.context["ledger"]
    assert [r.compound for r in ledger] == [tree.compound_a] and ledger[0].balanced
    assert "✓" in page.content.decode()


def test_a_distribution_from_an_allocation_order_links_both_ways(client, tree, chain):  # noqa: F811
    order = chain.received()
    distribution = services.distribution_create(
        spec=services.DistributionSpec(
            title="调拨大米发放",
            source=Distribution.Source.ALLOCATION,
            targets=[tree.compound_a],
            package=services.PackageSpec("大米包", "大米 5kg ×1", 20),
            allocation_order=order,
        ),
        by=chain.street_staff,
    )
    client.force_login(chain.street_staff)
    order_page = client.get(reverse("requisitions:allocation_detail", args=[order.pk]))
    report_url = reverse("distributions:report", args=[distribution.pk])
    assert report_url in order_page.content.decode()
    report_page = client.get(report_url).content.decode()
    assert reverse("requisitions:allocation_detail", args=[order.pk]) in report_page
    # The enterprise sees that its goods went out, without a link to the street's report.
    client.force_login(chain.supplier_user)
    supplier_page = client.get(reverse("requisitions:allocation_detail", args=[order.pk]))
    assert "调拨大米发放" in supplier_page.content.decode()
    assert report_url not in supplier_page.content.decode()
