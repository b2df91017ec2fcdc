"""Rows of the permission matrix for the last mile's slots pages and calling screen.

Only people who run the compound's delivery reach them; building volunteers verify
pickups on the handover page instead.
"""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from baogong.accounts.models import Role
from baogong.lastmile.bags import NewBag, bags_add, round_deliveries_sync
from baogong.lastmile.slots import slots_propose
from tests.factories import HouseholdFactory

RUN = {Role.DISTRICT_ADMIN, Role.STREET_STAFF, Role.COMMUNITY_STAFF, Role.LIAISON}


def build(side) -> dict:
    delivery = next(
        d for d in round_deliveries_sync(side.round) if d.compound_id == side.compound.pk
    )
    # A household of its own: other apps' rows may make the side's household a door delivery.
    household = HouseholdFactory(building=side.building, unit="1", room="901")
    bags_add(delivery, [NewBag(household.pk, side.building.pk, f"S{household.pk:06d}")])
    slots = slots_propose(
        delivery=delivery, start_at=timezone.now() + dt.timedelta(hours=1), by=None
    )
    return {"slots_delivery": delivery, "slot": slots[0]}


def _delivery(side) -> dict:
    return {"pk": side.extra["slots_delivery"].pk}


def _slot(side) -> dict:
    return {"pk": side.extra["slot"].pk}


TARGETS: dict = {
    "lastmile:slots": ("get", _delivery, RUN),
    "lastmile:slots_notify": ("post", _delivery, RUN),
    "lastmile:slot_move": ("post", _slot, RUN),
    "lastmile:slot_edit": ("get", _slot, RUN),
    "lastmile:calling": ("get", _delivery, RUN),
    "lastmile:calling_status": ("get", _delivery, RUN),
    "lastmile:call_next": ("post", _delivery, RUN),
}
