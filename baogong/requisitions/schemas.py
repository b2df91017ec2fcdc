from __future__ import annotations

import datetime as dt
from decimal import Decimal

from ninja import Field, Schema


class AllocationLineOut(Schema):
    id: int
    item: str
    spec: str
    unit: str
    quantity: Decimal
    unit_price: Decimal
    confirmed_quantity: Decimal | None
    shortfall_reason: str


class AllocationOrderOut(Schema):
    id: int
    number: str = Field(examples=["DB-2026-000123"])
    state: str
    allocation_date: dt.date
    delivery_place: str
    delivery_area: str
    delivery_at: dt.datetime
    contact_name: str
    contact_phone: str
    lines: list[AllocationLineOut]


class ConfirmLineIn(Schema):
    # Optional here so that a wrong order id is a 404 before the body is judged (422).
    line_id: int | None = None
    quantity: Decimal | None = None
    reason: str = Field("", max_length=200)


class ConfirmIn(Schema):
    lines: list[ConfirmLineIn] = []
