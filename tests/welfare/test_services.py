from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from baogong.core.errors import Conflict, InvalidInput, NotAllowed
from baogong.notify.models import Message
from baogong.orders import services as order_services
from baogong.orders.errors import OverLimit
from baogong.orders.models import Order
from baogong.welfare import services
from baogong.welfare.models import CheckIn, Need, NeedCategory, SpecialCare, Task

pytestmark = pytest.mark.django_db

Outcome, Wellbeing = CheckIn.Outcome, CheckIn.Wellbeing


def test_care_save_keeps_resident_flags_in_step_and_is_idempotent(tree, care, staff):
    resident = care.resident
    resident.refresh_from_db()
    assert resident.special_group and resident.needs_door_delivery
    again = services.care_save(
        resident=resident,
        details=services.CareDetails(categories=["disabled"], needs_door_delivery=False),
        by=staff,
    )
    assert again.pk == care.pk and SpecialCare.objects.count() == 1
    resident.refresh_from_db()
    assert resident.special_group and not resident.needs_door_delivery
    assert again.history.first().history_user == staff


def test_care_save_refuses_unknown_category_and_outsiders(tree, care, user_with_role):
    with pytest.raises(InvalidInput):
        services.care_save(
            resident=care.resident, details=services.CareDetails(categories=["astronaut"]), by=None
        )
    with pytest.raises(InvalidInput):
        services.care_save(
            resident=care.resident, details=services.CareDetails(categories=[]), by=None
        )
    street = user_with_role("street_staff", tree.street_a)
    other = user_with_role("community_staff", tree.community_b)
    for user in (street, other):
        with pytest.raises(NotAllowed):
            services.care_save(
                resident=care.resident, details=services.CareDetails(categories=["other"]), by=user
            )


def test_care_remove_clears_the_flag(care, staff):
    services.care_remove(care=care, by=staff)
    care.refresh_from_db()
    care.resident.refresh_from_db()
    assert not care.active and not care.resident.special_group


def test_reached_call_moves_the_due_date_by_the_cadence(care, volunteer):
    now = timezone.now()
    services.checkin_record(
        care=care, outcome=Outcome.REACHED, wellbeing=Wellbeing.FINE, by=volunteer, now=now
    )
    care.refresh_from_db()
    assert care.due_on == timezone.localdate(now) + dt.timedelta(days=3)
    assert care.missed_calls == 0 and care.last_call_at == now


