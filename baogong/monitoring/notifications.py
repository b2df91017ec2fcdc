"""Who hears about market alerts and deadlines, through notify.services.send.

- Low stock and a falling stock-to-sales ratio: the bureau staff whose area
  covers the outlet, and the outlet's supplier users (they can restock).
- An abnormal price rise: the bureau staff and the market supervision
  officers covering the outlet (gouging is theirs to pursue).
- A report missing at a deadline: the outlet's supplier users, one alert
  each; the bureau staff get one summary per deadline, not one per outlet.
- Reminders before a deadline: the supplier users of outlets not yet reported.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from django.db.models import Q
from django.urls import reverse
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from baogong.accounts.models import Role, RoleGrant
from baogong.monitoring.models import Alert
from baogong.monitoring.queries import ancestor_paths
from baogong.notify.services import send

if TYPE_CHECKING:
    from baogong.monitoring.deadlines import Due
    from baogong.monitoring.models import ReportingSchedule
    from baogong.supply.models import Outlet

STOCK_ROLES = (Role.BUREAU_STAFF,)
PRICE_ROLES = (Role.BUREAU_STAFF, Role.MARKET_SUPERVISION)


def area_staff(path: str | None, roles: Sequence[str]) -> list[int]:
    if not path:
        return []
    return sorted(
        set(
            RoleGrant.objects.filter(
                role__in=roles, area__path__in=ancestor_paths(path), user__is_active=True
            ).values_list("user_id", flat=True)
        )
    )


def supplier_users(supplier_ids: Sequence[int]) -> list[int]:
    return sorted(
        set(
            RoleGrant.objects.filter(
                Q(role=Role.SUPPLIER) & Q(supplier_id__in=supplier_ids), user__is_active=True
            ).values_list("user_id", flat=True)
        )
    )


def alert_detail(alert: Alert) -> str:
    values = {"value": alert.value, "threshold": alert.threshold}
    if alert.kind == Alert.Kind.LOW_STOCK:
        return _("%(value)s days of cover, alert below %(threshold)s") % values
    if alert.kind == Alert.Kind.RATIO_FALL:
        return _("stock-to-sales ratio %(value)s, alert below %(threshold)s") % values
    if alert.kind == Alert.Kind.PRICE_RISE:
        return _("price %(value)s yuan, alert above %(threshold)s yuan") % values
    return _("no report by the deadline")


def alert_raised(alert: Alert) -> None:
    """Tell the alert's people (see the module docstring); runs in the caller's transaction."""
    outlet = alert.outlet
    roles = PRICE_ROLES if alert.kind == Alert.Kind.PRICE_RISE else STOCK_ROLES
    users = area_staff(outlet.area.path if outlet.area_id else None, roles)
    if alert.kind != Alert.Kind.PRICE_RISE:
        users += supplier_users([outlet.supplier_id])
    send(
        "monitoring_alert",
        users=users,
        context={
            "outlet": outlet.name,
            "alert": alert.get_kind_display(),
            "commodity": alert.commodity.name if alert.commodity_id else "",
            "date": date_format(alert.date, "SHORT_DATE_FORMAT"),
            "detail": alert_detail(alert),
        },
        dedupe_key=f"monitoring:{alert.dedupe_key}",
        link=reverse("monitoring:alert_detail", kwargs={"pk": alert.pk}),
    )


def remind(schedule: ReportingSchedule, due: Due, outlets: Sequence[Outlet]) -> int:
    """Remind each late outlet's supplier users before `due`; return messages written."""
    written = 0
    for outlet in outlets:
        written += send(
            "monitoring_reminder",
            users=supplier_users([outlet.supplier_id]),
            context={
                "outlet": outlet.name,
                "report_date": date_format(due.report_date, "SHORT_DATE_FORMAT"),
                "due_at": date_format(due.at, "SHORT_DATETIME_FORMAT"),
            },
            dedupe_key=f"monitoring-remind:{schedule.pk}:{due.at.isoformat()}:{outlet.pk}",
            link=reverse("monitoring:report_entry", kwargs={"pk": outlet.pk}),
        )
    return written


def missed(schedule: ReportingSchedule, due: Due, outlets: Sequence[Outlet]) -> None:
    """Tell the late outlets' suppliers, and the bureau once with the count."""
    day = date_format(due.report_date, "SHORT_DATE_FORMAT")
    detail = _("no report by the deadline")
    label = _("report missing at deadline")
    for outlet in outlets:
        send(
            "monitoring_alert",
            users=supplier_users([outlet.supplier_id]),
            context={
                "outlet": outlet.name,
                "alert": label,
                "commodity": "",
                "date": day,
                "detail": detail,
            },
            dedupe_key=f"monitoring-missed:{schedule.pk}:{due.report_date}:{outlet.pk}",
            link=reverse("monitoring:report_entry", kwargs={"pk": outlet.pk}),
        )
    send(
        "monitoring_alert",
        users=area_staff(schedule.area.path, STOCK_ROLES),
        context={
            "outlet": _("%(count)s outlets of %(area)s")
            % {"count": len(outlets), "area": schedule.area.name},
            "alert": label,
            "commodity": "",
            "date": day,
            "detail": schedule.name,
        },
        dedupe_key=f"monitoring-missed:{schedule.pk}:{due.report_date}",
        link=reverse("monitoring:deadlines", kwargs={"area_pk": schedule.area_id})
        + f"?schedule={schedule.pk}&date={due.report_date.isoformat()}",
    )
