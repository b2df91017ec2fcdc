"""Monitoring writes: reports and their revisions, alerts, thresholds, schedules, deadlines.

Concurrency: a report write locks its outlet's row first, so two submissions
for the same outlet (a form and an API retry, say) queue instead of both
taking revision N+1. Alerts are keyed by a unique `dedupe_key`, so checking
the same day twice (or from two workers) finds the existing alert.
On SQLite the write transaction is serialised, which gives the same.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.utils import bulk_create_with_history

from baogong.accounts.scoping import scope_for
from baogong.core.errors import Conflict, DomainError, InvalidInput, NotAllowed
from baogong.monitoring import notifications, queries
from baogong.monitoring.checks import Figures, check_figures
from baogong.monitoring.deadlines import last_due, next_due
from baogong.monitoring.models import Alert, Commodity, OutletReport, ReportingSchedule
from baogong.supply.models import Outlet

if TYPE_CHECKING:
    from baogong.accounts.models import User

FIGURE_FIELDS = ("opening", "received", "sold", "closing", "price")


# --- reports ------------------------------------------------------------------------------


@dataclass
class Submitted:
    report: OutletReport
    created: bool  # False: the latest revision already had these figures; nothing written
    reasons: list[str] = field(default_factory=list)  # why it was flagged
    alerts: list[Alert] = field(default_factory=list)


def _same(report: OutletReport, figures: Figures) -> bool:
    return all(getattr(report, name) == getattr(figures, name) for name in FIGURE_FIELDS)


@transaction.atomic
def report_submit(
    *,
    outlet: Outlet,
    commodity: Commodity,
    date: dt.date,
    figures: Figures,
    channel: str,
    by: User | None,
) -> Submitted:
    """File one day's figures of `commodity` at `outlet`; a change is a new revision.

    The same figures as the latest revision write nothing (a retry, a re-upload).
    Raises InvalidInput with every reason when the figures are refused (checks.py);
    figures kept with a flag carry the reasons in the result. Checks the day for
    alerts and notifies their people when the transaction commits.
    """
    if not commodity.is_active:
        raise InvalidInput(_("%(commodity)s is not monitored."), commodity=commodity.name)
    # Serialises writers of this outlet's figures (see the module docstring).
    Outlet.objects.select_for_update().filter(pk=outlet.pk).values_list("pk").first()
    current = OutletReport.objects.filter(
        outlet=outlet, commodity=commodity, date=date, is_latest=True
    ).first()
    if current is not None and _same(current, figures):
        return Submitted(report=current, created=False)
    outcome = check_figures(
        figures,
        date=date,
        today=timezone.localdate(),
        previous_price=queries.previous_price(outlet.pk, commodity.pk, date),
    )
    if not outcome.ok:
        raise InvalidInput(" ".join(outcome.errors))
    if current is not None:
        # The partial unique index allows one latest row: retire the old one first.
        current.is_latest = False
        current._history_user = by
        current._change_reason = "superseded"
        current.save(update_fields=["is_latest", "updated_at"])
    report = OutletReport(
        outlet=outlet,
        commodity=commodity,
        date=date,
        revision=current.revision + 1 if current else 1,
        flags=",".join(outcome.flags),
        channel=channel,
        entered_by=by,
        **{name: getattr(figures, name) for name in FIGURE_FIELDS},
    )
    report._history_user = by
    report._change_reason = "correction" if current else "report"
    report.save()
    alerts = alerts_evaluate(outlet=outlet, commodity=commodity, date=date)
    return Submitted(report=report, created=True, reasons=outcome.reasons, alerts=alerts)


@dataclass
class RowResult:
    line: int
    status: str  # created / unchanged / rejected
    message: str = ""


@dataclass
class ImportReport:
    rows: list[RowResult] = field(default_factory=list)

    def count(self, status: str) -> int:
        return sum(1 for row in self.rows if row.status == status)

    @property
    def counts(self) -> dict[str, int]:
        return {s: self.count(s) for s in ("created", "unchanged", "flagged", "rejected")}


def reports_import(
    rows: Iterable[tuple[int, dict[str, Any] | str]],
    *,
    outlets: dict[str, Outlet],
    channel: str,
    by: User | None,
) -> ImportReport:
    """File parsed rows one by one, each in its own transaction: good rows are kept.

    `rows` yields (line number, parsed row or the reason it could not be read);
    `outlets` maps the names the rows may use to the outlets the user reports for.
    Importing the same rows again writes nothing (report_submit's idempotency).
    """
    commodities = {}
    for commodity in Commodity.objects.filter(is_active=True):
        commodities[commodity.code.casefold()] = commodity
        commodities[commodity.name.casefold()] = commodity
    result = ImportReport()
    for line, row in rows:
        if isinstance(row, str):
            result.rows.append(RowResult(line, "rejected", row))
            continue
        outlet = outlets.get(str(row["outlet"]).strip().casefold())
        commodity = commodities.get(str(row["commodity"]).strip().casefold())
        if outlet is None:
            message = _("Unknown outlet %(name)s.") % {"name": row["outlet"]}
            result.rows.append(RowResult(line, "rejected", str(message)))
            continue
        if commodity is None:
            message = _("Unknown commodity %(name)s.") % {"name": row["commodity"]}
            result.rows.append(RowResult(line, "rejected", str(message)))
            continue
        try:
            done = report_submit(
                outlet=outlet,
                commodity=commodity,
                date=row["date"],
                figures=row["figures"],
                channel=channel,
                by=by,
            )
        except DomainError as error:
            result.rows.append(RowResult(line, "rejected", error.message))
            continue
        if not done.created:
            result.rows.append(RowResult(line, "unchanged"))
        elif done.reasons:
            result.rows.append(RowResult(line, "flagged", " ".join(done.reasons)))
        else:
            result.rows.append(RowResult(line, "created"))
    return result


# --- alerts -------------------------------------------------------------------------------


def _percent_of(value: Decimal, pct: Decimal) -> Decimal:
    return (value * (1 + pct / 100)).quantize(Decimal("0.01"))


def _findings(commodity: Commodity, d: queries.Derived) -> list[tuple[str, Decimal, Decimal]]:
    """(kind, value, threshold) for each threshold the day's figures cross."""
    found = []
    cover = d.days_of_cover
    if cover is not None and cover < commodity.min_days_of_cover:
        found.append((Alert.Kind.LOW_STOCK, cover, commodity.min_days_of_cover))
    fall = d.ratio_change_pct
    if fall is not None and -fall > commodity.max_ratio_fall_pct:
        limit = (d.ratio_before * (1 - commodity.max_ratio_fall_pct / 100)).quantize(
            Decimal("0.01")
        )
        found.append((Alert.Kind.RATIO_FALL, d.ratio_now, limit))
    limits = []
    day_rise = d.price_change_pct
    if day_rise is not None and day_rise > commodity.max_daily_rise_pct:
        limits.append(_percent_of(d.prev_price, commodity.max_daily_rise_pct))
    base_rise = d.baseline_change_pct
    if base_rise is not None and base_rise > commodity.max_baseline_rise_pct:
        limits.append(_percent_of(d.baseline, commodity.max_baseline_rise_pct))
    if limits:
        found.append((Alert.Kind.PRICE_RISE, d.price, min(limits)))
    return found


def alert_key(kind: str, outlet_id: int, commodity_id: int | None, date: dt.date) -> str:
    return f"{kind}:{outlet_id}:{commodity_id or '-'}:{date.isoformat()}"


def alerts_evaluate(*, outlet: Outlet, commodity: Commodity, date: dt.date) -> list[Alert]:
    """Open the alerts the latest figures of (outlet, commodity, date) call for; return new ones.

    The derived figures come from the database's window functions (queries.outlet_series).
    """
    report = queries.outlet_series(
        outlet.pk, commodity_ids=[commodity.pk], start=date, end=date
    ).first()
    if report is None:
        return []
    created = []
    for kind, value, threshold in _findings(commodity, queries.derived_of(report)):
        alert, new = Alert.objects.get_or_create(
            dedupe_key=alert_key(kind, outlet.pk, commodity.pk, date),
            defaults={
                "kind": kind,
                "outlet": outlet,
                "commodity": commodity,
                "date": date,
                "value": value,
                "threshold": threshold,
            },
        )
        if new:
            created.append(alert)
            notifications.alert_raised(alert)
    return created


def _transition(alert: Alert, *, to: str, note: str, by: User) -> Alert:
    if not queries.can_handle(by, alert):
        raise NotAllowed()
    # Two people handling the same alert at once: the second sees the first's state.
    alert = (
        Alert.objects.select_for_update(of=("self",))
        .select_related("outlet__area")
        .get(pk=alert.pk)
    )
    allowed = {
        Alert.State.ACKNOWLEDGED: {Alert.State.OPEN},
        Alert.State.CLOSED: {Alert.State.OPEN, Alert.State.ACKNOWLEDGED},
    }[to]
    if alert.state not in allowed:
        raise Conflict(_("This alert is already %(state)s."), state=alert.get_state_display())
    note = note.strip()
    if to == Alert.State.CLOSED and not note:
        raise InvalidInput(_("Say in a note what was found or done before closing the alert."))
    now = timezone.now()
    alert.state = to
    if note:
        alert.note = f"{alert.note}\n{note}".strip() if alert.note else note
    if to == Alert.State.ACKNOWLEDGED:
        alert.acknowledged_at = now
    else:
        alert.closed_at = now
    alert.handled_by = by
    alert._history_user = by
    alert._change_reason = to
    alert.save()
    return alert


@transaction.atomic
def alert_acknowledge(alert: Alert, *, note: str = "", by: User) -> Alert:
    """Mark an open alert as being looked at. Raises NotAllowed, Conflict."""
    return _transition(alert, to=Alert.State.ACKNOWLEDGED, note=note, by=by)


@transaction.atomic
def alert_close(alert: Alert, *, note: str, by: User) -> Alert:
    """Close an alert with a note on what was done. Raises NotAllowed, Conflict, InvalidInput."""
    return _transition(alert, to=Alert.State.CLOSED, note=note, by=by)


# --- catalogue and schedules -------------------------------------------------------------


def require_bureau(by: User) -> None:
    """Thresholds and schedules are the bureau's (a role held anywhere, or a superuser)."""
    scope_for(by).require(queries.BUREAU_ROLES)


@transaction.atomic
def commodity_save(commodity: Commodity, *, by: User) -> Commodity:
    """Save a commodity and its thresholds (a form has filled them in). Raises NotAllowed."""
    require_bureau(by)
    commodity._history_user = by
    commodity._change_reason = "thresholds" if commodity.pk else "created"
    commodity.save()
    return commodity


@transaction.atomic
def schedule_save(schedule: ReportingSchedule, *, by: User) -> ReportingSchedule:
    """Save a reporting schedule for an area the bureau user covers. Raises NotAllowed."""
    scope = scope_for(by)
    if not scope.superuser and not any(
        schedule.area.path.startswith(p) for p in scope.paths_for(queries.BUREAU_ROLES)
    ):
        raise NotAllowed()
    if schedule.kind == ReportingSchedule.Kind.PERIODIC and not schedule.days():
        raise InvalidInput(_("Give at least one day of the month, such as 10,20,30."))
    schedule._history_user = by
    schedule._change_reason = "schedule"
    schedule.save()
    return schedule


# --- deadlines ---------------------------------------------------------------------------


def _missing(schedule: ReportingSchedule, report_date: dt.date):
    reported = OutletReport.objects.filter(
        outlet_id=OuterRef("pk"), date=report_date, is_latest=True
    )
    return (
        Outlet.objects.filter(area__path__startswith=schedule.area.path, supplier__is_active=True)
        .exclude(Exists(reported))
        .select_related("supplier")
    )


@transaction.atomic
def deadlines_check(*, now: dt.datetime | None = None) -> dict[str, int]:
    """Remind outlets whose deadline is near and open alerts for those that missed one.

    Safe to run as often as wanted: reminders and alerts are keyed per deadline,
    so a second run the same minute writes nothing. A deadline is seen missed
    from the first run after it until the next deadline of its schedule.
    """
    now = timezone.localtime(now)
    counts = {"reminded": 0, "missed": 0}
    for schedule in ReportingSchedule.objects.filter(is_active=True).select_related("area"):
        when = {"kind": schedule.kind, "due_time": schedule.due_time, "days": schedule.days()}
        upcoming = next_due(**when, after=now)
        lead = dt.timedelta(minutes=schedule.remind_minutes_before)
        if upcoming is not None and upcoming.at - now <= lead:
            late = list(_missing(schedule, upcoming.report_date))
            counts["reminded"] += notifications.remind(schedule, upcoming, late)
        passed = last_due(**when, at=now)
        # Deadlines from before the schedule existed were never announced to anyone.
        if passed is not None and passed.at >= schedule.created_at:
            counts["missed"] += _open_missed(schedule, passed)
    return counts


def _open_missed(schedule: ReportingSchedule, due) -> int:
    late = list(_missing(schedule, due.report_date))
    keys = {
        alert_key(Alert.Kind.MISSED_REPORT, outlet.pk, None, due.report_date): outlet
        for outlet in late
    }
    known = set(
        Alert.objects.filter(dedupe_key__in=list(keys)).values_list("dedupe_key", flat=True)
    )
    new = [
        Alert(
            kind=Alert.Kind.MISSED_REPORT,
            outlet=outlet,
            date=due.report_date,
            dedupe_key=key,
        )
        for key, outlet in keys.items()
        if key not in known
    ]
    # Rows a concurrent run wrote in the meantime are skipped by the unique key.
    bulk_create_with_history(
        new, Alert, ignore_conflicts=True, default_change_reason="missed deadline"
    )
    if new:
        notifications.missed(schedule, due, [alert.outlet for alert in new])
    return len(new)
