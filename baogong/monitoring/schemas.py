from __future__ import annotations

import datetime as dt
from decimal import Decimal

from ninja import Field, Schema

MAX_BATCH = 500


class ReportIn(Schema):
    commodity: str = Field(
        description="The item's code (GET /monitoring/commodities).", examples=["rice"]
    )
    date: dt.date
    opening: Decimal = Field(max_digits=14, decimal_places=2, description="Opening stock.")
    received: Decimal = Field(max_digits=14, decimal_places=2, description="Purchases in.")
    sold: Decimal = Field(max_digits=14, decimal_places=2, description="Sales out.")
    closing: Decimal = Field(max_digits=14, decimal_places=2, description="Closing stock.")
    price: Decimal = Field(max_digits=10, decimal_places=2, description="Retail price, yuan.")


class ReportBatchIn(Schema):
    reports: list[ReportIn] = Field(min_length=1, max_length=MAX_BATCH)


class ReportResult(Schema):
    index: int
    status: str = Field(
        description="created, unchanged (same figures as the latest "
        "revision), flagged (stored with a warning) or rejected."
    )
    report_id: int | None = None
    revision: int | None = None
    reasons: list[str] = []
    alerts: list[str] = []


class ReportBatchOut(Schema):
    results: list[ReportResult]


class ReportOut(Schema):
    commodity: str
    date: dt.date
    revision: int
    opening: Decimal
    received: Decimal
    sold: Decimal
    closing: Decimal
    price: Decimal
    flags: list[str]


class CommodityOut(Schema):
    code: str
    name: str
    category: str
    unit: str
    baseline_price: Decimal
