"""Write notifications to the outbox; the task worker delivers the SMS ones.

`send` is the one entry point for every app: it renders the kind's template per
recipient language, writes one row per recipient × channel (the same event twice is
written once), and asks the worker to deliver after the caller's transaction commits.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from itertools import islice
from typing import TYPE_CHECKING

from django.db import transaction
from django.utils import timezone

from baogong.accounts.scoping import scope_for
from baogong.core.errors import NotFound
from baogong.core.phones import PhoneError, normalize_phone
from baogong.notify.models import Message
from baogong.notify.templates import Template, render, template_for

if TYPE_CHECKING:
    from baogong.accounts.models import User

CHUNK = 2000  # households resolved and rows written per step: bounded memory on big rounds


def send(
    kind: str,
    *,
    users: Iterable[int] = (),
    households: Iterable[int] = (),
    context: Mapping[str, str],
    dedupe_key: str,
    link: str = "",
) -> int:
    """Queue `kind` for `users` (in-app, plus SMS when the kind calls for it) and
    `households` (SMS to the household phone, in-app to its residents with accounts,
    the call list when there is no mobile number or someone needs a call).

    Runs inside the caller's transaction, so a rolled-back change tells nobody.
    Returns how many outbox rows were written (0 when the event was already sent).
    """
    template = template_for(kind, context)
    writer = _Writer(kind, template, context, dedupe_key[:120], link[:200])
    with transaction.atomic():
        writer.add_users(sorted({int(u) for u in users}))
        for chunk in _chunks(sorted({int(h) for h in households}), CHUNK):
            writer.add_households(chunk)
        writer.flush()
    if writer.sms_written:
        from baogong.notify.tasks import enqueue_delivery

        transaction.on_commit(enqueue_delivery)
    return writer.written


def mobile_or_empty(raw: str) -> str:
    """The normalised mobile number in `raw`, or "" (landlines cannot receive SMS)."""
    try:
        phone = normalize_phone(raw)
    except PhoneError:
        return ""
    return phone if len(phone) == 11 and phone.isdigit() else ""


class _Writer:
    def __init__(
        self, kind: str, template: Template, context: Mapping[str, str], key: str, link: str
    ) -> None:
        self.kind, self.template, self.key, self.link = kind, template, key, link
        # Rendered once, in the site language: users have no language of their own yet, and
        # households are texted in Chinese.
        self.subject, self.body = render(template, context)
        self.pending: list[Message] = []
        self.seen: set[tuple[str, int, str]] = set()
        self.texted: set[str] = set()  # one SMS per number per event, across reruns too
        existing = Message.objects.filter(dedupe_key=key).values_list(
            "recipient_id", "household_id", "channel", "phone"
        )
        for user_id, household_id, channel, phone in existing:
            self.seen.add(("u", user_id, channel) if user_id else ("h", household_id, channel))
            if channel == Message.Channel.SMS:
                self.texted.add(phone)
        self.written = 0
        self.sms_written = 0
        self.now = timezone.now()

    def _add(
        self,
        *,
        channel: str,
        user_id: int | None = None,
        household_id: int | None = None,
        phone: str = "",
    ) -> None:
        ident = ("u", user_id, channel) if user_id else ("h", household_id, channel)
        if ident in self.seen:
            return
        self.seen.add(ident)
        if channel == Message.Channel.SMS:
            if phone in self.texted:
                return
            self.texted.add(phone)
        in_app = channel == Message.Channel.IN_APP
        self.pending.append(
            Message(
                recipient_id=user_id,
                household_id=household_id,
                phone=phone,
                channel=channel,
                kind=self.kind,
                subject=self.subject[:200],
                body=self.body,
                link=self.link,
                dedupe_key=self.key,
                # An in-app message is delivered by being written.
                state=Message.State.SENT if in_app else Message.State.PENDING,
                sent_at=self.now if in_app else None,
            )
        )
        if len(self.pending) >= CHUNK:
            self.flush()

    def add_users(self, user_ids: Sequence[int]) -> None:
        from baogong.accounts.models import User

        for chunk in _chunks(user_ids, CHUNK):
            for uid, phone in User.objects.filter(pk__in=chunk, is_active=True).values_list(
                "pk", "phone"
            ):
                self._add(channel=Message.Channel.IN_APP, user_id=uid)
                mobile = mobile_or_empty(phone) if self.template.sms else ""
                if mobile:
                    self._add(channel=Message.Channel.SMS, user_id=uid, phone=mobile)

    def add_households(self, household_ids: Sequence[int]) -> None:
        from baogong.accounts.models import Role, RoleGrant
        from baogong.areas.models import Household, Resident

        accounts = RoleGrant.objects.filter(
            role=Role.RESIDENT, household_id__in=household_ids, user__is_active=True
        ).values_list("user_id", "household_id")
        for uid, hid in accounts.order_by("household_id", "user_id"):
            self._add(channel=Message.Channel.IN_APP, user_id=uid, household_id=hid)
        if not self.template.sms:
            return
        resident_phones: dict[int, list[str]] = {}
        needs_call: set[int] = set()
        residents = Resident.objects.filter(household_id__in=household_ids).order_by(
            "household_id", "-is_contact", "pk"
        )
        for hid, phone, special in residents.values_list("household_id", "phone", "special_group"):
            if phone:
                resident_phones.setdefault(hid, []).append(phone)
            if special:
                needs_call.add(hid)
        rows = Household.objects.filter(pk__in=household_ids).order_by("pk")
        for hid, phone, phone_alt in rows.values_list("pk", "phone", "phone_alt"):
            numbers = [phone, phone_alt, *resident_phones.get(hid, [])]
            mobile = next((m for m in map(mobile_or_empty, numbers) if m), "")
            if mobile:
                self._add(channel=Message.Channel.SMS, household_id=hid, phone=mobile)
            if not mobile or hid in needs_call:
                # Landline or nobody to text, or a special-care resident: staff phone or visit.
                call_on = mobile or next((n for n in numbers if n), "")
                self._add(channel=Message.Channel.CALL, household_id=hid, phone=call_on[:24])

    def flush(self) -> None:
        if not self.pending:
            return
        Message.objects.bulk_create(self.pending, batch_size=500, ignore_conflicts=True)
        self.written += len(self.pending)
        self.sms_written += sum(1 for m in self.pending if m.channel == Message.Channel.SMS)
        self.pending = []


def _chunks(items: Sequence[int], size: int) -> Iterator[list[int]]:
    it = iter(items)
    while chunk := list(islice(it, size)):
        yield chunk


# --- inbox and staff actions ------------------------------------------------------------


def mark_read(*, user: User, message_id: int | None = None) -> int:
    """Mark one of the user's in-app messages read (all unread ones when no id); NotFound
    when the message is not the user's."""
    rows = Message.objects.filter(
        recipient=user, channel=Message.Channel.IN_APP, read_at__isnull=True
    )
    if message_id is not None:
        if not Message.objects.filter(
            pk=message_id, recipient=user, channel=Message.Channel.IN_APP
        ).exists():
            raise NotFound()
        rows = rows.filter(pk=message_id)
    return rows.update(read_at=timezone.now())


