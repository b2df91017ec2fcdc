"""Special-care pages in the permission matrix (see tests/test_permission_matrix.py).

Details are for community staff of the record's community and its assigned
volunteers only. The matrix's inside volunteer is granted on the building but
not assigned, so it reaches no record: the rule says assignment, not grant.
"""

from __future__ import annotations

from baogong.accounts.models import Role
from baogong.welfare import services
from baogong.welfare.models import CheckIn, NeedCategory, Task
from tests.factories import ResidentFactory

REGISTER = {Role.DISTRICT_ADMIN, Role.STREET_STAFF, Role.COMMUNITY_STAFF}
STAFF = {Role.COMMUNITY_STAFF}


def build(side) -> dict:
    # A resident of our own: the matrix deletes side.resident (areas:resident_delete) first.
    resident = ResidentFactory(household=side.household, name="特殊关爱测试居民")
    care = services.care_save(
        resident=resident,
        details=services.CareDetails(categories=["elderly_alone"], volunteer_ids=[]),
        by=None,
    )
    call = services.checkin_record(
        care=care,
        outcome=CheckIn.Outcome.REACHED,
        wellbeing=CheckIn.Wellbeing.NEEDS_HELP,
        needs=[services.NeedLine(NeedCategory.MEDICINE, "降压药")],
        by=None,
    )
    need = call.needs[0]
    task = services.need_task(need=need, kind=Task.Kind.MEDICINE_PURCHASE, by=None)
    return {"care": care, "need": need, "task": task, "care_resident": resident}


TARGETS = {
    "welfare:dashboard": ("get", lambda s: {"pk": s.community.pk}, REGISTER),
    "welfare:people": ("get", lambda s: {"pk": s.community.pk}, STAFF),
    "welfare:area_calls": ("get", lambda s: {"pk": s.community.pk}, STAFF),
    "welfare:needs": ("get", lambda s: {"pk": s.community.pk}, STAFF),
    "welfare:access_log": ("get", lambda s: {"pk": s.community.pk}, STAFF),
    # Without ?personal=1: a list without names, for anyone who sees the area's counts.
    "welfare:export": ("get", lambda s: {"pk": s.community.pk}, REGISTER),
    "welfare:import": ("get", lambda s: {"pk": s.community.pk}, STAFF),
    "welfare:care_edit": ("get", lambda s: {"pk": s.extra["care_resident"].pk}, STAFF),
    "welfare:care_detail": ("get", lambda s: {"pk": s.extra["care"].pk}, STAFF),
    "welfare:call": ("get", lambda s: {"pk": s.extra["care"].pk}, STAFF),
    "welfare:need_order": ("get", lambda s: {"pk": s.extra["need"].pk}, STAFF),
    # Without an action the need is left as it is (the page says to choose one).
    "welfare:need_act": ("post", lambda s: {"pk": s.extra["need"].pk}, STAFF),
    "welfare:task_done": ("post", lambda s: {"pk": s.extra["task"].pk}, STAFF),
    "welfare:care_remove": ("post", lambda s: {"pk": s.extra["care"].pk}, STAFF),
}
NOT_OBJECT_SCOPED = {
    # The user's own calls and tasks and the areas of their own grants.
    "welfare:home",
    # An empty workbook with headings: no data.
    "welfare:import_template",
}
# Session sign-in only: API tokens (suppliers, platforms) get 401 before any lookup, and
# signed-in users are scoped by queries.visible_cares (tests/welfare/test_api.py).
API_UNSCOPED = {"api:welfare_care", "api:welfare_calls"}
