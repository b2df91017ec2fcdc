"""The demo's compound mid-pickup (lastmile.demo.demo_pickup)."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command

from baogong.areas.models import Area
from baogong.demo import fancheng
from baogong.lastmile.demo import demo_pickup
from baogong.lastmile.models import Bag, Delivery, Handover, PickupSlot
from baogong.notify.models import Message

pytestmark = pytest.mark.django_db


def test_demo_has_a_compound_mid_pickup_and_a_second_run_changes_nothing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    call_command("load_demo", stdout=StringIO())
    delivery = Delivery.objects.get(slots__state=PickupSlot.State.CALLED)
    assert delivery.state == Delivery.State.PICKUP
    slots = list(delivery.slots.order_by("position"))
    assert [s.state for s in slots[:2]] == ["done", "called"]
    assert delivery.current_slot == slots[1]
    assert all(s.notified_at for s in slots)
    first, second = (
        delivery.bags.filter(building=s.building, door_delivery=False).exclude(state=Bag.State.VOID)
        for s in slots[:2]
    )
    assert first.filter(state=Bag.State.WAITING).count() == 1
    # The building being called has households still to come, and some have collected.
    collected = second.filter(state=Bag.State.COLLECTED).count()
    assert collected == min(2, second.count() - 1)
    assert second.filter(state=Bag.State.WAITING).exists()
    assert Message.objects.filter(kind="pickup_now").exists()

    counts = (Handover.objects.count(), Message.objects.count(), PickupSlot.objects.count())
    district = Area.objects.get(parent__isnull=True, name="樊城区")
    assert demo_pickup(district, liaison_phone=fancheng.account_phone(5)) == delivery
    assert (Handover.objects.count(), Message.objects.count(), PickupSlot.objects.count()) == (
        counts
    )
