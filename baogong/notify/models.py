from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from baogong.core.models import BaseModel


class Message(BaseModel):
    """One notification to one user: the outbox every channel sends from.

    `kind` names the event (round_closed, order_cut, …) so later channels (SMS,
    call lists) can pick their template; `subject` and `body` are already in
    the recipient's language when written.
    """

    class Channel(models.TextChoices):
        IN_APP = "in_app", _("in-app")
        SMS = "sms", _("SMS")

    recipient = models.ForeignKey(
        "accounts.User",
        verbose_name=_("recipient"),
        on_delete=models.CASCADE,
        related_name="messages",
    )
    channel = models.CharField(
        _("channel"), max_length=8, choices=Channel.choices, default=Channel.IN_APP
    )
    kind = models.CharField(_("kind"), max_length=40)
    subject = models.CharField(_("subject"), max_length=200)
    body = models.TextField(_("body"), blank=True)
    link = models.CharField(_("link"), max_length=200, blank=True)
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)
    # Idempotency: the same event for the same user is one message.
    dedupe_key = models.CharField(max_length=120)

    class Meta:
        verbose_name = _("message")
        verbose_name_plural = _("messages")
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["recipient", "channel", "dedupe_key"],
                name="message_recipient_channel_dedupe_unique",
            ),
        ]
        indexes = [models.Index(fields=["recipient", "read_at"], name="message_unread_idx")]

    def __str__(self) -> str:
        return self.subject
