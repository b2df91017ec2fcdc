"""The demo district has requisitions at every stage, one settled and one overdue."""

from __future__ import annotations

import pytest

from baogong.demo import fancheng
from baogong.demo.services import demo_load
from baogong.requisitions.demo import demo_requisitions
from baogong.requisitions.models import (
    AllocationOrder,
    DistributionEntry,
    Requisition,
    Settlement,
    StreetRequest,
)

pytestmark = pytest.mark.django_db


def test_demo_has_every_stage_and_loading_again_adds_nothing():
    result = demo_load(by=None)
    assert set(Requisition.objects.values_list("state", flat=True)) == {
        "draft",
        "submitted",
        "reviewed",
        "consolidated",
    }
    assert {"submitted", "approved", "allocated"} <= set(
        StreetRequest.objects.values_list("state", flat=True)
    )
    assert {"issued", "confirmed", "received"} <= set(
        AllocationOrder.objects.values_list("state", flat=True)
    )
    settlements = list(Settlement.objects.all())
    assert sum(s.state == "paid" for s in settlements) == 1
    assert sum(s.is_overdue for s in settlements) == 1
    assert DistributionEntry.objects.filter(to_resident__isnull=False).exists()
    assert AllocationOrder.objects.filter(supplier__name="武商").count() == 5
    before = Requisition.objects.count()
    made = demo_requisitions(
        result.district,
        phones={
            "community": fancheng.account_phone(4),
            "street": fancheng.account_phone(3),
            "bureau": fancheng.account_phone(7),
            "supplier": fancheng.account_phone(8),
        },
        supplier_name="武商",
    )
    assert made == 0 and Requisition.objects.count() == before