def test_not_reached_twice_makes_one_home_visit_task(
    care, volunteer, staff, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        first = services.checkin_record(care=care, outcome=Outcome.NOT_REACHED, by=volunteer)
    assert first.home_visit is None
    care.refresh_from_db()
    assert care.due_on == timezone.localdate() + dt.timedelta(days=1)  # try again tomorrow
    with django_capture_on_commit_callbacks(execute=True):
        second = services.checkin_record(care=care, outcome=Outcome.NOT_REACHED, by=volunteer)
        third = services.checkin_record(care=care, outcome=Outcome.NOT_REACHED, by=volunteer)
    assert second.home_visit is not None and third.home_visit == second.home_visit
    task = Task.objects.get()
    assert task.kind == Task.Kind.HOME_VISIT and task.assignee == volunteer
    kinds = set(Message.objects.values_list("kind", "recipient_id", "channel"))
    assert ("welfare_home_visit", volunteer.pk, "in_app") in kinds
    assert ("welfare_home_visit", staff.pk, "in_app") in kinds


def test_reached_in_between_resets_the_misses(care, volunteer):
    services.checkin_record(care=care, outcome=Outcome.NOT_REACHED, by=volunteer)
    services.checkin_record(
        care=care, outcome=Outcome.OTHER_ANSWERED, wellbeing=Wellbeing.FINE, by=volunteer
    )
    services.checkin_record(care=care, outcome=Outcome.NOT_REACHED, by=volunteer)
    assert not Task.objects.exists()


def test_urgent_tells_community_staff_in_app_and_by_sms(
    care, volunteer, staff, tree, user_with_role, django_capture_on_commit_callbacks
):
    other_staff = user_with_role("community_staff", tree.community_b)
    with django_capture_on_commit_callbacks(execute=True):
        result = services.checkin_record(
            care=care,
            outcome=Outcome.REACHED,
            wellbeing=Wellbeing.URGENT,
            note="胸闷",
            by=volunteer,
        )
    assert result.urgent
    messages = Message.objects.filter(kind="welfare_urgent")
    assert {(m.recipient_id, m.channel) for m in messages} == {
        (staff.pk, "in_app"),
        (staff.pk, "sms"),
    }
    assert not messages.filter(recipient=other_staff).exists()
    assert all(care.resident.name not in m.subject + m.body for m in messages)  # no name


def test_a_refused_call_writes_nothing(care, volunteer):
    with pytest.raises(InvalidInput):
        services.checkin_record(care=care, outcome=Outcome.REACHED, wellbeing="", by=volunteer)
    with pytest.raises(InvalidInput):
        services.checkin_record(
            care=care,
            outcome=Outcome.REACHED,
            wellbeing=Wellbeing.FINE,
            needs=[services.NeedLine("caviar")],
            by=volunteer,
        )
    assert not CheckIn.objects.exists() and not Need.objects.exists()


def test_only_assigned_volunteers_record_calls(
    care, other_building_volunteer, tree, user_with_role
):
    same_building = user_with_role("volunteer", tree.building_a)
    for user in (other_building_volunteer, same_building):
        with pytest.raises(NotAllowed):
            services.checkin_record(care=care, outcome=Outcome.NOT_REACHED, by=user)


def test_need_becomes_a_proxy_order_and_is_met_on_delivery(
    care, volunteer, open_round, django_capture_on_commit_callbacks
):
    call = services.checkin_record(
        care=care,
        outcome=Outcome.REACHED,
        wellbeing=Wellbeing.NEEDS_HELP,
        by=volunteer,
        needs=[services.NeedLine(NeedCategory.VEGETABLES, "白菜", 2)],
    )
    need = call.needs[0]
    offer = open_round.offers.get(code="B")
    order = services.need_order(need=need, round_=open_round, lines={offer.pk: 1}, by=volunteer)
    assert order.channel == Order.Channel.PROXY and order.household_id == care.household_id
    need.refresh_from_db()
    assert need.state == Need.State.IN_HAND and need.order == order and need.handler == volunteer
    with pytest.raises(Conflict):
        services.need_order(need=need, round_=open_round, lines={offer.pk: 1}, by=volunteer)
    for action in ("close", "confirm", "dispatch", "deliver"):
        with django_capture_on_commit_callbacks(execute=True):
            order_services.round_transition(round_=open_round, action=action, by=None)
    need.refresh_from_db()
    assert need.state == Need.State.MET and need.met_at is not None


def test_refused_order_leaves_the_need_open(care, volunteer, open_round):
    need = services.checkin_record(
        care=care,
        outcome=Outcome.REACHED,
        wellbeing=Wellbeing.NEEDS_HELP,
        by=volunteer,
        needs=[services.NeedLine(NeedCategory.GRAIN, "大米")],
    ).needs[0]
    offer = open_round.offers.get(code="A")
    with pytest.raises(OverLimit):  # the per-household limit is 2
        services.need_order(need=need, round_=open_round, lines={offer.pk: 5}, by=volunteer)
    need.refresh_from_db()
    assert (
        need.state == Need.State.OPEN
        and not Order.objects.filter(household=care.household, round=open_round).exists()
    )


def test_medicine_task_done_meets_the_need(care, volunteer):
    need = services.checkin_record(
        care=care,
        outcome=Outcome.REACHED,
        wellbeing=Wellbeing.NEEDS_HELP,
        by=volunteer,
        needs=[services.NeedLine(NeedCategory.MEDICINE, "降压药")],
    ).needs[0]
    task = services.need_task(need=need, kind=Task.Kind.MEDICINE_PURCHASE, by=volunteer)
    assert task.assignee == volunteer
    need.refresh_from_db()
    assert need.state == Need.State.IN_HAND and need.action == Need.Action.MEDICINE_PURCHASE
    services.task_done(task=task, by=volunteer)
    need.refresh_from_db()
    assert need.state == Need.State.MET


def test_need_close_cancels_its_tasks(care, volunteer, staff):
    need = services.checkin_record(
        care=care,
        outcome=Outcome.REACHED,
        wellbeing=Wellbeing.NEEDS_HELP,
        by=volunteer,
        needs=[services.NeedLine(NeedCategory.WATER)],
    ).needs[0]
    task = services.need_task(need=need, kind=Task.Kind.DOOR_DELIVERY, by=staff)
    services.need_close(need=need, state=Need.State.CANCELLED, by=staff)
    task.refresh_from_db()
    assert task.state == Task.State.CANCELLED
    assert need.history.count() == 3  # created, in hand, cancelled: every change dated


def test_cancelled_round_reopens_the_need(
    care, volunteer, open_round, django_capture_on_commit_callbacks
):
    need = services.checkin_record(
        care=care,
        outcome=Outcome.REACHED,
        wellbeing=Wellbeing.NEEDS_HELP,
        by=volunteer,
        needs=[services.NeedLine(NeedCategory.VEGETABLES)],
    ).needs[0]
    offer = open_round.offers.get(code="B")
    services.need_order(need=need, round_=open_round, lines={offer.pk: 1}, by=volunteer)
    with django_capture_on_commit_callbacks(execute=True):
        order_services.round_transition(round_=open_round, action="cancel", by=None)
    need.refresh_from_db()
    assert need.state == Need.State.OPEN and need.order is None


def test_need_goes_on_a_draft_supply_request_of_the_community(care, volunteer, staff, tree):
    from baogong.requisitions.models import Requisition

    need = services.checkin_record(
        care=care,
        outcome=Outcome.REACHED,
        wellbeing=Wellbeing.NEEDS_HELP,
        by=volunteer,
        needs=[services.NeedLine(NeedCategory.MILK, "牛奶", 3)],
    ).needs[0]
    with pytest.raises(NotAllowed):  # volunteers do not raise supply requests
        services.need_requisition(need=need, by=volunteer)
    services.need_requisition(need=need, by=staff)
    need.refresh_from_db()
    requisition = Requisition.objects.get()
    assert requisition.community == tree.community_a
    assert requisition.state == Requisition.State.DRAFT
    line = requisition.lines.get()
    assert (line.item, line.quantity) == ("牛奶", 3) and need.requisition_line == line
    assert need.state == Need.State.IN_HAND and need.action == Need.Action.REQUISITION
