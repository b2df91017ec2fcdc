from __future__ import annotations

import secrets

from django.db import models
from django.utils.translation import gettext_lazy as _


class BaseModel(models.Model):
    """Every domain row knows when it was created and last changed."""

    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        abstract = True


def new_public_token() -> str:
    """128 random bits, URL-safe: the unguessable part of a public verification
    address (a vehicle or work pass, an allocation order's QR code)."""
    return secrets.token_urlsafe(16)
