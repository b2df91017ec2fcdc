"""Rows of the permission matrix for the volunteer register, shifts and work passes.

Each side gets a supply volunteer of its building, a gate with one shift, and a work pass.
"""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from baogong.accounts.models import Role
from baogong.areas.models import Gate
from baogong.lastmile import volunteers, workpasses

STAFF = {Role.DISTRICT_ADMIN, Role.STREET_STAFF, Role.COMMUNITY_STAFF, Role.LIAISON}
PASSES = {Role.DISTRICT_ADMIN, Role.STREET_STAFF, Role.COMMUNITY_STAFF}


def build(side) -> dict:
    volunteer = volunteers.volunteer_save(
        compound=side.compound,
        data=volunteers.VolunteerData(
            name="王志愿", phone=f"1701000{side.compound.pk % 10000:04d}", building=side.building
        ),
        by=None,
    )
    gate = Gate.objects.create(compound=side.compound, name="南门")
    start = timezone.now().replace(microsecond=0)
    shift = volunteers.shift_create(
        volunteer=volunteer,
        place=gate,
        starts_at=start,
        ends_at=start + dt.timedelta(hours=4),
        by=None,
    )
    today = timezone.localdate()
    work_pass = workpasses.work_pass_issue(
        volunteer=volunteer, valid_from=today, valid_to=today + dt.timedelta(days=7), by=None
    )
    return {"volunteer_record": volunteer, "shift": shift, "work_pass": work_pass}


def _x(name):
    return lambda s: {"pk": s.extra[name].pk}


def _compound(s):
    return {"pk": s.compound.pk}


TARGETS = {
    "lastmile:volunteers": ("get", _compound, STAFF),
    "lastmile:volunteer_create": ("get", _compound, STAFF),
    "lastmile:volunteer_edit": ("get", _x("volunteer_record"), STAFF),
    "lastmile:volunteer_coverage": ("get", _compound, STAFF),
    "lastmile:shifts": ("get", _compound, STAFF),
    "lastmile:shift_delete": ("post", _x("shift"), STAFF),
    "lastmile:workpasses": ("get", _compound, PASSES),
    "lastmile:workpass_issue": ("get", _x("volunteer_record"), PASSES),
    # Without a reason the revocation is refused with a message (nothing changes).
    "lastmile:workpass_revoke": ("post", _x("work_pass"), PASSES),
    "lastmile:workpass_pdf": ("get", _x("work_pass"), PASSES),
}
NOT_OBJECT_SCOPED = {
    # Lists only the compounds of the user's own grants (tests/lastmile/test_volunteers.py).
    "lastmile:volunteer_home",
    # Public on purpose: the QR's page shows validity, masked name, team, valid-to (tested).
    "lastmile:workpass_verify",
}
