from __future__ import annotations

import datetime as dt

from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from baogong.accounts.models import Role
from baogong.notify import tasks
from baogong.notify.models import Message
from baogong.orders import services
from baogong.orders.models import Order
from tests.factories import HouseholdFactory, UserFactory, grant


def _enqueued(name: str):
    return DBTaskResult.objects.filter(task_path__endswith=name)


def test_opening_a_round_enqueues_the_announcement(
    tree, supplier, packages, django_capture_on_commit_callbacks
):
    now = timezone.now()
    round_ = services.round_create(
        supplier=supplier,
        title="第2期",
        areas=[tree.compound_a],
        opens_at=now - dt.timedelta(hours=1),
        cutoff_at=now + dt.timedelta(days=1),
        offers=[services.OfferSpec(packages[0], "A")],
        by=None,
    )
    with django_capture_on_commit_callbacks(execute=True):
        services.round_transition(round_=round_, action="open", by=None)
    assert _enqueued("announce_round").count() == 1


def test_round_opened_tells_households_of_its_compounds_only(open_round, tree):
    resident = UserFactory()
    grant(resident, Role.RESIDENT, household=tree.household_a)
    second = HouseholdFactory(building=tree.building_a)
    written = tasks.announce_round.call(open_round.pk)
    sms_households = set(
        Message.objects.filter(kind="round_opened", channel=Message.Channel.SMS).values_list(
            "household_id", flat=True
        )
    )
    assert sms_households == {tree.household_a.pk, second.pk}
    in_app = Message.objects.get(kind="round_opened", channel=Message.Channel.IN_APP)
    assert in_app.recipient == resident
    assert "测试超市" in in_app.body and "第1期 保供套餐" in in_app.subject
    assert in_app.link == f"/shop/{open_round.pk}/"
    assert written == 3
    # The cut-off reminder is scheduled two hours before the cut-off.
    reminder = _enqueued("remind_before_cutoff").get()
    assert reminder.run_after == open_round.cutoff_at - dt.timedelta(hours=2)
    # Running the task again (a retry) writes nothing more.
    assert tasks.announce_round.call(open_round.pk) == 0


def test_round_opened_in_big_chunks(open_round, tree, monkeypatch):
    from baogong.notify import services as notify_services

    monkeypatch.setattr(notify_services, "CHUNK", 3)
    monkeypatch.setattr("baogong.notify.events.CHUNK", 3)
    for _ in range(7):
        HouseholdFactory(building=tree.building_a)
    tasks.announce_round.call(open_round.pk)
    assert Message.objects.filter(kind="round_opened", channel="sms").count() == 8


def test_cutoff_reminder_skips_households_that_ordered(open_round, tree):
    other = HouseholdFactory(building=tree.building_a)
    offer = open_round.offers.first()
    services.order_place(
        round_=open_round,
        household=tree.household_a,
        lines={offer.pk: 1},
        channel=Order.Channel.PROXY,
        by=None,
    )
    open_round.cutoff_at = timezone.now() + dt.timedelta(hours=1)
    open_round.save(update_fields=["cutoff_at"])
    tasks.remind_before_cutoff.call(open_round.pk)
    reminded = set(
        Message.objects.filter(kind="cutoff_reminder").values_list("household_id", flat=True)
    )
    assert reminded == {other.pk}
    assert tasks.remind_before_cutoff.call(open_round.pk) == 0


def test_cutoff_reminder_waits_when_cutoff_moved_later(open_round):
    # Cut-off a day away: the reminder woke up too early and schedules itself again.
    assert tasks.remind_before_cutoff.call(open_round.pk) == 0
    assert not Message.objects.filter(kind="cutoff_reminder").exists()
    assert _enqueued("remind_before_cutoff").count() == 1


def test_cutoff_reminder_for_a_closed_round_does_nothing(open_round):
    services.round_transition(round_=open_round, action="close", by=None)
    assert tasks.remind_before_cutoff.call(open_round.pk) == 0
