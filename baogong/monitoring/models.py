"""Market monitoring: the commodity catalogue, outlets' daily stock reports, alerts, deadlines.

An outlet (supply.Outlet, which already has an area and a kind) files one
`OutletReport` per date and commodity. A correction is a new revision; the
latest revision is the one marked `is_latest`, and the database holds that
there is at most one such row per outlet, date and commodity.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from baogong.core.models import BaseModel

QUANTITY = {"max_digits": 14, "decimal_places": 2}
MONEY = {"max_digits": 10, "decimal_places": 2}


class Commodity(BaseModel):
    """An essential item the bureau watches, with its baseline price and alert thresholds."""

    class Category(models.TextChoices):
        GRAIN_OIL = "grain_oil", _("grain & oil")
        MEAT_EGGS = "meat_eggs", _("meat & eggs")
        DAIRY = "dairy", _("milk & dairy")
        VEGETABLES = "vegetables", _("vegetables")
        WATER = "water", _("drinking water")
        CONVENIENCE = "convenience", _("convenience food")

    code = models.SlugField(_("code"), max_length=30, unique=True)
    name = models.CharField(_("name"), max_length=50, unique=True)
    category = models.CharField(_("category"), max_length=16, choices=Category.choices)
    unit = models.CharField(_("unit"), max_length=10)
    baseline_price = models.DecimalField(
        _("pre-emergency price (yuan)"),
        **MONEY,
        help_text=_("The normal retail price per unit before the emergency."),
    )
    min_days_of_cover = models.DecimalField(
        _("alert below days of cover"), max_digits=5, decimal_places=1, default=Decimal("3")
    )
    max_daily_rise_pct = models.DecimalField(
        _("alert above price rise in a day (%)"),
        max_digits=6,
        decimal_places=1,
        default=Decimal("20"),
    )
    max_baseline_rise_pct = models.DecimalField(
        _("alert above price rise over baseline (%)"),
        max_digits=6,
        decimal_places=1,
        default=Decimal("30"),
    )
    max_ratio_fall_pct = models.DecimalField(
        _("alert when the stock-to-sales ratio falls in a day by more than (%)"),
        max_digits=5,
        decimal_places=1,
        default=Decimal("40"),
    )
    reserve_days = models.DecimalField(
        _("required reserve (days of normal sales)"),
        max_digits=5,
        decimal_places=1,
        default=Decimal("10"),
    )
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    is_active = models.BooleanField(_("monitored"), default=True)

    history = HistoricalRecords(excluded_fields=["updated_at"])

    class Meta:
        verbose_name = _("commodity")
        verbose_name_plural = _("commodities")
        ordering = ["position", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(baseline_price__gt=0), name="commodity_baseline_positive"
            ),
            models.CheckConstraint(
                condition=Q(min_days_of_cover__gte=0)
                & Q(max_daily_rise_pct__gt=0)
                & Q(max_baseline_rise_pct__gt=0)
                & Q(max_ratio_fall_pct__gt=0)
                & Q(max_ratio_fall_pct__lte=100)
                & Q(reserve_days__gte=0),
                name="commodity_thresholds_sane",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class OutletReport(BaseModel):
    """One revision of an outlet's purchase–sales–stock figures (进销存) for a commodity and day."""

    class Channel(models.TextChoices):
        FORM = "form", _("form")
        EXCEL = "excel", _("Excel")
        API = "api", _("API")
        DEMO = "demo", _("demo")

    outlet = models.ForeignKey(
        "supply.Outlet", verbose_name=_("outlet"), on_delete=models.CASCADE, related_name="+"
    )
    commodity = models.ForeignKey(
        Commodity, verbose_name=_("commodity"), on_delete=models.PROTECT, related_name="reports"
    )
    date = models.DateField(_("date"))
    revision = models.PositiveSmallIntegerField(_("revision"), default=1)
    is_latest = models.BooleanField(_("latest revision"), default=True)
    opening = models.DecimalField(_("opening stock"), **QUANTITY)
    received = models.DecimalField(_("purchases in"), **QUANTITY)
    sold = models.DecimalField(_("sales out"), **QUANTITY)
    closing = models.DecimalField(_("closing stock"), **QUANTITY)
    price = models.DecimalField(_("retail price (yuan)"), **MONEY)
    # Codes of the checks the figures failed but were kept with (see validation.py).
    flags = models.CharField(_("flags"), max_length=100, blank=True)
    channel = models.CharField(_("channel"), max_length=8, choices=Channel.choices)
    entered_by = models.ForeignKey(
        "accounts.User",
        verbose_name=_("entered by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    history = HistoricalRecords(excluded_fields=["updated_at"])

    class Meta:
        verbose_name = _("outlet report")
        verbose_name_plural = _("outlet reports")
        ordering = ["-date", "outlet_id", "commodity_id", "-revision"]
        constraints = [
            models.UniqueConstraint(
                fields=["outlet", "date", "commodity", "revision"],
                name="outletreport_revision_unique",
            ),
            # The latest revision is the one that counts; two would double the stock.
            models.UniqueConstraint(
                fields=["outlet", "date", "commodity"],
                condition=Q(is_latest=True),
                name="outletreport_one_latest",
            ),
            models.CheckConstraint(
                condition=Q(opening__gte=0, received__gte=0, sold__gte=0, closing__gte=0),
                name="outletreport_quantities_not_negative",
            ),
            models.CheckConstraint(condition=Q(price__gt=0), name="outletreport_price_positive"),
            models.CheckConstraint(condition=Q(revision__gte=1), name="outletreport_revision_1"),
        ]
        indexes = [
            # The dashboards: every latest report of a day (and a window of days) for a commodity.
            models.Index(
                fields=["date", "commodity", "outlet"],
                condition=Q(is_latest=True),
                name="outletreport_day_idx",
            ),
            # An outlet's history and the window functions partitioned by outlet and commodity.
            models.Index(
                fields=["outlet", "commodity", "date"],
                condition=Q(is_latest=True),
                name="outletreport_series_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.outlet_id}/{self.commodity_id} {self.date} r{self.revision}"

    @property
    def flag_list(self) -> list[str]:
        return [flag for flag in self.flags.split(",") if flag]


class Alert(BaseModel):
    """Something on the market the bureau should look at: it is acknowledged, then closed."""

    class Kind(models.TextChoices):
        LOW_STOCK = "low_stock", _("low stock")
        RATIO_FALL = "ratio_fall", _("stock-to-sales ratio falling fast")
        PRICE_RISE = "price_rise", _("abnormal price rise")
        MISSED_REPORT = "missed_report", _("report missing at deadline")

    class State(models.TextChoices):
        OPEN = "open", _("open")
        ACKNOWLEDGED = "acknowledged", _("acknowledged")
        CLOSED = "closed", _("closed")

    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    state = models.CharField(_("state"), max_length=16, choices=State.choices, default=State.OPEN)
    outlet = models.ForeignKey(
        "supply.Outlet", verbose_name=_("outlet"), on_delete=models.CASCADE, related_name="+"
    )
    commodity = models.ForeignKey(
        Commodity,
        verbose_name=_("commodity"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="alerts",
    )
    date = models.DateField(_("date"))
    value = models.DecimalField(_("value"), max_digits=14, decimal_places=2, null=True)
    threshold = models.DecimalField(_("threshold"), max_digits=14, decimal_places=2, null=True)
    # Idempotency: the same finding (kind, outlet, commodity, date) is one alert.
    dedupe_key = models.CharField(max_length=120, unique=True)
    note = models.TextField(_("note"), blank=True)
    acknowledged_at = models.DateTimeField(_("acknowledged at"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    handled_by = models.ForeignKey(
        "accounts.User",
        verbose_name=_("handled by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    history = HistoricalRecords(excluded_fields=["updated_at"])

    class Meta:
        verbose_name = _("alert")
        verbose_name_plural = _("alerts")
        ordering = ["-date", "-pk"]
        indexes = [
            # The alert list: open alerts first, newest first, per outlet (repeat gouging).
            models.Index(fields=["state", "date"], name="alert_state_date_idx"),
            models.Index(fields=["outlet", "kind", "date"], name="alert_outlet_kind_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.date}"


class ReportingSchedule(BaseModel):
    """When the outlets of an area must have reported: every day by a time, or on given days."""

    class Kind(models.TextChoices):
        DAILY = "daily", _("daily, by a time of day")
        PERIODIC = "periodic", _("on days of the month (summary up to the day before)")

    area = models.ForeignKey(
        "areas.Area",
        verbose_name=_("area"),
        on_delete=models.CASCADE,
        related_name="reporting_schedules",
    )
    name = models.CharField(_("name"), max_length=60)
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    due_time = models.TimeField(_("due by"), default=dt.time(9, 0))
    days_of_month = models.CharField(
        _("days of the month"),
        max_length=40,
        blank=True,
        default="10,20,30",
        help_text=_(
            "For summaries: days separated by commas; 30 means the month's end in February."
        ),
    )
    remind_minutes_before = models.PositiveIntegerField(_("remind minutes before"), default=120)
    is_active = models.BooleanField(_("active"), default=True)

    history = HistoricalRecords(excluded_fields=["updated_at"])

    class Meta:
        verbose_name = _("reporting schedule")
        verbose_name_plural = _("reporting schedules")
        ordering = ["area_id", "name"]
        constraints = [
            models.UniqueConstraint(fields=["area", "name"], name="schedule_area_name_unique")
        ]

    def __str__(self) -> str:
        return self.name

    def days(self) -> list[int]:
        return sorted({int(d) for d in self.days_of_month.split(",") if d.strip().isdigit()})
