"""Round writes beyond those in services.py: changing a draft round.

Kept beside services.py (which owns creating, transitions and orders) and built on
its helpers, so a round is checked the same way whether it is created or changed.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from baogong.areas.models import Area
from baogong.core.errors import Conflict, NotAllowed
from baogong.orders.models import Offer, Order, Round, RoundArea
from baogong.orders.services import (
    OfferSpec,
    may_run_round,
    round_areas,
    round_check,
    round_write_offers,
)

if TYPE_CHECKING:
    from baogong.accounts.models import User


class RoundNotDraft(Conflict):
    code = "round_not_draft"
    default_message = _("Only a draft round can be changed; this one is %(state)s.")


@transaction.atomic
def round_update(
    *,
    round_: Round,
    by: User | None,
    title: str,
    areas: list[Area],
    opens_at: dt.datetime,
    cutoff_at: dt.datetime,
    offers: list[OfferSpec],
    payment_deadline: dt.datetime | None = None,
    delivery_at: dt.datetime | None = None,
    delivery_place: str = Round.Place.GATE,
    delivery_note: str = "",
    capacity: int | None = None,
) -> Round:
    """Change a draft round: its facts, areas and offers (the supplier stays).

    The user must be allowed to run the round both over its present areas and over the
    new ones. Raises NotAllowed, RoundNotDraft or InvalidInput; then nothing is written.
    """
    # Lock the round: opening it while it is being edited would open half an edit.
    round_ = Round.objects.select_for_update().select_related("supplier").get(pk=round_.pk)
    if by is not None and not (
        may_run_round(by, supplier=round_.supplier, areas=round_areas(round_))
        and may_run_round(by, supplier=round_.supplier, areas=areas)
    ):
        raise NotAllowed()
    if round_.state != Round.State.DRAFT or Order.objects.filter(round=round_).exists():
        raise RoundNotDraft(state=round_.get_state_display())
    codes = round_check(
        supplier_id=round_.supplier_id,
        areas=areas,
        opens_at=opens_at,
        cutoff_at=cutoff_at,
        offers=offers,
    )
    round_.title = title.strip()
    round_.opens_at, round_.cutoff_at = opens_at, cutoff_at
    round_.payment_deadline, round_.delivery_at = payment_deadline, delivery_at
    round_.delivery_place, round_.delivery_note = delivery_place, delivery_note
    round_.capacity = capacity
    round_._history_user = by
    round_._change_reason = "edit"
    round_.save()
    RoundArea.objects.filter(round=round_).delete()
    RoundArea.objects.bulk_create([RoundArea(round=round_, area=a) for a in areas])
    # A draft has no orders (checked above), so its offers can simply be replaced.
    Offer.objects.filter(round=round_).delete()
    round_write_offers(round_, offers, codes)
    return round_