def call_done(*, by: User, message_id: int) -> Message:
    """Staff phoned or visited the household: the call row is delivered."""
    from baogong.notify.queries import call_list

    with transaction.atomic():
        try:
            message = call_list(scope_for(by)).select_for_update(of=("self",)).get(pk=message_id)
        except (Message.DoesNotExist, ValueError, TypeError):
            raise NotFound() from None
        message.state = Message.State.SENT
        message.sent_at = timezone.now()
        message.save(update_fields=["state", "sent_at", "updated_at"])
    return message


def retry_failed(*, by: User, message_id: int | None = None) -> int:
    """Put failed SMS in the user's scope (one, or all) back in the queue with fresh attempts."""
    from baogong.notify.queries import failed_sms
    from baogong.notify.tasks import enqueue_delivery

    rows = failed_sms(scope_for(by))
    if message_id is not None:
        if not rows.filter(pk=message_id).exists():
            raise NotFound()
        rows = rows.filter(pk=message_id)
    with transaction.atomic():
        count = Message.objects.filter(
            pk__in=list(rows.values_list("pk", flat=True)), state=Message.State.FAILED
        ).update(state=Message.State.PENDING, attempts=0, next_attempt_at=None, claim="")
        if count:
            transaction.on_commit(enqueue_delivery)
    return count
