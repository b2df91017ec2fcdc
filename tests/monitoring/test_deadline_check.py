from __future__ import annotations

import datetime as dt
from io import StringIO

from django.core.management import call_command
from django_tasks_db.models import DBTaskResult

from baogong.monitoring import services
from baogong.monitoring.models import Alert, ReportingSchedule
from baogong.notify.models import Message
from tests.monitoring.conftest import NOW, TODAY, file


def daily(tree, **fields) -> ReportingSchedule:
    return ReportingSchedule.objects.create(
        area=tree.district,
        name="每日进销存",
        kind=ReportingSchedule.Kind.DAILY,
        due_time=dt.time(12, 0),
        remind_minutes_before=60,
        **fields,
    )


def test_reminder_goes_to_suppliers_of_outlets_not_yet_reported(
    tree, outlet, outlet_b, rice, supplier_user, frozen_time
):
    daily(tree)
    file(outlet_b, rice, TODAY, 10, 0, 1, 9, "6.00")  # outlet_b has reported
    assert services.deadlines_check()["reminded"] == 0  # 10:00, due 12:00: too early
    frozen_time.move_to(NOW + dt.timedelta(minutes=70))
    counts = services.deadlines_check()
    assert counts["reminded"] == 1
    message = Message.objects.get(kind="monitoring_reminder")
    assert message.recipient == supplier_user and outlet.name in message.body
    assert services.deadlines_check()["reminded"] == 0  # the same deadline: not again


def test_missed_deadline_opens_one_alert_per_late_outlet_and_one_summary(
    tree, outlet, outlet_b, rice, supplier_user, bureau, frozen_time
):
    daily(tree)
    file(outlet_b, rice, TODAY, 10, 0, 1, 9, "6.00")
    frozen_time.move_to(NOW + dt.timedelta(hours=2, minutes=5))  # 12:05
    assert services.deadlines_check()["missed"] == 1
    alert = Alert.objects.get(kind=Alert.Kind.MISSED_REPORT)
    assert alert.outlet == outlet and alert.date == TODAY
    assert alert.history.get().history_change_reason == "missed deadline"
    bureau_messages = Message.objects.filter(recipient=bureau, kind="monitoring_alert")
    assert bureau_messages.count() == 1 and "1" in bureau_messages.get().subject
    assert services.deadlines_check()["missed"] == 0  # idempotent


def test_periodic_summary_checks_the_day_before(tree, outlet, rice, frozen_time):
    schedule = ReportingSchedule.objects.create(
        area=tree.district,
        name="旬报",
        kind=ReportingSchedule.Kind.PERIODIC,
        due_time=dt.time(9, 0),
        days_of_month="10,20,30",
    )
    ReportingSchedule.objects.filter(pk=schedule.pk).update(created_at=NOW - dt.timedelta(days=9))
    # NOW is the 20th at 10:00: the 09:00 deadline passed, for the figures of the 19th.
    assert services.deadlines_check()["missed"] == 1
    assert Alert.objects.get().date == TODAY - dt.timedelta(days=1)


def test_command_runs_the_check_and_can_start_the_repeating_task(tree, outlet, rice):
    daily(tree)
    out = StringIO()
    call_command("monitoring_check", "--start", stdout=out)
    # Yesterday's deadline passed before the schedule existed: nobody missed it.
    assert "reminded=0 missed=0" in out.getvalue()
    queued = DBTaskResult.objects.get(task_path="baogong.monitoring.tasks.deadline_tick")
    assert queued.run_after > NOW
