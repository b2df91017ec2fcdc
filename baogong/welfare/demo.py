"""Demo special-care residents for the demo community staff (…0004) and volunteer (…0006).

Everyone the demo city flagged as special-care in the staff's community gets a
record, plus the first residents of the volunteer's building (assigned to that
volunteer), in several categories. Calls are recorded at past moments through
the same services, so some people are done today, some due and some overdue,
one was not reached twice (a home visit), one call was urgent, and needs are
open, in hand (door delivery, medicine purchase) or met. No demo order is placed
for a need: the demo rounds' orders are counted channel by channel elsewhere.
Idempotent: nothing is added when the community already has records.
"""

from __future__ import annotations

import datetime as dt
import itertools

from django.utils import timezone

from baogong.accounts.models import Role, RoleGrant, User
from baogong.areas.models import Area, Resident
from baogong.core.errors import DomainError
from baogong.welfare import services
from baogong.welfare.models import (
    Category,
    CheckIn,
    Hearing,
    Mobility,
    Need,
    NeedCategory,
    SpecialCare,
    Task,
)

VOLUNTEER_RESIDENTS = 8  # records assigned to the demo volunteer
OTHER_RESIDENTS = 16  # more records in the community, so the lists have a few pages' worth
_CATEGORY_SETS = (
    [Category.ELDERLY_ALONE, Category.CHRONIC_ILLNESS],
    [Category.DISABLED],
    [Category.ELDERLY_ALONE],
    [Category.PREGNANT],
    [Category.HARDSHIP, Category.CHILD_IN_DIFFICULTY],
    [Category.CHRONIC_ILLNESS],
    [Category.ELDERLY_ALONE, Category.DISABLED],
    [Category.HARDSHIP],
)
_MEDICINES = ("硝苯地平缓释片", "二甲双胍", "", "阿司匹林肠溶片", "", "胰岛素")


def demo_welfare(district: Area, *, staff_phone: str, volunteer_phone: str) -> int:
    """Add the demo records under `district`; return how many were made (0 when present)."""
    staff = User.objects.filter(phone=staff_phone).first()
    volunteer = User.objects.filter(phone=volunteer_phone).first()
    if staff is None or volunteer is None:
        return 0
    community = _granted_area(staff, Role.COMMUNITY_STAFF, district)
    building = _granted_area(volunteer, Role.VOLUNTEER, district)
    if community is None or building is None:
        return 0
    if SpecialCare.objects.filter(household__building__path__startswith=community.path).exists():
        return 0
    mine = list(
        Resident.objects.filter(household__building=building).order_by(
            "household__unit", "household__room", "pk"
        )[:VOLUNTEER_RESIDENTS]
    )
    flagged = list(
        Resident.objects.filter(
            household__building__path__startswith=community.path, special_group=True
        )
        .exclude(household__building=building)
        .order_by("pk")[:OTHER_RESIDENTS]
    )
    cares = []
    for n, resident in enumerate(itertools.chain(mine, flagged)):
        assigned = n < len(mine)
        categories = _CATEGORY_SETS[n % len(_CATEGORY_SETS)]
        if resident.special_group and Category.ELDERLY_ALONE not in categories:
            categories = [Category.ELDERLY_ALONE, *categories]
        cares.append(
            services.care_save(
                resident=resident,
                details=services.CareDetails(
                    categories=categories,
                    mobility=list(Mobility.values)[n % 4],
                    medicines=_MEDICINES[n % len(_MEDICINES)],
                    language="襄阳话" if n % 3 == 0 else "",
                    hearing=Hearing.HARD if n % 4 == 1 else Hearing.NORMAL,
                    emergency_name=f"家属{n + 1}号（演示）",
                    emergency_phone=f"1701999{n:04d}",
                    consent=True,
                    consent_date=timezone.localdate() - dt.timedelta(days=20),
                    review_date=timezone.localdate() + dt.timedelta(days=10 if n % 5 else -1),
                    needs_door_delivery=assigned or resident.needs_door_delivery,
                    volunteer_ids=[volunteer.pk] if assigned else [],
                ),
                by=staff,
                reason="load_demo",
            )
        )
    _calls(cares[: len(mine)], volunteer)
    _calls(cares[len(mine) :], staff)
    return len(cares)


