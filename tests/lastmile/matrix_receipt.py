"""Rows of the permission matrix for deliveries, gate receipt, handover and follow-up.

Each side's round gets its delivery (round_deliveries_sync is idempotent, the doors
rows make the same one). POSTs without a code or in the wrong state are refused with
a message on the page (a redirect), which is still "reached".
"""

from __future__ import annotations

from baogong.accounts.models import Role
from baogong.lastmile.bags import round_deliveries_sync
from baogong.lastmile.models import Bag

RUN = {Role.DISTRICT_ADMIN, Role.STREET_STAFF, Role.COMMUNITY_STAFF, Role.LIAISON}


def build(side) -> dict:
    (delivery,) = round_deliveries_sync(side.round)
    bag = Bag.objects.get(delivery=delivery, household=side.household)
    return {"receipt_delivery": delivery, "receipt_bag": bag}


def _delivery(s) -> dict:
    return {"pk": s.extra["receipt_delivery"].pk}


TARGETS = {
    "lastmile:delivery": ("get", _delivery, RUN | {Role.VOLUNTEER}),
    "lastmile:receipt": ("get", _delivery, RUN),
    "lastmile:receipt_action": (
        "post",
        lambda s: {**_delivery(s), "action": "check"},
        RUN,
    ),
    "lastmile:handover": ("get", _delivery, RUN | {Role.VOLUNTEER}),
    "lastmile:followup": ("get", _delivery, RUN),
    "lastmile:pickup_close": ("post", _delivery, RUN),
    "lastmile:followup_action": ("post", lambda s: {"pk": s.extra["receipt_bag"].pk}, RUN),
    "lastmile:round_deliveries": ("post", lambda s: {"pk": s.round.pk}, RUN | {Role.SUPPLIER}),
}
NOT_OBJECT_SCOPED = {
    # The deliveries in the user's own scope (tests/lastmile/test_receipt_views.py).
    "lastmile:delivery_list",
}
