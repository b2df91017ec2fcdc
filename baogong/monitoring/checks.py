"""Checks on one day's stock figures, with no database: what is refused and what is flagged.

Refused (the report is not stored): a negative quantity, a price of zero or
less, a date in the future, and a price ten times yesterday's or more (or a
tenth or less): that is almost always a wrong unit (jin for kg, fen for yuan),
and stored it would raise a false gouging alert.
Flagged (stored, with the reason shown beside it): closing stock that differs
from opening + purchases − sales by more than the tolerance, since spoilage
and miscounts happen and the bureau still wants the numbers.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from django.utils.translation import gettext_lazy as _

# Closing stock may differ from the running balance by this much before it is flagged:
# one unit, or 2% of what the outlet had that day, whichever is larger.
TOLERANCE_UNITS = Decimal("1")
TOLERANCE_SHARE = Decimal("0.02")
PRICE_JUMP_FACTOR = Decimal("10")

FLAG_BALANCE = "balance"
FLAG_LABELS = {FLAG_BALANCE: _("closing stock does not match opening + in − out")}


@dataclass(frozen=True)
class Figures:
    opening: Decimal
    received: Decimal
    sold: Decimal
    closing: Decimal
    price: Decimal


@dataclass
class Outcome:
    errors: list[str] = field(default_factory=list)
    flags: list[str] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)  # one per flag, for people

    @property
    def ok(self) -> bool:
        return not self.errors


def tolerance(figures: Figures) -> Decimal:
    return max(TOLERANCE_UNITS, (figures.opening + figures.received) * TOLERANCE_SHARE)


def check_figures(
    figures: Figures, *, date: dt.date, today: dt.date, previous_price: Decimal | None
) -> Outcome:
    """Return the reasons to refuse `figures` and the flags to keep them with."""
    outcome = Outcome()
    labels = {
        "opening": _("opening stock"),
        "received": _("purchases in"),
        "sold": _("sales out"),
        "closing": _("closing stock"),
    }
    for name, label in labels.items():
        if getattr(figures, name) < 0:
            outcome.errors.append(str(_("%(field)s cannot be negative.") % {"field": label}))
    if figures.price <= 0:
        outcome.errors.append(str(_("The retail price must be more than zero.")))
    if date > today:
        outcome.errors.append(str(_("The date is in the future.")))
    if (
        previous_price
        and figures.price > 0
        and (
            figures.price >= previous_price * PRICE_JUMP_FACTOR
            or figures.price * PRICE_JUMP_FACTOR <= previous_price
        )
    ):
        outcome.errors.append(
            str(
                _(
                    "The price %(price)s is ten times or a tenth of the last one "
                    "(%(previous)s); check the unit and enter it again."
                )
                % {"price": figures.price, "previous": previous_price}
            )
        )
    if outcome.errors:
        return outcome
    expected = figures.opening + figures.received - figures.sold
    if abs(expected - figures.closing) > tolerance(figures):
        outcome.flags.append(FLAG_BALANCE)
        outcome.reasons.append(
            str(
                _(
                    "Closing stock %(closing)s differs from opening + in − out = %(expected)s "
                    "by more than %(tolerance)s."
                )
                % {
                    "closing": figures.closing,
                    "expected": expected,
                    "tolerance": tolerance(figures).quantize(Decimal("0.01")),
                }
            )
        )
    return outcome
