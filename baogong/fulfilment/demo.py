"""Demo data for fulfilment: the demo district's closed rounds, consolidated, with every
document ready to download (sheets, both label layouts, box manifests, pick list).

Idempotent: a round already consolidated keeps its time, and documents that are ready
and up to date with the orders are not made again.
"""

from __future__ import annotations

from django.db.models import Q
from django.utils import timezone

from baogong.areas.models import Area
from baogong.fulfilment import queries
from baogong.fulfilment.documents import KINDS, document_build, documents_request
from baogong.fulfilment.models import Document
from baogong.fulfilment.services import CONSOLIDATED_STATES
from baogong.orders.models import Round, RoundArea


def demo_fulfilment(district: Area) -> int:
    """Consolidate the district's closed rounds and make their documents; return files made."""
    rounds = Round.objects.filter(
        Q(pk__in=RoundArea.objects.filter(area__path__startswith=district.path).values("round")),
        state__in=CONSOLIDATED_STATES,
    ).select_related("supplier")
    made = 0
    for round_ in rounds.order_by("pk"):
        if round_.consolidated_at is None:
            round_.consolidated_at = timezone.now()
            round_._change_reason = "load_demo"
            round_.save(update_fields=["consolidated_at", "updated_at"])
        version = queries.orders_version(round_)
        ready = set(
            Document.objects.filter(
                round=round_, state=Document.State.DONE, orders_version=version
            ).values_list("kind", flat=True)
        )
        missing = [kind for kind in KINDS if kind not in ready]
        if not missing:
            continue
        for document in documents_request(round_, by=None, kinds=missing, schedule=False):
            made += document_build(document.pk, document.generation)
    return made
