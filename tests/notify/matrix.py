"""Permission matrix rows of the notify app (see tests/test_permission_matrix.py)."""

from __future__ import annotations

from baogong.accounts.models import Role
from baogong.notify.models import Message

REGISTER = {Role.DISTRICT_ADMIN, Role.STREET_STAFF, Role.COMMUNITY_STAFF}
# The call list names special-care residents: the roles that see those flags.
CALLERS = REGISTER | {Role.VOLUNTEER}


def build(side) -> dict:
    message = {"kind": "order_dropped", "subject": "s", "body": "b", "dedupe_key": "matrix"}
    return {
        # Someone else's in-app message: no role opens it, only its recipient.
        "inbox_message": Message.objects.create(
            recipient=side.volunteer, channel=Message.Channel.IN_APP, **message
        ),
        "call": Message.objects.create(
            household=side.household,
            channel=Message.Channel.CALL,
            phone=side.household.phone,
            **message,
        ),
        "failed_sms": Message.objects.create(
            household=side.household,
            channel=Message.Channel.SMS,
            phone=side.household.phone,
            state=Message.State.FAILED,
            attempts=5,
            **message,
        ),
    }


TARGETS = {
    "notify:mark_read": ("post", lambda s: {"pk": s.extra["inbox_message"].pk}, set()),
    "notify:call_done": ("post", lambda s: {"pk": s.extra["call"].pk}, CALLERS),
    "notify:retry": ("post", lambda s: {"pk": s.extra["failed_sms"].pk}, REGISTER),
}
# Lists of the user's own messages, or scoped lists tested in tests/notify/test_views.py.
NOT_OBJECT_SCOPED = {
    "notify:inbox",
    "notify:mark_all_read",
    "notify:call_list",
    "notify:failed_sms",
    "notify:retry_all",
}
