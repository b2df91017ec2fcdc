"""The market price on the allocation day, from the market monitoring records when they exist.

Settlement is at "the market price on the allocation day". Outlets file daily
stock reports with their retail price (monitoring.OutletReport); the average of
that day's latest reports for a commodity of the same name and unit within the
district is offered as the price, with its source spelled out. Staff may
overrule it, giving their own source.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.apps import apps
from django.db.models import Avg, Count
from django.utils.translation import gettext as _

from baogong.areas.models import Area


def market_price(
    item: str, unit: str, day: dt.date, district: Area | None = None
) -> tuple[Decimal, str] | None:
    """(average price, source text) of the day's outlet reports for the item, or None."""
    try:
        report_model = apps.get_model("monitoring", "OutletReport")
    except LookupError:
        return None
    reports = report_model.objects.filter(
        date=day, is_latest=True, commodity__name=item.strip(), commodity__unit=unit.strip()
    )
    if district is not None:
        reports = reports.filter(outlet__area__path__startswith=district.path)
    figures = reports.aggregate(price=Avg("price"), outlets=Count("outlet", distinct=True))
    if not figures["outlets"]:
        return None
    price = Decimal(figures["price"]).quantize(Decimal("0.01"))
    source = _("Market monitoring: average of %(n)s outlets' reports on %(day)s") % {
        "n": figures["outlets"],
        "day": day.isoformat(),
    }
    return price, source
