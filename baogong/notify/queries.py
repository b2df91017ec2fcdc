"""Scoped reads of the outbox for the inbox and the staff pages."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db.models import Exists, F, OuterRef, Q, QuerySet
from django.utils.functional import Promise, lazy
from django.utils.translation import gettext

from baogong.accounts.models import Role, RoleGrant
from baogong.accounts.scoping import REGISTER_ROLES, SPECIAL_CARE_ROLES, Scope
from baogong.notify.models import Message

if TYPE_CHECKING:
    from baogong.accounts.models import User

# The call list names households to phone or visit, including special-care residents
# (sensitive: DESIGN.md "Personal data"), so it goes to the roles that see those flags.
CALL_LIST_ROLES = SPECIAL_CARE_ROLES
# Failed SMS are a register-keeping chore: wrong or dead numbers get fixed there.
FAILED_SMS_ROLES = REGISTER_ROLES


def inbox(user: User) -> QuerySet[Message]:
    """The user's in-app messages, unread first, newest first."""
    return Message.objects.filter(recipient=user, channel=Message.Channel.IN_APP).order_by(
        F("read_at").asc(nulls_first=True), "-created_at", "-pk"
    )


def unread_count(user: User) -> int:
    # One COUNT on the (recipient, read_at) index, for the navigation on every page.
    return Message.objects.filter(
        recipient=user, channel=Message.Channel.IN_APP, read_at__isnull=True
    ).count()


def unread_label(user: User) -> Promise:
    """The inbox menu label with the unread count, counted when first rendered."""

    def label() -> str:
        unread = unread_count(user)
        if not unread:
            return gettext("Messages")
        return gettext("Messages (%(count)d unread)") % {"count": unread}

    return lazy(label, str)()


def _in_scope(scope: Scope, roles: frozenset[str]) -> Q | None:
    """Rows of households under the user's areas, or of users with a household there."""
    if scope.superuser:
        return Q()
    paths = scope.paths_for(roles)
    if not paths:
        return None
    household_q = Q()
    grant_q = Q()
    for path in paths:
        household_q |= Q(household__building__path__startswith=path)
        grant_q |= Q(household__building__path__startswith=path)
    resident_here = RoleGrant.objects.filter(
        grant_q, role=Role.RESIDENT, user=OuterRef("recipient")
    )
    return household_q | Q(household__isnull=True, recipient__isnull=False) & Exists(resident_here)


def call_list(scope: Scope, area_path: str = "") -> QuerySet[Message]:
    """Pending calls/visits in scope (under `area_path` when given), in packing order."""
    where = _in_scope(scope, CALL_LIST_ROLES)
    if where is None:
        return Message.objects.none()
    rows = Message.objects.filter(where, channel=Message.Channel.CALL, state=Message.State.PENDING)
    if area_path:
        rows = rows.filter(household__building__path__startswith=area_path)
    return rows.select_related("household__building", "household__compound").order_by(
        "household__compound__path",
        "household__building__path",
        "household__unit",
        "household__room",
        "household_id",
        "created_at",
    )


def failed_sms(scope: Scope) -> QuerySet[Message]:
    where = _in_scope(scope, FAILED_SMS_ROLES)
    if where is None:
        return Message.objects.none()
    return (
        Message.objects.filter(where, channel=Message.Channel.SMS, state=Message.State.FAILED)
        .select_related("household__building", "household__compound", "recipient")
        .order_by("-updated_at", "-pk")
    )
