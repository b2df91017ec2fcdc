"""Lookups the payment pages share: each returns the object the user may handle, or raises."""

from __future__ import annotations

from typing import TYPE_CHECKING

from baogong.accounts.scoping import scope_for
from baogong.core.errors import NotFound
from baogong.orders import queries as order_queries
from baogong.orders.models import Order, Round
from baogong.payments import access

if TYPE_CHECKING:
    from collections.abc import Callable

    from baogong.accounts.models import User


def collect_round(user: User, pk: int) -> tuple[Round, list[int]]:
    """A round whose money the user handles, with the compounds they handle it for."""
    round_ = order_queries.round_for(scope_for(user), pk)
    if round_ is None:
        raise NotFound()
    compounds = access.collect_compound_ids(user, round_, order_queries.round_compound_ids(round_))
    if not compounds:
        raise NotFound()
    return round_, compounds


def order_for(user: User, pk: int, check: Callable[[User, Order], bool]) -> Order:
    """An order the user may act on (`check` is one of the access rules), else NotFound."""
    order = (
        Order.objects.select_related("round__supplier", "household__building", "compound")
        .filter(pk=pk)
        .first()
    )
    if order is None or not check(user, order):
        raise NotFound()
    return order


def may_see_order_money(user: User, order: Order) -> bool:
    return (
        access.may_collect(user, order)
        or access.may_waive(user, order)
        or access.may_take_cash(user, order)
    )
