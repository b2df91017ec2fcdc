"""Consolidation reads: totals, bags in packing order, pick list; shared by pages and documents.

Only orders that go to the supplier count (`Order.State.PLACED`); a dropped or cancelled
order is on no sheet, label or manifest. Quantities are what will be supplied
(ordered minus cut at confirmation). Bags come in packing order — compound, building,
entrance, room, compared naturally ("3号楼" before "10号楼") — and are streamed a chunk
at a time, so 20,000 labels never sit in memory as objects at once.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Count, F, Max, Q, Sum
from django.utils import timezone
from django.utils.formats import date_format

from baogong.areas.queries import natural_key
from baogong.core.phones import mask_phone
from baogong.fulfilment.rows import PAID, TO_CONFIRM, UNPAID, Bag, Item, PickLine, RoundHeader
from baogong.orders.models import Offer, Order, OrderLine, Round
from baogong.supply.models import PackageLine

CHUNK = 2000  # orders whose lines are read per query while streaming bags
PAYMENT_MARKS = {
    Order.PaymentState.PAID: PAID,
    Order.PaymentState.WAIVED: PAID,
    Order.PaymentState.CLAIMED: TO_CONFIRM,
    Order.PaymentState.UNPAID: UNPAID,
}
PAID_STATES = (Order.PaymentState.PAID, Order.PaymentState.WAIVED)
_SUPPLIED = F("quantity") - F("cut_quantity")


def placed_orders(round_: Round):
    return Order.objects.filter(round=round_, state=Order.State.PLACED)


def orders_version(round_: Round) -> str:
    """A fingerprint of the round's orders and lines: it changes whenever a document would."""
    # States and payment marks are counted too: a bulk UPDATE does not touch updated_at.
    orders = Order.objects.filter(round=round_).aggregate(
        n=Count("pk"),
        changed=Max("updated_at"),
        due=Sum("amount_due"),
        placed=Count("pk", filter=Q(state=Order.State.PLACED)),
        paid=Count("pk", filter=Q(payment_state__in=PAID_STATES)),
        claimed=Count("pk", filter=Q(payment_state=Order.PaymentState.CLAIMED)),
    )
    lines = OrderLine.objects.filter(order__round=round_).aggregate(
        n=Count("pk"), q=Sum("quantity"), cut=Sum("cut_quantity")
    )
    raw = f"{orders}|{lines}".encode()
    return hashlib.sha256(raw).hexdigest()[:40]


def round_header(round_: Round) -> RoundHeader:
    def local(value) -> str:
        return date_format(timezone.localtime(value), "Y-m-d H:i") if value else ""

    return RoundHeader(
        round_id=round_.pk,
        title=round_.title,
        supplier=round_.supplier.name,
        delivery=local(round_.delivery_at),
        generated=local(timezone.now()),
    )


# --- bags in packing order -------------------------------------------------------------


def bag_count(round_: Round) -> int:
    """Households with something to pack (an order cut to nothing gets no bag)."""
    return (
        placed_orders(round_)
        .filter(lines__quantity__gt=F("lines__cut_quantity"))
        .distinct()
        .count()
    )


def _packing_order(round_: Round) -> list[tuple]:
    rows = list(
        placed_orders(round_).values_list(
            "pk",
            "compound_id",
            "household__compound__name",
            "household__building__name",
            "household__unit",
            "household__room",
            "household__phone",
            "pickup_code",
            "amount_due",
            "payment_state",
        )
    )
    rows.sort(key=lambda r: (natural_key(r[2]), r[1], natural_key(r[3]), natural_key(r[4]),
                             natural_key(r[5])))  # fmt: skip
    return rows


def bags(round_: Round) -> Iterator[Bag]:
    """Yield the round's bags in packing order, reading lines a chunk of orders at a time."""
    offers = {o.pk: (o.code, o.name, o.position) for o in Offer.objects.filter(round=round_)}
    rows = _packing_order(round_)
    for start in range(0, len(rows), CHUNK):
        chunk = rows[start : start + CHUNK]
        items: dict[int, list[tuple]] = {}
        for order_id, offer_id, supplied in (
            OrderLine.objects.filter(order_id__in=[r[0] for r in chunk])
            .annotate(supplied=_SUPPLIED)
            .filter(supplied__gt=0)
            .values_list("order_id", "offer_id", "supplied")
        ):
            code, name, position = offers[offer_id]
            items.setdefault(order_id, []).append((position, code, name, supplied))
        for pk, compound_id, compound, building, unit, room, phone, code, amount, pay in chunk:
            lines = items.get(pk)
            if not lines:
                continue
            lines.sort()
            yield Bag(
                order_id=pk,
                compound_id=compound_id,
                compound=compound,
                building=building,
                unit=unit,
                room=room,
                phone=mask_phone(phone),
                pickup_code=code,
                items=tuple(Item(c, n, q) for _p, c, n, q in lines),
                amount=amount,
                payment=PAYMENT_MARKS.get(pay, UNPAID),
            )
        del items


