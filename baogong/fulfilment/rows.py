"""The plain rows documents are drawn from (no ORM), so PDF and Excel code is easy to test.

`queries.py` fills them from the database; `pdf/` and `excel.py` only read them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

# What a label or a sheet says about payment (Order.payment_state → mark).
PAID, UNPAID, TO_CONFIRM = "paid", "unpaid", "to_confirm"
# A free distribution's bag (issue 10): nothing to pay, and the label says so.
FREE = "free"


@dataclass(frozen=True, slots=True)
class Item:
    """One package line of a bag: option code, name, units to pack."""

    code: str
    name: str
    quantity: int


@dataclass(frozen=True, slots=True)
class Bag:
    """One household's bag: what goes on its label, its sheet row and its manifest line."""

    order_id: int
    compound_id: int
    compound: str
    building: str
    unit: str
    room: str
    phone: str  # already masked
    pickup_code: str
    items: tuple[Item, ...]
    amount: Decimal
    payment: str  # PAID, UNPAID or TO_CONFIRM

    @property
    def place(self) -> str:
        """Building, entrance and room as people write them: 3号楼2单元502."""
        unit = f"{self.unit}单元" if self.unit else ""
        return f"{self.building}{unit}{self.room}"

    @property
    def units(self) -> int:
        return sum(item.quantity for item in self.items)

    def items_text(self) -> str:
        return "，".join(f"{i.code}.{i.name}×{i.quantity}" for i in self.items)


@dataclass(frozen=True)
class RoundHeader:
    """What every document of a round prints at the top."""

    round_id: int
    title: str
    supplier: str
    delivery: str  # local time as text, or ""
    generated: str  # local time as text


@dataclass
class PickLine:
    """One package to pick: units, and what those units contain."""

    code: str
    name: str
    units: int
    contents: list[str] = field(default_factory=list)  # "大米 5kg × 120 袋"
    per_compound: dict[str, int] = field(default_factory=dict)
