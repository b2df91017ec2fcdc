"""The demo street's government package distribution is half-way through, and stays so."""

from __future__ import annotations

import pytest
from django.db.models import Count

from baogong.areas.models import Area
from baogong.demo import fancheng
from baogong.demo.services import demo_load
from baogong.distributions import reports
from baogong.distributions.demo import TITLE, demo_distribution
from baogong.distributions.models import Allocation, Distribution
from baogong.lastmile.models import Bag, Delivery, GateReceipt, Handover

pytestmark = pytest.mark.django_db


def test_demo_distribution_is_half_way_and_loading_again_adds_nothing():
    result = demo_load(by=None)
    distribution = Distribution.objects.get(title=TITLE)
    assert distribution.organiser.name == "王寨街道"
    assert distribution.rule == Distribution.Rule.SIZE_BANDS
    assert distribution.bands.count() == 3
    waiting = Allocation.objects.filter(distribution=distribution, state="waiting").count()
    assert 1 <= waiting <= 8
    deliveries = Delivery.objects.filter(distribution=distribution)
    targets = list(distribution.targets.all())
    assert (
        len(targets) == 2
        and deliveries.count()
        == Area.objects.filter(kind=Area.Kind.COMPOUND, parent__in=targets).count()
    )
    states = dict(deliveries.values_list("state").annotate(n=Count("pk")))
    assert states.get(Delivery.State.DONE) == 1 and states.get(Delivery.State.RECEIVING) == 1
    assert GateReceipt.objects.filter(delivery__distribution=distribution).count() == 3
    bags = Bag.objects.filter(distribution=distribution)
    handed = Handover.objects.filter(bag__distribution=distribution).count()
    assert 0.35 <= handed / bags.count() <= 0.65
    assert 1 <= bags.filter(state=Bag.State.UNCOLLECTED).count() <= 10
    # Coverage spans two days; the ledger adds up in every compound of the street.
    coverage = reports.coverage(distribution, distribution.organiser)
    assert coverage.total.reached == handed and len(coverage.days) >= 2
    compounds = reports.distribution_compounds(distribution, distribution.organiser)
    assert all(row.balanced for row in reports.bag_ledger(compounds))

    before = (Bag.objects.count(), Handover.objects.count(), Distribution.objects.count())
    again = demo_distribution(
        result.district,
        street_name="王寨街道",
        phones={"street": fancheng.account_phone(3), "liaison": fancheng.account_phone(5)},
    )
    assert again == 0
    assert (Bag.objects.count(), Handover.objects.count(), Distribution.objects.count()) == before
