from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from baogong.core.models import BaseModel
from baogong.core.phones import mask_phone


class Message(BaseModel):
    """One notification to one recipient on one channel: the outbox every channel sends from.

    A recipient is a user (in-app, or SMS to the user's phone) or a household (SMS to the
    household phone, or a line on the printable call list). `kind` names the event
    (round_opened, order_cut, …); `subject` and `body` are already rendered in the
    recipient's language when written, so a later change of wording never rewrites history.
    """

    class Channel(models.TextChoices):
        IN_APP = "in_app", _("in-app")
        SMS = "sms", _("SMS")
        CALL = "call", _("phone call or visit")

    class State(models.TextChoices):
        PENDING = "pending", _("pending")
        # Claimed by one worker run; nobody else may send it.
        SENDING = "sending", _("sending")
        SENT = "sent", _("sent")
        FAILED = "failed", _("failed")

    recipient = models.ForeignKey(
        "accounts.User",
        verbose_name=_("recipient"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="messages",
    )
    household = models.ForeignKey(
        "areas.Household",
        verbose_name=_("household"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="messages",
    )
    # Snapshot of the number texted or to call: the register may change after sending.
    phone = models.CharField(_("phone"), max_length=24, blank=True)
    channel = models.CharField(
        _("channel"), max_length=8, choices=Channel.choices, default=Channel.IN_APP
    )
    kind = models.CharField(_("kind"), max_length=40)
    subject = models.CharField(_("subject"), max_length=200)
    body = models.TextField(_("body"), blank=True)
    link = models.CharField(_("link"), max_length=200, blank=True)
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)
    # Idempotency: the same event for the same recipient on the same channel is one message.
    dedupe_key = models.CharField(max_length=120)

    state = models.CharField(
        _("delivery state"), max_length=8, choices=State.choices, default=State.PENDING
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    # A short technical reason (HTTP status, timeout), never the text or the number.
    last_error = models.CharField(_("last error"), max_length=200, blank=True)
    next_attempt_at = models.DateTimeField(_("next attempt"), null=True, blank=True)
    claim = models.CharField(max_length=32, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)

    class Meta:
        verbose_name = _("message")
        verbose_name_plural = _("messages")
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["recipient", "channel", "dedupe_key"],
                name="message_recipient_channel_dedupe_unique",
            ),
            # Household rows have no user; NULLs never collide, so they need their own key.
            models.UniqueConstraint(
                fields=["household", "channel", "dedupe_key"],
                condition=Q(recipient__isnull=True),
                name="message_household_channel_dedupe_unique",
            ),
            models.CheckConstraint(
                condition=Q(recipient__isnull=False) | Q(household__isnull=False),
                name="message_has_recipient",
            ),
        ]
        indexes = [
            models.Index(fields=["recipient", "read_at"], name="message_unread_idx"),
            # The worker's claim query and the failed-SMS page.
            models.Index(fields=["channel", "state", "next_attempt_at"], name="message_queue_idx"),
            # send() reads what an event already wrote before writing the rest.
            models.Index(fields=["dedupe_key"], name="message_dedupe_idx"),
        ]

    def __str__(self) -> str:
        return self.subject

    @property
    def masked_phone(self) -> str:
        return mask_phone(self.phone) if self.phone else ""
