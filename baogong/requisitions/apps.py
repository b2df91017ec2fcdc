from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RequisitionsConfig(AppConfig):
    name = "baogong.requisitions"
    label = "requisitions"
    verbose_name = _("Emergency requisitions")
