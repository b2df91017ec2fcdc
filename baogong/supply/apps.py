from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SupplyConfig(AppConfig):
    name = "baogong.supply"
    label = "supply"
    verbose_name = _("Suppliers")
