from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FulfilmentConfig(AppConfig):
    name = "baogong.fulfilment"
    label = "fulfilment"
    verbose_name = _("Fulfilment")

    def ready(self) -> None:
        from baogong.fulfilment.signals import on_round_transitioned
        from baogong.orders.signals import round_transitioned

        round_transitioned.connect(on_round_transitioned, dispatch_uid="fulfilment_round")
