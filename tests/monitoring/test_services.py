from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from baogong.core.errors import Conflict, InvalidInput, NotAllowed
from baogong.monitoring import services
from baogong.monitoring.models import Alert, OutletReport
from baogong.notify.models import Message
from tests.monitoring.conftest import TODAY, file, steady_days

YESTERDAY = TODAY - dt.timedelta(days=1)


def test_report_is_stored_as_revision_one(outlet, rice, supplier_user):
    done = file(outlet, rice, TODAY, 100, 20, 30, 90, "6.00", by=supplier_user)
    assert done.created and done.report.revision == 1 and done.report.is_latest
    assert done.report.history.first().history_user == supplier_user


def test_same_figures_again_write_nothing(outlet, rice):
    first = file(outlet, rice, TODAY, 100, 20, 30, 90, "6.00")
    again = file(outlet, rice, TODAY, 100, 20, 30, 90, "6.00")
    assert not again.created and again.report.pk == first.report.pk
    assert OutletReport.objects.count() == 1


def test_correction_is_a_new_revision_and_only_it_counts(outlet, rice, supplier_user):
    file(outlet, rice, TODAY, 100, 20, 30, 90, "6.00")
    done = file(outlet, rice, TODAY, 100, 20, 35, 85, "6.00", by=supplier_user)
    assert done.report.revision == 2
    rows = OutletReport.objects.filter(outlet=outlet, date=TODAY).order_by("revision")
    assert [(r.revision, r.is_latest) for r in rows] == [(1, False), (2, True)]
    assert done.report.history.first().history_change_reason == "correction"


def test_refused_figures_write_nothing_and_say_why(outlet, rice):
    file(outlet, rice, YESTERDAY, 100, 0, 10, 90, "6.00")
    with pytest.raises(InvalidInput) as error:
        file(outlet, rice, TODAY, 90, 0, 10, 80, "60.00")
    assert "ten times" in error.value.message
    assert OutletReport.objects.filter(date=TODAY).count() == 0


def test_off_balance_figures_are_kept_with_a_flag(outlet, rice):
    done = file(outlet, rice, TODAY, 100, 20, 30, 50, "6.00")
    assert done.created and done.report.flag_list == ["balance"] and done.reasons


def test_low_days_of_cover_opens_one_alert_and_tells_bureau_and_supplier(
    outlet, rice, bureau, supervision, supplier_user
):
    steady_days(outlet, rice, days=6, sold=10, stock=100, end=YESTERDAY)
    # Today: 20 left after selling 10; average sales over 7 reports = 10 → 2 days < 3.
    done = file(outlet, rice, TODAY, 30, 0, 10, 20, "6.00")
    # The stock-to-sales ratio fell from 10 to 2 as well.
    assert [a.kind for a in done.alerts] == [Alert.Kind.LOW_STOCK, Alert.Kind.RATIO_FALL]
    alert = done.alerts[0]
    assert alert.value == Decimal("2.00") and alert.threshold == Decimal("3.0")
    told = set(Message.objects.filter(kind="monitoring_alert").values_list("recipient", flat=True))
    assert told == {bureau.pk, supplier_user.pk}  # not market supervision: stock, not price
    # A correction the same day that is still low does not open a second alert.
    file(outlet, rice, TODAY, 30, 0, 10, 21, "6.00")
    assert Alert.objects.filter(kind=Alert.Kind.LOW_STOCK).count() == 1


def test_price_rise_over_a_day_alerts_bureau_and_market_supervision(
    outlet, rice, bureau, supervision, supplier_user
):
    file(outlet, rice, YESTERDAY, 100, 0, 10, 90, "6.00")
    done = file(outlet, rice, TODAY, 90, 0, 10, 80, "7.50")  # +25% > 20% in a day
    alert = next(a for a in done.alerts if a.kind == Alert.Kind.PRICE_RISE)
    assert alert.value == Decimal("7.50") and alert.threshold == Decimal("7.20")
    told = set(Message.objects.filter(kind="monitoring_alert").values_list("recipient", flat=True))
    assert told == {bureau.pk, supervision.pk}


