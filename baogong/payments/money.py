"""The arithmetic of one order's money and of a money report (no ORM, so it is easy to test).

Per order, from its rows:
- due: `Order.amount_due` while the order is placed (to be delivered); 0 once it is
  cancelled or dropped, since nothing will be delivered for it;
- received: confirmed payments; waived: waivers; refunded: refunds (refunds never
  exceed what was received, see `refundable`).

Derived, each never negative:
- waived_applied = min(waived, due)     (a waiver granted before a cut may exceed the new due)
- owed = due − waived_applied            (what the household itself must pay)
- unpaid = max(owed − (received − refunded), 0)
- credit = max((received − refunded) − owed, 0)   (money held for the household: to refund)
- paid = received − refunded − credit  (payments kept against the order)

Identities (to the cent, per order and so for any sum of orders):
    due = waived_applied + paid + unpaid
    received = paid + refunded + credit
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, fields
from decimal import Decimal

ZERO = Decimal("0.00")


@dataclass(frozen=True)
class OrderMoney:
    due: Decimal = ZERO
    received: Decimal = ZERO
    waived: Decimal = ZERO
    refunded: Decimal = ZERO
    claimed: Decimal = ZERO  # reported by the resident, not confirmed yet (shown, not counted)

    @property
    def waived_applied(self) -> Decimal:
        return min(self.waived, self.due)

    @property
    def owed(self) -> Decimal:
        return self.due - self.waived_applied

    @property
    def net_received(self) -> Decimal:
        return self.received - self.refunded

    @property
    def unpaid(self) -> Decimal:
        return max(self.owed - self.net_received, ZERO)

    @property
    def credit(self) -> Decimal:
        return max(self.net_received - self.owed, ZERO)

    @property
    def paid(self) -> Decimal:
        return self.net_received - self.credit

    @property
    def refundable(self) -> Decimal:
        """What may still be refunded: received − refunded − (due − waived), never negative."""
        return self.credit

    @property
    def covered(self) -> bool:
        return self.unpaid == ZERO


@dataclass
class MoneyTotals:
    """A report row: the sums of the derived figures over some orders."""

    orders: int = 0
    due: Decimal = ZERO
    paid: Decimal = ZERO
    unpaid: Decimal = ZERO
    waived: Decimal = ZERO
    refunded: Decimal = ZERO
    credit: Decimal = ZERO
    received: Decimal = ZERO
    claimed: Decimal = ZERO

    def add(self, money: OrderMoney) -> None:
        self.orders += 1
        self.due += money.due
        self.paid += money.paid
        self.unpaid += money.unpaid
        self.waived += money.waived_applied
        self.refunded += money.refunded
        self.credit += money.credit
        self.received += money.received
        self.claimed += money.claimed

    def merge(self, other: MoneyTotals) -> None:
        for f in fields(self):
            setattr(self, f.name, getattr(self, f.name) + getattr(other, f.name))

    @property
    def balanced(self) -> bool:
        """Both identities of the module docstring hold."""
        return (
            self.due == self.waived + self.paid + self.unpaid
            and self.received == self.paid + self.refunded + self.credit
        )


def totals(moneys: Iterable[OrderMoney]) -> MoneyTotals:
    result = MoneyTotals()
    for money in moneys:
        result.add(money)
    return result
