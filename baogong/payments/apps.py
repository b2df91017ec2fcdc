from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PaymentsConfig(AppConfig):
    name = "baogong.payments"
    label = "payments"
    verbose_name = _("Payments")

    def ready(self) -> None:
        from baogong.orders.signals import round_transitioned
        from baogong.payments.tasks import on_round_transitioned

        round_transitioned.connect(on_round_transitioned, dispatch_uid="payments_round_moved")
