from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DemoConfig(AppConfig):
    """The demo district and the synthetic-city generator; no models of its own."""

    name = "baogong.demo"
    label = "demo"
    verbose_name = _("Demo data")
