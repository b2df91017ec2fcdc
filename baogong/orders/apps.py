from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OrdersConfig(AppConfig):
    name = "baogong.orders"
    label = "orders"
    verbose_name = _("Ordering rounds and orders")
