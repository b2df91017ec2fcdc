"""Free distributions (发放批次): packages handed to every household, not ordered or paid.

The bags, labels, slots and handovers are the last mile's (`lastmile.Bag` with
`distribution` set); this app plans who gets what and reports coverage.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from baogong.core.models import BaseModel


class Distribution(BaseModel):
    """One batch of free packages for the households of some areas."""

    class Source(models.TextChoices):
        RESERVE = "reserve", _("government reserve")
        ALLOCATION = "allocation", _("allocation order")
        DONATION = "donation", _("donation")

    class State(models.TextChoices):
        DRAFT = "draft", _("draft")
        PLANNED = "planned", _("planned")
        DELIVERING = "delivering", _("being handed out")
        CLOSED = "closed", _("closed")

    title = models.CharField(_("title"), max_length=100)
    source = models.CharField(_("source"), max_length=12, choices=Source.choices)
    donor_name = models.CharField(_("donor"), max_length=100, blank=True)
    allocation_order = models.ForeignKey(
        "requisitions.AllocationOrder",
        verbose_name=_("allocation order"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="distributions",
    )
    # The street or community that runs it; targets lie under it.
    organiser = models.ForeignKey(
        "areas.Area", verbose_name=_("organised by"), on_delete=models.PROTECT, related_name="+"
    )
    state = models.CharField(_("state"), max_length=12, choices=State.choices, default=State.DRAFT)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    history = HistoricalRecords(excluded_fields=["updated_at"])

    class Meta:
        verbose_name = _("free distribution")
        verbose_name_plural = _("free distributions")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.title
