"""Who may do what with an order's money: shared by services, views and queries.

- the household itself reports a payment;
- the round's supplier, or staff running rounds over the order's compound (ROUND_ROLES),
  confirm or reject payments, record payments, issue refunds ("collectors");
- a building volunteer over the household may record cash handed to them (to be confirmed);
- community staff and above (REGISTER_ROLES) grant waivers and subsidies.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db.models import Q

from baogong.accounts.models import Role
from baogong.accounts.scoping import REGISTER_ROLES, ROUND_ROLES, scope_for
from baogong.areas.models import Area

if TYPE_CHECKING:
    from baogong.accounts.models import User
    from baogong.orders.models import Order, Round

CASH_ROLES = frozenset({Role.VOLUNTEER})


def _under(user: User, path: str, roles: frozenset[str]) -> bool:
    scope = scope_for(user)
    return scope.superuser or any(path.startswith(p) for p in scope.paths_for(roles))


def is_household_of(user: User, order: Order) -> bool:
    return order.household_id in scope_for(user).household_ids


def is_supplier_of(user: User, round_: Round) -> bool:
    scope = scope_for(user)
    return scope.superuser or round_.supplier_id in scope.supplier_ids


def may_collect(user: User, order: Order) -> bool:
    """The round's supplier, or round staff over the order's compound."""
    return is_supplier_of(user, order.round) or _under(user, order.compound.path, ROUND_ROLES)


def may_take_cash(user: User, order: Order) -> bool:
    return may_collect(user, order) or _under(user, order.household.building.path, CASH_ROLES)


def may_waive(user: User, order: Order) -> bool:
    return _under(user, order.compound.path, REGISTER_ROLES)


def collect_compound_ids(user: User, round_: Round, compound_ids: list[int]) -> list[int]:
    """The round's compounds whose money this user handles (all of them for its supplier)."""
    if is_supplier_of(user, round_):
        return list(compound_ids)
    paths = scope_for(user).paths_for(ROUND_ROLES)
    if not paths:
        return []
    under = Q(pk__in=[])
    for path in paths:
        under |= Q(path__startswith=path)
    return list(Area.objects.filter(under, pk__in=compound_ids).values_list("pk", flat=True))