def test_price_over_baseline_alerts_even_after_slow_rises(outlet, rice):
    file(outlet, rice, YESTERDAY, 100, 0, 10, 90, "7.50")
    done = file(outlet, rice, TODAY, 90, 0, 10, 80, "8.00")  # +6.7% a day, +33% over 6.00
    alert = next(a for a in done.alerts if a.kind == Alert.Kind.PRICE_RISE)
    assert alert.threshold == Decimal("7.80")


def test_fast_falling_stock_to_sales_ratio_alerts(outlet, rice):
    file(outlet, rice, YESTERDAY, 200, 0, 10, 190, "6.00")  # ratio 19
    done = file(outlet, rice, TODAY, 190, 0, 20, 170, "6.00")  # ratio 8.5: −55% > 40%
    alert = next(a for a in done.alerts if a.kind == Alert.Kind.RATIO_FALL)
    assert alert.value == Decimal("8.50") and alert.threshold == Decimal("11.40")


def test_alert_is_acknowledged_then_closed_with_a_note(outlet, rice, bureau):
    file(outlet, rice, YESTERDAY, 100, 0, 10, 90, "6.00")
    alert = file(outlet, rice, TODAY, 90, 0, 10, 80, "7.50").alerts[0]
    services.alert_acknowledge(alert, note="打电话问了", by=bureau)
    with pytest.raises(InvalidInput):
        services.alert_close(alert, note=" ", by=bureau)
    alert = services.alert_close(alert, note="进货价上涨，已核实", by=bureau)
    assert alert.state == Alert.State.CLOSED and "已核实" in alert.note
    assert alert.handled_by == bureau
    assert [h.state for h in alert.history.order_by("history_date")] == [
        "open",
        "acknowledged",
        "closed",
    ]
    with pytest.raises(Conflict):
        services.alert_close(alert, note="again", by=bureau)


def test_market_supervision_handles_price_alerts_only(outlet, rice, supervision):
    steady_days(outlet, rice, days=6, end=YESTERDAY)
    alerts = file(outlet, rice, TODAY, 30, 0, 10, 20, "7.50").alerts
    by_kind = {a.kind: a for a in alerts}
    services.alert_acknowledge(by_kind[Alert.Kind.PRICE_RISE], by=supervision)
    with pytest.raises(NotAllowed):
        services.alert_acknowledge(by_kind[Alert.Kind.LOW_STOCK], by=supervision)


def test_staff_of_another_street_cannot_handle(outlet, rice, user_with_role, tree):
    from baogong.accounts.models import Role

    other = user_with_role(Role.BUREAU_STAFF, tree.street_b)
    file(outlet, rice, YESTERDAY, 100, 0, 10, 90, "6.00")
    alert = file(outlet, rice, TODAY, 90, 0, 10, 80, "7.50").alerts[0]
    with pytest.raises(NotAllowed):
        services.alert_acknowledge(alert, by=other)
    assert Alert.objects.get(pk=alert.pk).state == Alert.State.OPEN


def test_import_keeps_good_rows_reports_bad_ones_and_is_idempotent(outlet, rice, eggs):
    from tests.monitoring.conftest import figures

    rows = [
        (
            2,
            {
                "outlet": "一号店",
                "commodity": "rice",
                "date": TODAY,
                "figures": figures(100, 0, 10, 90, "6.00"),
            },
        ),
        (
            3,
            {
                "outlet": "一号店",
                "commodity": "鸡蛋",
                "date": TODAY,
                "figures": figures(50, 0, 5, -1, "11.00"),
            },
        ),
        (
            4,
            {
                "outlet": "不存在",
                "commodity": "rice",
                "date": TODAY,
                "figures": figures(1, 0, 0, 1, "6.00"),
            },
        ),
        (5, "Not a number: Price."),
    ]
    outlets = {"一号店": outlet}
    report = services.reports_import(rows, outlets=outlets, channel="excel", by=None)
    assert report.counts == {"created": 1, "unchanged": 0, "flagged": 0, "rejected": 3}
    assert [(r.line, r.status) for r in report.rows if r.status == "rejected"] == [
        (3, "rejected"),
        (4, "rejected"),
        (5, "rejected"),
    ]
    assert "negative" in report.rows[1].message
    again = services.reports_import(rows, outlets=outlets, channel="excel", by=None)
    assert again.counts["unchanged"] == 1 and again.counts["created"] == 0
    assert OutletReport.objects.count() == 1
