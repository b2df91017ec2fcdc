"""Making a round's documents: ask for them (service), build them (here or on the worker).

`documents_request` marks the round's documents as wanted (one `Document` row per
kind, its `generation` bumped) and builds them at once for a small round, or queues
`document_build_task` for a big one while the page polls the progress. The asking,
building and storing is `core.documents.DocumentSet`'s; this module says what to draw.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, BinaryIO

from django.db import transaction

from baogong.core.documents import DocumentSet
from baogong.fulfilment import queries
from baogong.fulfilment.excel import order_sheet_xlsx
from baogong.fulfilment.models import Document
from baogong.fulfilment.pdf import labels, sheets
from baogong.orders.models import Round

if TYPE_CHECKING:
    from baogong.accounts.models import User

# Rounds with at most this many orders get their documents within the request.
INLINE_MAX_ORDERS = 300
KINDS = [kind for kind, _label in Document.Kind.choices]
EXTENSIONS = {Document.Kind.SHEET_XLSX: "xlsx"}


def _build_sheet_xlsx(out: BinaryIO, round_: Round, progress) -> int:
    offers = [(t.code, f"{t.code}. {t.name}") for t in queries.offer_totals(round_)]
    return order_sheet_xlsx(
        out, queries.bags(round_), header=queries.round_header(round_), offers=offers,
        progress=progress,
    )  # fmt: skip


def _build_sheet_pdf(out: BinaryIO, round_: Round, progress) -> int:
    totals = [(f"{t.code}.{t.name}", t.supplied) for t in queries.offer_totals(round_)]
    return sheets.order_sheet(
        out, queries.bags(round_), header=queries.round_header(round_), totals=totals,
        progress=progress,
    )  # fmt: skip


def _build_labels_a4(out: BinaryIO, round_: Round, progress) -> int:
    return labels.labels_a4(
        out, queries.bags(round_), header=queries.round_header(round_), progress=progress
    )


def _build_labels_thermal(out: BinaryIO, round_: Round, progress) -> int:
    return labels.labels_thermal(
        out, queries.bags(round_), header=queries.round_header(round_), progress=progress
    )


def _build_manifests(out: BinaryIO, round_: Round, progress) -> int:
    sizes = {g.key: (g.orders, g.units_total) for g in queries.compound_totals(round_)}
    return sheets.manifests(
        out, queries.bags(round_), header=queries.round_header(round_), box_sizes=sizes,
        progress=progress,
    )  # fmt: skip


def _build_pick_list(out: BinaryIO, round_: Round, progress) -> int:
    return sheets.pick_list(out, queries.pick_list(round_), header=queries.round_header(round_))


BUILDERS: dict[str, Callable[[BinaryIO, Round, Callable[[int], None]], int]] = {
    Document.Kind.SHEET_XLSX: _build_sheet_xlsx,
    Document.Kind.SHEET_PDF: _build_sheet_pdf,
    Document.Kind.LABELS_A4: _build_labels_a4,
    Document.Kind.LABELS_THERMAL: _build_labels_thermal,
    Document.Kind.MANIFESTS: _build_manifests,
    Document.Kind.PICK_LIST: _build_pick_list,
}


def _enqueue(document_id: int, generation: int) -> None:
    from baogong.fulfilment.tasks import document_build_task

    document_build_task.enqueue(document_id, generation)


DOCUMENTS = DocumentSet(
    model=Document,
    owner="round",
    related="round__supplier",
    builders=BUILDERS,
    file_prefix="round",
    extensions=EXTENSIONS,
    # The fingerprint of the orders the file is made from: pages tell when it is stale.
    stamp=lambda round_: {"orders_version": queries.orders_version(round_)},
)


@transaction.atomic
def documents_request(
    round_: Round,
    *,
    by: User | None,
    kinds: Iterable[str] = KINDS,
    inline: bool | None = None,
    schedule: bool = True,
) -> list[Document]:
    """Ask for the round's documents to be made (again): after commit, within the request
    for a small round (or `inline=True`), else on the task worker. With `schedule=False`
    the caller builds them itself (`document_build`, e.g. the demo loader).

    Access is the caller's check (views use views.documents_round). Returns the rows.
    """
    total = queries.placed_orders(round_).count()
    return DOCUMENTS.request(
        round_,
        [k for k in KINDS if k in set(kinds)],
        total=total,
        by=by,
        inline=total <= INLINE_MAX_ORDERS if inline is None else inline,
        schedule=schedule,
        enqueue=_enqueue,
    )


def document_build(document_id: int, generation: int) -> bool:
    """Build one document if `generation` is still the one wanted; True if it was built."""
    return DOCUMENTS.build(document_id, generation)


def documents_of(round_: Round) -> list[Document]:
    """The round's documents in the order of Document.Kind, with whether each is out of date."""
    version = queries.orders_version(round_)
    found = {d.kind: d for d in Document.objects.filter(round=round_)}
    documents = []
    for kind in KINDS:
        document = found.get(kind) or Document(round=round_, kind=kind, state="")
        document.stale = bool(
            document.state == Document.State.DONE and document.orders_version != version
        )
        documents.append(document)
    return documents
