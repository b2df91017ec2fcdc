"""Background work of fulfilment: closing rounds at their cut-off, consolidating, documents.

- `round_cutoff_task` is enqueued with `run_after=cutoff_at` when a round opens; if the
  cut-off moved later meanwhile it enqueues itself again for the new time.
- `round_cutoff_sweep` closes every open round past its cut-off, so a lost task or a
  changed cut-off cannot leave a round open; `manage.py close_rounds` runs it from cron.
Closing twice does nothing more (`round_transition` is idempotent and locks the round).
"""

from __future__ import annotations

import logging

from django.utils import timezone
from django.utils.translation import gettext as _
from django_tasks import task

from baogong.orders.errors import BadTransition
from baogong.orders.models import Round
from baogong.orders.services import round_transition

logger = logging.getLogger(__name__)


def cutoff_reason() -> str:
    return str(_("cut-off time reached"))


def round_close_at_cutoff(round_id: int) -> bool:
    """Close the round if it is open and its cut-off has passed; True if this call closed it."""
    round_ = Round.objects.filter(pk=round_id, state=Round.State.OPEN).first()
    if round_ is None or round_.cutoff_at > timezone.now():
        return False
    try:
        round_transition(round_=round_, action="close", by=None, reason=cutoff_reason())
    except BadTransition:
        return False  # cancelled or closed by someone a moment ago
    return True


@task()
def round_cutoff_task(round_id: int) -> bool:
    """Close one round at its cut-off (enqueued when it opens)."""
    round_ = Round.objects.filter(pk=round_id, state=Round.State.OPEN).first()
    if round_ is not None and round_.cutoff_at > timezone.now():
        # The cut-off was moved later after this task was queued: wait for the new one.
        round_cutoff_task.using(run_after=round_.cutoff_at).enqueue(round_id)
        return False
    return round_close_at_cutoff(round_id)


def round_cutoff_sweep() -> list[int]:
    """Close every open round whose cut-off has passed; return the ids closed."""
    due = Round.objects.filter(state=Round.State.OPEN, cutoff_at__lte=timezone.now())
    return [
        pk for pk in due.order_by("pk").values_list("pk", flat=True) if round_close_at_cutoff(pk)
    ]


@task()
def round_cutoff_sweep_task() -> list[int]:
    return round_cutoff_sweep()


@task()
def round_consolidate_task(round_id: int) -> bool:
    """Consolidate a round that has just closed and ask for its documents."""
    from baogong.fulfilment.services import round_consolidate

    return round_consolidate(round_id=round_id)


@task()
def round_confirmed_task(round_id: int) -> int:
    """After confirmation: tell the households (once each) and remake stale documents."""
    from baogong.fulfilment.documents import documents_request
    from baogong.fulfilment.models import Document
    from baogong.fulfilment.services import round_tell_households

    round_ = Round.objects.filter(pk=round_id, state=Round.State.CONFIRMED).first()
    if round_ is None:
        return 0
    told = round_tell_households(round_)
    made = set(Document.objects.filter(round=round_).values_list("kind", flat=True))
    if made:
        documents_request(round_, by=None, kinds=made)
    return told


@task()
def document_build_task(document_id: int, generation: int) -> bool:
    from baogong.fulfilment.documents import document_build

    return document_build(document_id, generation)
