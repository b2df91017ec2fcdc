from __future__ import annotations

import datetime as dt

import time_machine
from django.core.management import call_command
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from baogong.fulfilment import tasks
from baogong.fulfilment.models import Document
from baogong.orders import services
from baogong.orders.models import Round
from tests.fulfilment.conftest import place


def make_round(supplier, packages, tree, *, cutoff_in=dt.timedelta(hours=2)) -> Round:
    now = timezone.now()
    return services.round_create(
        supplier=supplier,
        title="截单测试",
        areas=[tree.compound_a],
        opens_at=now - dt.timedelta(hours=1),
        cutoff_at=now + cutoff_in,
        offers=[services.OfferSpec(packages[0], "A")],
        by=None,
    )


def run_worker() -> None:
    """Run the queued tasks that are due now, as `manage.py db_worker` picks them.

    (The real worker closes the database connection between tasks, which a test
    transaction on PostgreSQL does not survive; picking is the backend's own query.)
    """
    ready = DBTaskResult.objects.ready().filter(task_path__startswith="baogong.fulfilment.")
    for result in ready.order_by("enqueued_at"):
        result.task.call(*result.args_kwargs["args"], **result.args_kwargs["kwargs"])
        result.delete()


def test_the_worker_closes_the_round_at_its_cutoff(
    supplier, packages, tree, django_capture_on_commit_callbacks
):
    round_ = make_round(supplier, packages, tree)
    with django_capture_on_commit_callbacks(execute=True):
        services.round_transition(round_=round_, action="open", by=None)
    place(round_, tree.household_a, {"A": 1})
    queued = DBTaskResult.objects.get(task_path__endswith="round_cutoff_task")
    assert queued.run_after == round_.cutoff_at
    run_worker()  # before the cut-off: not due yet
    assert Round.objects.get(pk=round_.pk).state == Round.State.OPEN
    with time_machine.travel(round_.cutoff_at + dt.timedelta(seconds=1), tick=False):
        run_worker()
    round_.refresh_from_db()
    assert round_.state == Round.State.CLOSED
    assert round_.closed_reason == "cut-off time reached"


def test_closing_twice_does_nothing_more(supplier, packages, tree):
    round_ = make_round(supplier, packages, tree)
    services.round_transition(round_=round_, action="open", by=None)
    with time_machine.travel(round_.cutoff_at + dt.timedelta(minutes=1), tick=False):
        assert tasks.round_close_at_cutoff(round_.pk) is True
        history = Round.history.filter(id=round_.pk).count()
        assert tasks.round_close_at_cutoff(round_.pk) is False
        assert tasks.round_cutoff_task.call(round_.pk) is False
    assert Round.history.filter(id=round_.pk).count() == history


def test_a_moved_cutoff_requeues_the_task(supplier, packages, tree):
    round_ = make_round(supplier, packages, tree)
    services.round_transition(round_=round_, action="open", by=None)
    later = round_.cutoff_at + dt.timedelta(days=1)
    Round.objects.filter(pk=round_.pk).update(cutoff_at=later)
    with time_machine.travel(round_.cutoff_at + dt.timedelta(minutes=1), tick=False):
        assert tasks.round_cutoff_task.call(round_.pk) is False
    assert Round.objects.get(pk=round_.pk).state == Round.State.OPEN
    assert DBTaskResult.objects.filter(
        task_path__endswith="round_cutoff_task", run_after=later
    ).exists()


def test_the_sweep_closes_rounds_a_lost_task_left_open(supplier, packages, tree):
    past = make_round(supplier, packages, tree, cutoff_in=dt.timedelta(minutes=-5))
    services.round_transition(round_=past, action="open", by=None)
    future = make_round(supplier, packages, tree)
    services.round_transition(round_=future, action="open", by=None)
    call_command("close_rounds", verbosity=0)
    assert Round.objects.get(pk=past.pk).state == Round.State.CLOSED
    assert Round.objects.get(pk=future.pk).state == Round.State.OPEN
    assert tasks.round_cutoff_sweep() == []


def test_closing_consolidates_and_makes_the_documents(
    filled_round, django_capture_on_commit_callbacks, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    with django_capture_on_commit_callbacks(execute=True):
        services.round_transition(round_=filled_round.round, action="close", by=None)
    assert DBTaskResult.objects.filter(task_path__endswith="round_consolidate_task").exists()
    with django_capture_on_commit_callbacks(execute=True):
        assert tasks.round_consolidate_task.call(filled_round.round.pk) is True
    round_ = Round.objects.get(pk=filled_round.round.pk)
    assert round_.consolidated_at is not None
    assert Document.objects.filter(round=round_, state=Document.State.DONE).count() == 6
    assert tasks.round_consolidate_task.call(round_.pk) is False  # once
