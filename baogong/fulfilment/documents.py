"""Making a round's documents: ask for them (service), build them (here or on the worker).

`documents_request` marks the round's documents as wanted (one `Document` row per
kind, its `generation` bumped) and builds them at once for a small round, or queues
`document_build_task` for a big one while the page polls the progress. A build
that finds a newer generation was asked for stops without writing, so a double click
or orders changing mid-build never leave an older file marked current.
"""

from __future__ import annotations

import contextlib
import logging
import tempfile
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, BinaryIO

from django.conf import settings
from django.core.files import File
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from baogong.fulfilment import queries
from baogong.fulfilment.excel import order_sheet_xlsx
from baogong.fulfilment.models import Document
from baogong.fulfilment.pdf import labels, sheets
from baogong.orders.models import Round

if TYPE_CHECKING:
    from baogong.accounts.models import User

logger = logging.getLogger(__name__)

# Rounds with at most this many orders get their documents within the request.
INLINE_MAX_ORDERS = 300
KINDS = [kind for kind, _label in Document.Kind.choices]
EXTENSIONS = {Document.Kind.SHEET_XLSX: "xlsx"}
PROGRESS_EVERY_SECONDS = 1.0


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
    kinds = [k for k in KINDS if k in set(kinds)]
    total = queries.placed_orders(round_).count()
    language = translation.get_language() or settings.LANGUAGE_CODE
    wanted = []
    for kind in kinds:
        document, _created = Document.objects.get_or_create(round=round_, kind=kind)
        # Lock the row: two requests at once each bump the generation once.
        document = Document.objects.select_for_update().get(pk=document.pk)
        document.generation += 1
        document.state = Document.State.QUEUED
        document.done, document.total = 0, total
        document.error = ""
        document.language = language
        document.created_by = by
        document.save()
        wanted.append(document)
    if not schedule:
        return wanted
    if inline is None:
        inline = total <= INLINE_MAX_ORDERS
    jobs = [(d.pk, d.generation) for d in wanted]
    if inline:
        transaction.on_commit(lambda: [document_build(pk, generation) for pk, generation in jobs])
    else:
        from baogong.fulfilment.tasks import document_build_task

        transaction.on_commit(
            lambda: [document_build_task.enqueue(pk, generation) for pk, generation in jobs]
        )
    return wanted


def _current(document_id: int, generation: int) -> bool:
    return Document.objects.filter(pk=document_id, generation=generation).exists()


def document_build(document_id: int, generation: int) -> bool:
    """Build one document if `generation` is still the one wanted; True if it was built.

    Runs outside any long transaction: progress is written as it goes, so the page sees it.
    """
    document = Document.objects.select_related("round__supplier").filter(pk=document_id).first()
    if document is None or document.generation != generation:
        return False
    if not Document.objects.filter(
        pk=document_id, generation=generation, state__in=[Document.State.QUEUED]
    ).update(state=Document.State.RUNNING):
        return False  # another worker took it (a task retried, or run twice)
    version = queries.orders_version(document.round)
    last = [timezone.now()]

    def progress(done: int) -> None:
        now = timezone.now()
        if (now - last[0]).total_seconds() >= PROGRESS_EVERY_SECONDS:
            last[0] = now
            Document.objects.filter(pk=document_id, generation=generation).update(done=done)

    try:
        with (
            translation.override(document.language or settings.LANGUAGE_CODE),
            tempfile.TemporaryFile() as out,
        ):
            done = BUILDERS[document.kind](out, document.round, progress)
            out.seek(0)
            return _store(document, generation, out, done=done, version=version)
    except Exception:
        logger.exception("document %s (%s) failed", document_id, document.kind)
        Document.objects.filter(pk=document_id, generation=generation).update(
            state=Document.State.FAILED, error=_("Making this document failed. Try again.")
        )
        raise


def _store(document: Document, generation: int, out: BinaryIO, *, done: int, version: str) -> bool:
    """Save the file and mark it ready, unless a newer generation was asked for meanwhile."""
    extension = EXTENSIONS.get(document.kind, "pdf")
    name = f"round-{document.round_id}-{document.kind}-{generation}.{extension}"
    old = document.file.name
    document.file.save(name, File(out), save=False)
    with transaction.atomic():
        # Lock the row: a request bumping the generation now waits, then sees this file.
        updated = Document.objects.filter(pk=document.pk, generation=generation).update(
            state=Document.State.DONE,
            file=document.file.name,
            done=done,
            total=done,
            orders_version=version,
            finished_at=timezone.now(),
        )
    if not updated:
        document.file.delete(save=False)
        return False
    if old and old != document.file.name:
        with contextlib.suppress(OSError):
            document.file.storage.delete(old)
    return True


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
