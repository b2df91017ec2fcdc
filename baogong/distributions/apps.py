from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DistributionsConfig(AppConfig):
    name = "baogong.distributions"
    label = "distributions"
    verbose_name = _("Free distributions")
