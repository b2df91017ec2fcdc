"""In/Out schemas of the platform API (baogong/orders/api.py).

Money is a decimal string in yuan ("88.00"), never a float; times are ISO 8601
in Asia/Shanghai; phones are always masked (platforms never get full numbers).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.utils import timezone
from ninja import Field, Schema
from pydantic import model_validator

from baogong.core.phones import mask_phone
from baogong.orders.models import Offer, Order, OrderLine, Round
from baogong.supply.models import PackageLine


class Error(Schema):
    """Every error: a stable code for programs and a message for people."""

    code: str = Field(examples=["sold_out"])
    detail: str = Field(examples=["Sold out: 蔬菜套餐 has only 0 left."])


class Ping(Schema):
    ok: bool = True


def _local(value: dt.datetime | None) -> dt.datetime | None:
    return timezone.localtime(value) if value is not None else None


# --- rounds ----------------------------------------------------------------------------


class PackageLineOut(Schema):
    item: str
    specification: str
    quantity: Decimal
    unit: str

    @staticmethod
    def of(line: PackageLine) -> PackageLineOut:
        return PackageLineOut(
            item=line.item,
            specification=line.specification,
            quantity=line.quantity.normalize(),
            unit=line.unit,
        )


class OfferOut(Schema):
    code: str = Field(description="The option to send as offer_code: A, B, 1, 2.")
    name: str
    category: str
    price: Decimal
    stock_cap: int
    remaining: int
    per_household_limit: int
    lines: list[PackageLineOut] = Field(description="What the package holds.")

    @staticmethod
    def of(offer: Offer) -> OfferOut:
        return OfferOut(
            code=offer.code,
            name=offer.name,
            category=offer.package.category,
            price=offer.price,
            stock_cap=offer.stock_cap,
            remaining=offer.remaining,
            per_household_limit=offer.per_household_limit,
            lines=[PackageLineOut.of(line) for line in offer.package.lines.all()],
        )


class CompoundOut(Schema):
    id: int = Field(description="Send as compound_id when an address could be in several.")
    name: str
    community: str


class RoundOut(Schema):
    id: int
    title: str
    state: str
    opens_at: dt.datetime
    cutoff_at: dt.datetime
    payment_deadline: dt.datetime | None
    delivery_at: dt.datetime | None
    delivery_place: str
    delivery_note: str
    capacity: int | None = Field(description="Households the supplier can serve; null if open.")
    orders_count: int = Field(description="Placed orders (cancelled and dropped ones not counted).")
    compounds: list[CompoundOut]
    offers: list[OfferOut]

    @staticmethod
    def of(round_: Round, compounds: list[CompoundOut]) -> RoundOut:
        return RoundOut(
            id=round_.pk,
            title=round_.title,
            state=round_.state,
            opens_at=_local(round_.opens_at),
            cutoff_at=_local(round_.cutoff_at),
            payment_deadline=_local(round_.payment_deadline),
            delivery_at=_local(round_.delivery_at),
            delivery_place=round_.delivery_place,
            delivery_note=round_.delivery_note,
            capacity=round_.capacity,
            orders_count=round_.orders_total,
            compounds=compounds,
            offers=[OfferOut.of(offer) for offer in round_.offers.all()],
        )


# --- orders ----------------------------------------------------------------------------


class AddressIn(Schema):
    building: str = Field(min_length=1, max_length=20, examples=["3"])
    unit: str = Field("", max_length=8, examples=["2"])
    room: str = Field(min_length=1, max_length=16, examples=["502"])


class OrderLineIn(Schema):
    offer_code: str = Field(min_length=1, max_length=4, examples=["A"])
    quantity: int = Field(ge=1, le=999, examples=[2])


class OrderLinesIn(Schema):
    lines: list[OrderLineIn] = Field(min_length=1, max_length=50)

    @model_validator(mode="after")
    def _one_line_per_offer(self) -> OrderLinesIn:
        codes = [line.offer_code.strip().upper() for line in self.lines]
        if len(set(codes)) != len(codes):
            raise ValueError("each offer_code may appear once")
        return self


class OrderIn(OrderLinesIn):
    address: AddressIn | None = Field(None, description="The flat, field by field.")
    address_text: str | None = Field(
        None, max_length=100, description="Or as people write it: 3号楼2单元502, 3-2-502."
    )
    compound_id: int | None = Field(
        None, description="Needed when the round's compounds share building and room numbers."
    )
    external_ref: str = Field("", max_length=100, description="The platform's own order id.")
    note: str = Field("", max_length=200)

    @model_validator(mode="after")
    def _one_address(self) -> OrderIn:
        if (self.address is None) == (not self.address_text):
            raise ValueError("give either address or address_text")
        return self


class OrderUpdateIn(OrderLinesIn):
    note: str | None = Field(None, max_length=200, description="Left as it was when omitted.")


class HouseholdOut(Schema):
    id: int
    compound_id: int
    compound: str
    building: str
    unit: str
    room: str
    phone: str = Field(description="Masked: 138****8000.")


class OrderLineOut(Schema):
    offer_code: str
    name: str
    quantity: int
    unit_price: Decimal
    amount: Decimal


class OrderOut(Schema):
    id: int
    round_id: int
    household: HouseholdOut
    state: str
    channel: str
    amount_due: Decimal
    pickup_code: str
    placed_at: dt.datetime
    note: str
    lines: list[OrderLineOut]

    @staticmethod
    def of(order: Order, lines: list[OrderLine]) -> OrderOut:
        """Needs order.household with building and compound, and each line's offer."""
        household = order.household
        return OrderOut(
            id=order.pk,
            round_id=order.round_id,
            household=HouseholdOut(
                id=household.pk,
                compound_id=household.compound_id,
                compound=household.compound.name,
                building=household.building.name,
                unit=household.unit,
                room=household.room,
                phone=mask_phone(household.phone),
            ),
            state=order.state,
            channel=order.channel,
            amount_due=order.amount_due,
            pickup_code=order.pickup_code,
            placed_at=_local(order.placed_at),
            note=order.note,
            lines=[
                OrderLineOut(
                    offer_code=line.offer.code,
                    name=line.offer.name,
                    quantity=line.quantity,
                    unit_price=line.unit_price,
                    amount=line.amount,
                )
                for line in lines
            ],
        )


class OrderWriteOut(OrderOut):
    external_ref: str = Field("", description="Echoed from the request.")


class OrderPage(Schema):
    count: int
    page: int
    pages: int
    items: list[OrderOut]
