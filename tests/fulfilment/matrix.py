"""Fulfilment pages in the permission matrix (tests/test_permission_matrix.py).

Sheets and labels list every household of a round: the round's supplier and the staff who
run the round for its areas reach them; residents, volunteers and the bureau never do.
"""

from __future__ import annotations

from baogong.accounts.models import Role
from baogong.fulfilment.documents import document_build, documents_request

RUNS_ROUND = {Role.DISTRICT_ADMIN, Role.STREET_STAFF, Role.COMMUNITY_STAFF, Role.LIAISON}


def build(side) -> dict:
    [document] = documents_request(side.round, by=None, kinds=["pick_list"], inline=False)
    document_build(document.pk, document.generation)
    return {"document": document}


TARGETS = {
    "fulfilment:round_consolidation": (
        "get",
        lambda s: {"pk": s.round.pk},
        RUNS_ROUND | {Role.SUPPLIER},
    ),
    "fulfilment:round_confirm": ("get", lambda s: {"pk": s.round.pk}, {Role.SUPPLIER}),
    "fulfilment:shortage_rule": ("post", lambda s: {"pk": s.round.pk}, RUNS_ROUND),
    "fulfilment:documents_prepare": (
        "post",
        lambda s: {"pk": s.round.pk},
        RUNS_ROUND | {Role.SUPPLIER},
    ),
    "fulfilment:documents_status": (
        "get",
        lambda s: {"pk": s.round.pk},
        RUNS_ROUND | {Role.SUPPLIER},
    ),
    "fulfilment:document_download": (
        "get",
        lambda s: {"pk": s.extra["document"].pk},
        RUNS_ROUND | {Role.SUPPLIER},
    ),
}
NOT_OBJECT_SCOPED: set[str] = set()
