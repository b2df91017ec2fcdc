from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NotifyConfig(AppConfig):
    name = "baogong.notify"
    label = "notify"
    verbose_name = _("Notifications")

    def ready(self) -> None:
        from baogong.notify.events import on_round_transitioned
        from baogong.orders.signals import round_transitioned

        round_transitioned.connect(on_round_transitioned, dispatch_uid="notify_round_opened")
