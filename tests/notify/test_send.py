from __future__ import annotations

import pytest
from django.db import transaction

from baogong.accounts.models import Role
from baogong.notify.models import Message
from baogong.notify.services import send
from tests.factories import HouseholdFactory, ResidentFactory, UserFactory, grant

CTX = {"round_title": "第1期", "pickup_code": "K7PQ2M"}


def _rows(**filters):
    return Message.objects.filter(**filters).order_by("channel", "pk")


def test_user_gets_in_app_and_sms_when_kind_says_so(db):
    user = UserFactory()
    written = send("order_dropped", users=[user.pk], context=CTX, dedupe_key="order_dropped:1")
    assert written == 2
    in_app = Message.objects.get(recipient=user, channel=Message.Channel.IN_APP)
    assert in_app.state == Message.State.SENT and in_app.sent_at is not None
    assert "K7PQ2M" in in_app.body and in_app.subject == "Order not delivered: 第1期"
    sms = Message.objects.get(recipient=user, channel=Message.Channel.SMS)
    assert sms.state == Message.State.PENDING and sms.phone == user.phone


def test_staff_kind_is_in_app_only(db):
    user = UserFactory()
    ctx = {"round_title": "第1期", "reason": "sold out"}
    assert send("round_close", users=[user.pk], context=ctx, dedupe_key="round_close:1") == 1
    assert list(_rows().values_list("channel", flat=True)) == [Message.Channel.IN_APP]


def test_same_event_is_written_once(db, tree):
    user = UserFactory()
    args = {"users": [user.pk, user.pk], "households": [tree.household_a.pk], "context": CTX}
    first = send("order_dropped", dedupe_key="order_dropped:1", **args)
    again = send("order_dropped", dedupe_key="order_dropped:1", **args)
    assert first == 3 and again == 0
    assert Message.objects.count() == 3
    # Another event for the same people is new.
    assert send("order_dropped", dedupe_key="order_dropped:2", **args) == 3


def test_household_sms_to_household_phone_in_app_to_its_account_holders(db, tree):
    household = tree.household_a
    resident_user = UserFactory()
    grant(resident_user, Role.RESIDENT, household=household)
    send("order_dropped", households=[household.pk], context=CTX, dedupe_key="k")
    sms = Message.objects.get(channel=Message.Channel.SMS)
    assert sms.household == household and sms.recipient is None
    assert sms.phone == household.phone
    in_app = Message.objects.get(channel=Message.Channel.IN_APP)
    assert in_app.recipient == resident_user and in_app.household == household
    assert not Message.objects.filter(channel=Message.Channel.CALL).exists()


def test_landline_household_falls_back_to_resident_mobile(db, tree):
    household = HouseholdFactory(building=tree.building_a, phone="0710-3456789", phone_alt="")
    ResidentFactory(household=household, phone="17000029999")
    send("order_dropped", households=[household.pk], context=CTX, dedupe_key="k")
    assert Message.objects.get(channel=Message.Channel.SMS).phone == "17000029999"


def test_household_without_mobile_goes_on_call_list(db, tree):
    household = HouseholdFactory(building=tree.building_a, phone="0710-3456789", phone_alt="")
    ResidentFactory(household=household, phone="")
    send("order_dropped", households=[household.pk], context=CTX, dedupe_key="k")
    call = Message.objects.get(household=household)
    assert call.channel == Message.Channel.CALL
    assert call.phone == "0710-3456789" and call.state == Message.State.PENDING


def test_special_care_household_gets_sms_and_a_call(db, tree):
    household = HouseholdFactory(building=tree.building_a)
    ResidentFactory(household=household, special_group=True)
    send("order_dropped", households=[household.pk], context=CTX, dedupe_key="k")
    channels = sorted(Message.objects.filter(household=household).values_list("channel", flat=True))
    assert channels == [Message.Channel.CALL, Message.Channel.SMS]


def test_one_text_per_number_per_event(db, tree):
    """A resident addressed as a user and through the household is texted once."""
    user = UserFactory(phone=tree.household_a.phone)
    send(
        "order_dropped",
        users=[user.pk],
        households=[tree.household_a.pk],
        context=CTX,
        dedupe_key="k",
    )
    assert Message.objects.filter(channel=Message.Channel.SMS).count() == 1


def test_missing_context_and_unknown_kind_are_errors(db):
    with pytest.raises(ValueError, match="pickup_code"):
        send("order_dropped", users=[], context={"round_title": "x"}, dedupe_key="k")
    with pytest.raises(ValueError, match="unknown"):
        send("no_such_kind", context={}, dedupe_key="k")


def test_rolled_back_transaction_tells_nobody(db):
    user = UserFactory()
    with pytest.raises(RuntimeError), transaction.atomic():
        send("order_dropped", users=[user.pk], context=CTX, dedupe_key="k")
        raise RuntimeError
    assert not Message.objects.exists()


def test_delivery_is_enqueued_on_commit_only_for_sms(db, django_capture_on_commit_callbacks):
    user = UserFactory()
    with django_capture_on_commit_callbacks() as callbacks:
        send(
            "round_close",
            users=[user.pk],
            context={"round_title": "t", "reason": ""},
            dedupe_key="a",
        )
    assert callbacks == []
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        send("order_dropped", users=[user.pk], context=CTX, dedupe_key="b")
    assert len(callbacks) == 1
    from django_tasks_db.models import DBTaskResult

    assert DBTaskResult.objects.filter(task_path__endswith="deliver_outbox").count() == 1


def test_rerun_does_not_text_a_shared_number_again(db, tree):
    """Two flats with one contact number: texted once, and not again on a rerun."""
    shared = HouseholdFactory(building=tree.building_a, phone=tree.household_a.phone)
    both = [tree.household_a.pk, shared.pk]
    assert send("order_dropped", households=both, context=CTX, dedupe_key="k") == 1
    assert send("order_dropped", households=both, context=CTX, dedupe_key="k") == 0
    assert send("order_dropped", households=[shared.pk], context=CTX, dedupe_key="k") == 0