def _granted_area(user: User, role: str, district: Area) -> Area | None:
    grant = RoleGrant.objects.filter(
        user=user, role=role, area__path__startswith=district.path
    ).first()
    return grant.area if grant is not None else None


def _calls(cares: list[SpecialCare], caller: User) -> None:
    """Past calls in a fixed pattern: overdue, due today, done today, needs in every state."""
    earlier_today = _earlier_today()
    ago = [5, 3, 0, 4, 1, 6, 3, 0]  # days since the last call → overdue / due / done
    for n, care in enumerate(cares):
        days = ago[n % len(ago)]
        when = earlier_today - dt.timedelta(days=days)
        if n % 8 == 3:  # not reached twice: a home visit task
            for days_ago in (1, 0):
                services.checkin_record(
                    care=care,
                    outcome=CheckIn.Outcome.NOT_REACHED,
                    by=caller,
                    now=earlier_today - dt.timedelta(days=days_ago),
                )
            continue
        needs = _needs_for(n)
        wellbeing = (
            CheckIn.Wellbeing.URGENT
            if n % 8 == 5
            else CheckIn.Wellbeing.NEEDS_HELP
            if needs
            else CheckIn.Wellbeing.FINE
        )
        result = services.checkin_record(
            care=care,
            outcome=CheckIn.Outcome.REACHED if n % 6 else CheckIn.Outcome.OTHER_ANSWERED,
            wellbeing=wellbeing,
            needs=needs,
            by=caller,
            now=when,
            note="血压偏高，已提醒按时服药" if wellbeing == CheckIn.Wellbeing.URGENT else "",
        )
        _move_needs(result.needs, n, caller)


def _earlier_today() -> dt.datetime:
    """Two hours ago, but never before today's local midnight.

    The call pattern counts in local days: shortly after midnight, "two hours
    ago" would be yesterday, and "done today" would become "due".
    """
    now = timezone.localtime()
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
    return max(now - dt.timedelta(hours=2), midnight)


def _needs_for(n: int) -> list[services.NeedLine]:
    lines = {
        0: [
            services.NeedLine(NeedCategory.VEGETABLES, "青菜", 2),
            services.NeedLine(NeedCategory.EGGS, "鸡蛋", 1),
        ],
        1: [services.NeedLine(NeedCategory.MEDICINE, "降压药", 1)],
        2: [services.NeedLine(NeedCategory.GRAIN, "大米", 1)],
        4: [services.NeedLine(NeedCategory.MILK, "牛奶", 2)],
        5: [services.NeedLine(NeedCategory.MEDICAL_HELP, "上门测血压", 1)],
        6: [
            services.NeedLine(NeedCategory.WATER, "桶装水", 2),
            services.NeedLine(NeedCategory.OIL, "食用油", 1),
        ],
    }
    return lines.get(n % 8, [])


def _move_needs(needs: list[Need], n: int, by: User) -> None:
    """Leave some needs open, hand some on, meet some: the ledger shows every state."""
    for need in needs:
        try:
            if need.category == NeedCategory.MEDICINE:
                services.need_task(need=need, kind=Task.Kind.MEDICINE_PURCHASE, by=by)
            elif need.category == NeedCategory.WATER:
                services.need_task(need=need, kind=Task.Kind.DOOR_DELIVERY, by=by)
            elif need.category == NeedCategory.GRAIN and n >= 8:
                services.need_close(need=need, state=Need.State.MET, by=by)
        except DomainError:
            continue  # a record without a volunteer: the need stays open for staff