# --- totals --------------------------------------------------------------------------


@dataclass
class OfferTotal:
    offer_id: int
    code: str
    name: str
    price: Decimal
    ordered: int = 0
    cut: int = 0

    @property
    def supplied(self) -> int:
        return self.ordered - self.cut

    @property
    def amount(self) -> Decimal:
        return self.price * self.supplied


@dataclass
class GroupTotal:
    """Totals of one compound or building: bags (orders), units per offer, money due."""

    key: int
    name: str
    compound: str = ""
    orders: int = 0
    amount: Decimal = Decimal("0.00")
    units: dict[int, int] = field(default_factory=dict)  # offer id → units supplied

    @property
    def units_total(self) -> int:
        return sum(self.units.values())


def offer_totals(round_: Round) -> list[OfferTotal]:
    """Per package offered: units ordered, cut and to supply, and their value."""
    totals = {
        o.pk: OfferTotal(o.pk, o.code, o.name, o.price)
        for o in Offer.objects.filter(round=round_).order_by("position", "pk")
    }
    for offer_id, ordered, cut in (
        OrderLine.objects.filter(order__round=round_, order__state=Order.State.PLACED)
        .values("offer_id")
        .annotate(ordered=Sum("quantity"), cut=Sum("cut_quantity"))
        .values_list("offer_id", "ordered", "cut")
    ):
        totals[offer_id].ordered, totals[offer_id].cut = ordered, cut
    return list(totals.values())


def _group_totals(round_: Round, *, by: str, name: str, compound: str | None) -> list[GroupTotal]:
    fields = [by, name] + ([compound] if compound else [])
    groups: dict[int, GroupTotal] = {}
    for row in placed_orders(round_).values(*fields).annotate(n=Count("pk"), due=Sum("amount_due")):
        groups[row[by]] = GroupTotal(
            key=row[by],
            name=row[name],
            compound=row[compound] if compound else "",
            orders=row["n"],
            amount=row["due"] or Decimal("0.00"),
        )
    for key, offer_id, units in (
        OrderLine.objects.filter(order__round=round_, order__state=Order.State.PLACED)
        .values(f"order__{by}", "offer_id")
        .annotate(units=Sum(_SUPPLIED))
        .values_list(f"order__{by}", "offer_id", "units")
    ):
        groups[key].units[offer_id] = units
    return sorted(groups.values(), key=lambda g: (natural_key(g.compound), natural_key(g.name)))


def compound_totals(round_: Round) -> list[GroupTotal]:
    return _group_totals(round_, by="compound_id", name="compound__name", compound=None)


def building_totals(round_: Round) -> list[GroupTotal]:
    return _group_totals(
        round_,
        by="household__building_id",
        name="household__building__name",
        compound="household__compound__name",
    )


def pick_list(round_: Round, offers: list[OfferTotal] | None = None) -> list[PickLine]:
    """Per package: units to pick (supplied), what they contain, and units per compound."""
    offers = offers if offers is not None else offer_totals(round_)
    package_of = dict(Offer.objects.filter(round=round_).values_list("pk", "package_id"))
    contents: dict[int, list[PackageLine]] = {}
    for line in PackageLine.objects.filter(package_id__in=package_of.values()):
        contents.setdefault(line.package_id, []).append(line)
    per_compound = compound_totals(round_)
    picks = []
    for offer in offers:
        if not offer.supplied:
            continue
        pick = PickLine(offer.code, offer.name, offer.supplied)
        for line in contents.get(package_of[offer.offer_id], []):
            spec = f" {line.specification}" if line.specification else ""
            amount = (line.quantity * offer.supplied).normalize()
            pick.contents.append(f"{line.item}{spec} × {amount:f}{line.unit}")
        pick.per_compound = {
            g.name: g.units[offer.offer_id] for g in per_compound if g.units.get(offer.offer_id)
        }
        picks.append(pick)
    return picks
