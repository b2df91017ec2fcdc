from __future__ import annotations

import datetime as dt

import pytest

from baogong.accounts.models import User
from baogong.areas.models import Area
from baogong.demo.services import demo_load
from baogong.monitoring import queries
from baogong.monitoring.demo import DAYS, demo_monitoring
from baogong.monitoring.models import Alert, Commodity, OutletReport, ReportingSchedule
from baogong.notify.models import Message
from baogong.supply.models import Outlet
from tests.monitoring.conftest import TODAY


@pytest.fixture
def demo(db, settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    demo_load()
    return Area.objects.get(parent__isnull=True, name="樊城区")


def test_demo_has_sixty_days_of_reports_and_alerts_to_see(demo):
    outlets = Outlet.objects.filter(area__path__startswith=demo.path).count()
    items = Commodity.objects.filter(is_active=True).count()
    assert OutletReport.objects.count() == outlets * items * DAYS - items  # one silent today
    assert OutletReport.objects.earliest("date").date == TODAY - dt.timedelta(days=DAYS - 1)
    kinds = set(Alert.objects.values_list("kind", flat=True))
    assert {Alert.Kind.LOW_STOCK, Alert.Kind.PRICE_RISE} <= kinds
    assert ReportingSchedule.objects.filter(area=demo).count() == 2
    supervision = User.objects.get(phone="17010000010")
    offenders = queries.repeat_price_offenders(supervision, since=TODAY - dt.timedelta(days=30))
    assert offenders.exists()
    bureau = User.objects.get(phone="17010000007")
    assert Message.objects.filter(recipient=bureau, kind="monitoring_alert").exists()
    assert demo_monitoring(district=demo) == 0  # a second load writes nothing
