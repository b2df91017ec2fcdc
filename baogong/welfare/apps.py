from __future__ import annotations

from typing import Any

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WelfareConfig(AppConfig):
    name = "baogong.welfare"
    label = "welfare"
    verbose_name = _("Special groups")

    def ready(self) -> None:
        from baogong.orders.signals import round_transitioned

        round_transitioned.connect(_round_moved, dispatch_uid="welfare_needs_follow_round")


def _round_moved(sender: Any, *, round_id: int, action: str, **kwargs: Any) -> None:
    """A need ordered in a round is met when the round is delivered, reopened if cancelled."""
    from baogong.welfare.services import needs_follow_round

    needs_follow_round(round_id=round_id, action=action)
