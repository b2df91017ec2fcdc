from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from baogong.core.models import BaseModel


class Supplier(BaseModel):
    """A business that supplies rounds: shop, platform, supermarket, co-op, state enterprise."""

    class Kind(models.TextChoices):
        SMALL_SHOP = "small_shop", _("small shop")
        PLATFORM = "platform", _("e-commerce platform")
        SUPERMARKET = "supermarket", _("large supermarket")
        COOP = "coop", _("farmers' co-op")
        STATE_ENTERPRISE = "state_enterprise", _("state supply enterprise")

    name = models.CharField(_("name"), max_length=100, unique=True)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    contact_name = models.CharField(_("contact"), max_length=50, blank=True)
    contact_phone = models.CharField(_("contact phone"), max_length=24, blank=True)
    notes = models.TextField(_("notes"), blank=True)

    history = HistoricalRecords(excluded_fields=["updated_at"])

    class Meta:
        verbose_name = _("supplier")
        verbose_name_plural = _("suppliers")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name
