"""Who reaches which delivery, and the counts the delivery pages show.

Liaisons and staff above them run a compound's delivery (gate receipt, follow-up);
building volunteers hand bags over in their building. Both find deliveries through
the compound: a volunteer's grant on a building reaches the delivery of its compound,
but only the bags of their own building.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.db.models import Count, Q, QuerySet

from baogong.accounts.models import Role
from baogong.accounts.scoping import ROUND_ROLES, Scope, scope_for
from baogong.core.errors import NotAllowed, NotFound
from baogong.lastmile.models import Bag, Delivery

if TYPE_CHECKING:
    from baogong.accounts.models import User

# Run a compound's delivery: gate receipt, follow-up list, refreshing a round's bags.
RUN_ROLES = ROUND_ROLES
# Verify pickups and hand bags over (volunteers within their building).
HANDOVER_ROLES = ROUND_ROLES | frozenset({Role.VOLUNTEER})


def deliveries_for(scope: Scope, roles: frozenset[str] = HANDOVER_ROLES) -> QuerySet[Delivery]:
    """Deliveries whose compound is within, or contains, one of the user's grants."""
    qs = Delivery.objects.select_related("compound", "round", "distribution")
    if scope.superuser:
        return qs
    paths = scope.paths_for(roles)
    if not paths:
        return qs.none()
    q = Q()
    for path in paths:
        # A grant on a building reaches its compound's delivery (the compound's path is a
        # prefix of the building's); a grant above reaches every compound below it.
        q |= Q(compound__path__startswith=path) | Q(compound__path__in=_ancestors(path))
    return qs.filter(q)


def _ancestors(path: str) -> list[str]:
    """The paths of a node and its ancestors: materialised paths end in '/' per level."""
    parts = [p for p in path.split("/") if p]
    lead = "/" if path.startswith("/") else ""
    return [lead + "/".join(parts[:n]) + "/" for n in range(1, len(parts) + 1)]


def delivery_for(user: User, pk: int, roles: frozenset[str] = HANDOVER_ROLES) -> Delivery:
    """The delivery if `user` reaches it with one of `roles`, else NotFound (never data)."""
    try:
        return deliveries_for(scope_for(user), roles).get(pk=pk)
    except (Delivery.DoesNotExist, ValueError, TypeError):
        raise NotFound() from None


def runs_delivery(user: User, delivery: Delivery) -> bool:
    """Whether `user` runs the whole compound's delivery (not only a building's bags)."""
    scope = scope_for(user)
    path = delivery.compound.path
    return scope.superuser or any(path.startswith(p) for p in scope.paths_for(RUN_ROLES))


def require_run(user: User | None, delivery: Delivery) -> None:
    if user is not None and not runs_delivery(user, delivery):
        raise NotAllowed()


def reaches_bag(user: User, bag: Bag) -> bool:
    """Whether `user` may hand this bag over: runs the compound, or volunteers in its building."""
    scope = scope_for(user)
    path = bag.building.path
    return scope.superuser or any(path.startswith(p) for p in scope.paths_for(HANDOVER_ROLES))


def visible_bags(user: User, delivery: Delivery) -> QuerySet[Bag]:
    """The delivery's bags this user works with: all for those running it, else their buildings."""
    bags = delivery.bags.select_related("household", "building")
    if runs_delivery(user, delivery):
        return bags
    q = Q(pk__in=[])
    for path in scope_for(user).paths_for(HANDOVER_ROLES):
        q |= Q(building__path__startswith=path)
    return bags.filter(q)


@dataclass(frozen=True)
class BagCounts:
    expected: int
    unchecked: int
    received: int
    missing: int
    damaged: int
    wrong: int
    handed_over: int
    waiting: int
    uncollected: int
    door: int
    withdrawn: int

    @property
    def shortfall(self) -> int:
        return self.missing + self.damaged + self.wrong


def bag_counts(bags: QuerySet[Bag]) -> BagCounts:
    """Counts in one query. Expected = every bag not withdrawn before the gate check."""
    live = ~Q(state=Bag.State.VOID) | ~Q(gate_state=Bag.GateState.EXPECTED)
    gate = Bag.GateState
    row = bags.aggregate(
        expected=Count("pk", filter=live),
        unchecked=Count("pk", filter=Q(state=Bag.State.WAITING, gate_state=gate.EXPECTED)),
        received=Count("pk", filter=Q(gate_state=gate.RECEIVED)),
        missing=Count("pk", filter=Q(gate_state=gate.MISSING)),
        damaged=Count("pk", filter=Q(gate_state=gate.DAMAGED)),
        wrong=Count("pk", filter=Q(gate_state=gate.WRONG)),
        handed_over=Count("pk", filter=Q(state__in=[Bag.State.COLLECTED, Bag.State.DELIVERED])),
        waiting=Count("pk", filter=Q(state=Bag.State.WAITING)),
        uncollected=Count("pk", filter=Q(state=Bag.State.UNCOLLECTED)),
        door=Count("pk", filter=live & Q(door_delivery=True)),
        withdrawn=Count("pk", filter=Q(state=Bag.State.VOID, gate_state=gate.EXPECTED)),
    )
    return BagCounts(**row)
