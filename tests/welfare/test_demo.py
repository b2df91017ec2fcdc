from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from baogong.accounts.models import User
from baogong.demo import fancheng
from baogong.welfare import queries
from baogong.welfare.models import CheckIn, Need, SpecialCare, Task

pytestmark = pytest.mark.django_db


def test_demo_has_special_care_in_every_state(fast_passwords):
    call_command("load_demo", stdout=StringIO())
    volunteer = User.objects.get(phone=fancheng.account_phone(6))
    cares = SpecialCare.objects.all()
    assert cares.count() >= 10
    categories = {c for care in cares for c in care.categories}
    assert len(categories) >= 5
    assert all(care.resident.special_group for care in cares)
    mine = cares.filter(volunteers=volunteer)
    assert mine.count() == 8
    today = timezone.localdate()
    assert cares.filter(due_on__lt=today).exists() and cares.filter(due_on=today).exists()
    assert CheckIn.objects.filter(called_at__date=today).exists()
    assert {n.state for n in Need.objects.all()} >= {"open", "in_hand", "met"}
    assert Task.objects.filter(kind=Task.Kind.HOME_VISIT).exists()
    from baogong.accounts.scoping import scope_for

    rows = queries.call_list(queries.volunteer_cares(scope_for(volunteer)), today=today)
    assert rows and rows[0].overdue
    before = SpecialCare.history.count()
    call_command("load_demo", stdout=StringIO())
    assert SpecialCare.history.count() == before  # idempotent


@pytest.fixture
def fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
