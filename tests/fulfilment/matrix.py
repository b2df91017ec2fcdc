"""Fulfilment pages in the permission matrix (tests/test_permission_matrix.py).

Sheets and labels list every household of a round: the round's supplier and the staff who
run the round for its areas reach them; residents, volunteers and the bureau never do.
"""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from baogong.accounts.models import Role
from baogong.fulfilment import transport
from baogong.fulfilment.documents import document_build, documents_request
from tests.fulfilment.transport_world import make_fleet, plan_trip, stop_at

RUNS_ROUND = {Role.DISTRICT_ADMIN, Role.STREET_STAFF, Role.COMMUNITY_STAFF, Role.LIAISON}


def build(side) -> dict:
    [document] = documents_request(side.round, by=None, kinds=["pick_list"], inline=False)
    document_build(document.pk, document.generation)
    return {"document": document, **build_transport(side)}


TARGETS = {
    "fulfilment:round_consolidation": (
        "get",
        lambda s: {"pk": s.round.pk},
        RUNS_ROUND | {Role.SUPPLIER},
    ),
    "fulfilment:round_confirm": ("get", lambda s: {"pk": s.round.pk}, {Role.SUPPLIER}),
    "fulfilment:shortage_rule": ("post", lambda s: {"pk": s.round.pk}, RUNS_ROUND),
    "fulfilment:documents_prepare": (
        "post",
        lambda s: {"pk": s.round.pk},
        RUNS_ROUND | {Role.SUPPLIER},
    ),
    "fulfilment:documents_status": (
        "get",
        lambda s: {"pk": s.round.pk},
        RUNS_ROUND | {Role.SUPPLIER},
    ),
    "fulfilment:document_download": (
        "get",
        lambda s: {"pk": s.extra["document"].pk},
        RUNS_ROUND | {Role.SUPPLIER},
    ),
}
NOT_OBJECT_SCOPED: set[str] = set()


# --- transport (issue 6): a supplier's fleet with a pass over the side's street, a planned
# trip to the side's compound gate, an entry request for the compound. ---------------------
SITE_STAFF = {Role.DISTRICT_ADMIN, Role.STREET_STAFF, Role.COMMUNITY_STAFF, Role.LIAISON}
PASS_ADMINS = {Role.DISTRICT_ADMIN, Role.STREET_STAFF}


def build_transport(side) -> dict:
    now = timezone.now()
    fleet = make_fleet(side.supplier, side.street, now=now, plate=f"鄂F{side.street.pk:05d}")
    trip = plan_trip(fleet, [stop_at(side.compound, now=now)], now=now)
    entry = transport.entry_request_file(
        site=side.compound,
        vehicle=fleet.vehicle,
        crew=[fleet.driver],
        cargo="保供套餐",
        arrive_from=now + dt.timedelta(days=1),
        arrive_to=now + dt.timedelta(days=1, hours=2),
        by=None,
        now=now,
    )
    return {"fleet": fleet, "trip": trip, "stop": trip.stops.get(), "entry": entry}


def _fleet(s):
    return s.extra["fleet"]


TARGETS.update(
    {
        "fulfilment:vehicle_edit": ("get", lambda s: {"pk": _fleet(s).vehicle.pk}, {Role.SUPPLIER}),
        "fulfilment:crew_edit": ("get", lambda s: {"pk": _fleet(s).driver.pk}, {Role.SUPPLIER}),
        "fulfilment:pass_detail": (
            "get",
            lambda s: {"pk": _fleet(s).vehicle_pass.pk},
            PASS_ADMINS | {Role.SUPPLIER},
        ),
        "fulfilment:pass_pdf": (
            "get",
            lambda s: {"pk": _fleet(s).vehicle_pass.pk},
            PASS_ADMINS | {Role.SUPPLIER},
        ),
        "fulfilment:pass_revoke": (
            "post",
            lambda s: {"pk": _fleet(s).vehicle_pass.pk},
            PASS_ADMINS,
        ),
        "fulfilment:entry_detail": (
            "get",
            lambda s: {"pk": s.extra["entry"].pk},
            SITE_STAFF | {Role.SUPPLIER},
        ),
        "fulfilment:trip_detail": (
            "get",
            lambda s: {"pk": s.extra["trip"].pk},
            SITE_STAFF | {Role.SUPPLIER},
        ),
        "fulfilment:stop_add": ("post", lambda s: {"pk": s.extra["trip"].pk}, {Role.SUPPLIER}),
        # Crew health declarations are the fleet's own business.
        "fulfilment:trip_attestation": (
            "get",
            lambda s: {"pk": s.extra["trip"].pk, "member_pk": _fleet(s).driver.pk},
            {Role.SUPPLIER},
        ),
        "fulfilment:trip_action": (
            "post",
            lambda s: {"pk": s.extra["trip"].pk, "action": "dispatch"},
            {Role.SUPPLIER},
        ),
        "fulfilment:stop_detail": (
            "get",
            lambda s: {"pk": s.extra["stop"].pk},
            SITE_STAFF | {Role.SUPPLIER},
        ),
        "fulfilment:stop_action": (
            "post",
            lambda s: {"pk": s.extra["stop"].pk, "action": "arrive"},
            SITE_STAFF | {Role.SUPPLIER},
        ),
        "fulfilment:stop_disinfection": (
            "post",
            lambda s: {"pk": s.extra["stop"].pk},
            SITE_STAFF | {Role.SUPPLIER},
        ),
    }
)
NOT_OBJECT_SCOPED |= {
    # Lists and creation forms: scoped to the user's fleets and areas, tested page by page.
    "fulfilment:trip_list",
    "fulfilment:trip_create",
    "fulfilment:vehicle_list",
    "fulfilment:vehicle_create",
    "fulfilment:crew_create",
    "fulfilment:pass_list",
    "fulfilment:pass_issue",
    "fulfilment:entry_list",
    "fulfilment:entry_create",
    # Public: a checkpoint scans the pass; the token is unguessable and the page shows
    # validity, plate and expiry only (tests/fulfilment/test_passes.py).
    "fulfilment:pass_verify",
}
