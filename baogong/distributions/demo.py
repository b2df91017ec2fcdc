"""Demo data: a government package distribution half-way through in 王寨街道.

The street office serves its first two communities (three compounds, ~380 households):
planned with household-size bands and a little less stock than needed (so a few
households wait for the next batch), committed into one delivery per compound, and
then walked through the real services: two compounds received at the gate with pickup
slots, about half of all bags handed over across two days, the first compound's pickup
closed with a few bags left uncollected, and the third compound's gate receipt under
way. Every handover goes through `bag_hand_over`, which is what costs time, hence the
two communities rather than the whole street. Idempotent: nothing is added once the
street has the demo distribution.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

from django.utils import timezone

from baogong.accounts.models import User
from baogong.areas.models import Area
from baogong.distributions import planning, services
from baogong.distributions.models import Distribution
from baogong.lastmile.followup import delivery_pickup_close
from baogong.lastmile.handover import bag_hand_over
from baogong.lastmile.models import Bag, Delivery, Handover
from baogong.lastmile.queries import runs_delivery
from baogong.lastmile.receipt import bags_check, receipt_finish, receipt_start
from baogong.lastmile.slots import slots_propose

TITLE = "第3批政府保供包（米面油）"
CONTENTS = "大米 5kg ×1\n面条 1kg ×1\n食用油 1.8L ×1\n鸡蛋 10枚 ×1"
BANDS = (planning.Band(1, 2, 1), planning.Band(3, 4, 2), planning.Band(5, None, 3))
# Packs short of what the street needs: the last households in the stated order wait.
SHORT_BY = 8
# Communities of the street the distribution serves (the first ones, in tree order).
COMMUNITIES = 2
# Share of each received compound's bags handed over, compound by compound; the first
# compound's pickup is then closed and what is left goes on the follow-up list.
HANDED_SHARE = (0.96, 0.7)


def demo_distribution(
    district: Area, *, street_name: str, phones: dict[str, str], now: dt.datetime | None = None
) -> int:
    """Walk the demo distribution half-way; return the bags handed over (0 when present)."""
    street = Area.objects.filter(parent=district, name=street_name).first()
    if street is None or Distribution.objects.filter(organiser=street, title=TITLE).exists():
        return 0
    staff = User.objects.filter(phone=phones["street"]).first()
    liaison = User.objects.filter(phone=phones["liaison"]).first()
    now = now or timezone.now()
    distribution = _planned(street, staff)
    services.distribution_commit(distribution=distribution, by=staff, now=now)
    deliveries = sorted(
        Delivery.objects.filter(distribution=distribution).select_related("compound"),
        key=lambda d: d.compound.path,
    )
    # The first compound picked up a day ago, the second in the last hours.
    starts = (now - dt.timedelta(days=1, hours=3), now - dt.timedelta(hours=3))
    handed = 0
    for index, delivery in enumerate(deliveries[: len(HANDED_SHARE)]):
        by = liaison if liaison and runs_delivery(liaison, delivery) else staff
        start = starts[index]
        _receive(delivery, by=by, when=start - dt.timedelta(hours=1))
        slots_propose(delivery=delivery, start_at=start, by=by)
        handed += _hand_over(delivery, share=HANDED_SHARE[index], by=by, start=start)
        if index == 0:
            delivery_pickup_close(delivery=delivery, by=by)
    if len(deliveries) > len(HANDED_SHARE):
        # The next compound's truck is at the gate: half its bags checked so far.
        delivery = deliveries[len(HANDED_SHARE)]
        receipt_start(delivery=delivery, by=staff, now=now)
        ids = list(delivery.bags.order_by("pk").values_list("pk", flat=True))
        bags_check(
            delivery=delivery,
            bag_ids=ids[: len(ids) // 2],
            gate_state=Bag.GateState.RECEIVED,
            by=staff,
            now=now,
        )
    return handed


def _planned(street: Area, staff: User | None) -> Distribution:
    """A draft for the street's first communities whose stock falls SHORT_BY packs below
    what the plan needs."""
    spec = services.DistributionSpec(
        title=TITLE,
        source=Distribution.Source.RESERVE,
        targets=list(Area.objects.filter(parent=street).order_by("path")[:COMMUNITIES]),
        package=services.PackageSpec("政府保供包", CONTENTS, 0),
        rule=Distribution.Rule.SIZE_BANDS,
        bands=BANDS,
    )
    distribution = services.distribution_create(spec=spec, by=staff)
    needed = sum(planning.distribution_plan(distribution).packs_needed().values())
    short = replace(spec.package, quantity=max(needed - SHORT_BY, 0))
    return services.distribution_update(
        distribution=distribution, spec=replace(spec, package=short), by=staff
    )


def _receive(delivery: Delivery, *, by: User | None, when: dt.datetime) -> None:
    receipt_start(delivery=delivery, by=by, now=when)
    ids = list(delivery.bags.order_by("pk").values_list("pk", flat=True))
    bags_check(delivery=delivery, bag_ids=ids, gate_state=Bag.GateState.RECEIVED, by=by, now=when)
    receipt_finish(delivery=delivery, by=by, now=when)


def _hand_over(delivery: Delivery, *, share: float, by: User | None, start: dt.datetime) -> int:
    """Hand over the first `share` of the pickup bags (door bags too), a minute apart."""
    bags = list(delivery.bags.select_related("building").order_by("building__path", "pk"))
    count = int(len(bags) * share)
    for minute, bag in enumerate(bags[:count]):
        method = Handover.Method.DOOR_CODE if bag.door_delivery else Handover.Method.CODE
        bag_hand_over(bag=bag, method=method, by=by, now=start + dt.timedelta(minutes=minute))
    return count
