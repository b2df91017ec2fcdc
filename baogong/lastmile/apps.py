from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LastmileConfig(AppConfig):
    name = "baogong.lastmile"
    label = "lastmile"
    verbose_name = _("Last hundred metres")
