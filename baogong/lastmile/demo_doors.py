"""Demo volunteers of the liaison's compound: teams, shifts, work passes and door tasks.

Every building gets two supply volunteers except the last, which is left below target
so the coverage page has something to show; the demo volunteer's login is one of the
sealed building's two. Gate duty and a transfer point have today's shifts; passes are
issued, one revoked. The door-delivery bags of the compound's unfinished deliveries (the
pickup and distribution demos make them) become tasks. Idempotent: a second run changes nothing.
"""

from __future__ import annotations

import datetime as dt
import random

from django.db import transaction
from django.utils import timezone

from baogong.accounts.models import Role, RoleGrant, User
from baogong.areas.models import Area, Gate
from baogong.demo import names
from baogong.lastmile.doors import door_tasks_assign
from baogong.lastmile.models import Delivery, Shift, Volunteer, WorkPass
from baogong.lastmile.volunteers import buildings_of
from baogong.lastmile.workpasses import work_pass_issue, work_pass_revoke

SEED = 20220406
AVAILABILITY = ["全天", "工作日18:00后", "周末全天", "上午"]


@transaction.atomic
def demo_door_tasks(*, volunteer_phone: str) -> int:
    """Register the demo compound's volunteers (once) and assign door tasks. Returns the
    number of door tasks assigned by this run."""
    grant = (
        RoleGrant.objects.filter(user__phone=volunteer_phone, role=Role.VOLUNTEER)
        .select_related("area__parent", "user")
        .first()
    )
    if grant is None or grant.area is None or grant.area.parent is None:
        return 0
    building, user = grant.area, grant.user
    compound = building.parent
    if not Volunteer.objects.filter(compound=compound).exists():
        _register(compound, building, user)
    deliveries = Delivery.objects.filter(compound=compound).exclude(state=Delivery.State.DONE)
    return sum(door_tasks_assign(delivery=d, by=None) for d in deliveries.order_by("pk"))


def _register(compound: Area, sealed: Area, user: User) -> None:
    rng = random.Random(SEED + compound.pk)
    numbers = iter(range(1, 10_000))

    def add(building: Area | None, team: str, **fields) -> Volunteer:
        n = next(numbers)
        return Volunteer.objects.create(
            name=fields.pop("name", None) or names.person_name(rng),
            phone=f"1702{compound.pk % 1000:03d}{n:04d}",
            compound=compound,
            building=building,
            team=team,
            availability=rng.choice(AVAILABILITY),
            **fields,
        )

    buildings = buildings_of(compound)
    supply = []
    for index, building in enumerate(buildings):
        if building == sealed:
            supply.append(add(building, Volunteer.Team.SUPPLY, name=user.name, user=user))
            supply.append(add(building, Volunteer.Team.SUPPLY))
        elif index == len(buildings) - 1 and building != sealed:
            supply.append(add(building, Volunteer.Team.SUPPLY))  # below target on purpose
        else:
            supply += [add(building, Volunteer.Team.SUPPLY) for _ in range(2)]
    add(
        buildings[0] if buildings else None,
        Volunteer.Team.SUPPLY,
        health=Volunteer.Health.ISOLATING,
    )
    guards = [add(None, Volunteer.Team.GATE_DUTY) for _ in range(3)]
    add(None, Volunteer.Team.PERSUASION)
    add(None, Volunteer.Team.PATROL)
    add(None, Volunteer.Team.TRANSPORT, active=False)

    gate, _ = Gate.objects.get_or_create(
        compound=compound, name="南门", defaults={"kind": Gate.Kind.GATE}
    )
    station, _ = Gate.objects.get_or_create(
        compound=compound, name="小区中转站", defaults={"kind": Gate.Kind.TRANSFER_STATION}
    )
    today = timezone.localdate()
    tz = timezone.get_current_timezone()
    for volunteer, place, start, end in [
        (guards[0], gate, 8, 14),
        (guards[1], gate, 14, 20),
        (guards[2], station, 9, 17),
    ]:
        Shift.objects.create(
            volunteer=volunteer,
            place=place,
            starts_at=dt.datetime.combine(today, dt.time(start), tzinfo=tz),
            ends_at=dt.datetime.combine(today, dt.time(end), tzinfo=tz),
        )

    holders = [v for v in supply if v.building_id == sealed.pk] + guards[:2]
    for volunteer in holders:
        work_pass_issue(
            volunteer=volunteer, valid_from=today, valid_to=today + dt.timedelta(days=14), by=None
        )
    revoked = WorkPass.objects.filter(volunteer=guards[1]).first()
    if revoked is not None:
        work_pass_revoke(work_pass=revoked, by=None, reason="已离岗")
