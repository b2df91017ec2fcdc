from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WelfareConfig(AppConfig):
    name = "baogong.welfare"
    label = "welfare"
    verbose_name = _("Special groups")
