"""`{% consolidation_link round %}`: the round page's link to consolidation and documents,
shown only to those who may open it (the supplier and staff who run the round)."""

from __future__ import annotations

from django import template

from baogong.orders.models import Round
from baogong.orders.queries import round_area_list
from baogong.orders.services import may_run_round

register = template.Library()


@register.inclusion_tag("fulfilment/consolidation_link.html", takes_context=True)
def consolidation_link(context, round_: Round) -> dict:
    user = context["request"].user
    shown = round_.state != Round.State.DRAFT and may_run_round(
        user, supplier=round_.supplier, areas=round_area_list(round_)
    )
    return {"round": round_, "shown": shown}
