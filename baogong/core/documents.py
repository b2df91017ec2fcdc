"""Files made in the background (sheets, labels, manifests): asked for, built, stored.

A document model has one row per owner and kind, with `generation`, `state` (a `State`
with QUEUED, RUNNING, DONE and FAILED), `done`, `total`, `file`, `language`, `error`,
`created_by` and `finished_at`. Asking again bumps the generation; a build that finds a
newer generation asked for stops without marking its file current, so a double click or
data changing mid-build never leave an older file as the current one. Round documents
(`fulfilment.Document`) and distribution documents (`distributions.DistributionDocument`)
both go through here.
"""

from __future__ import annotations

import contextlib
import logging
import tempfile
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, BinaryIO

from django.conf import settings
from django.core.files import File
from django.db import models, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

logger = logging.getLogger(__name__)

PROGRESS_EVERY_SECONDS = 1.0

# A builder writes the file for its owner to `out`, calls `progress(rows done)` now and
# then, and returns the rows it drew.
Builder = Callable[[BinaryIO, Any, Callable[[int], None]], int]


@dataclass(frozen=True)
class DocumentSet:
    """How one owner's documents are made: the model, its owner field and the builders."""

    model: type[models.Model]
    owner: str  # the foreign key to the owner, e.g. "round"
    related: str  # select_related() for a build, e.g. "round__supplier"
    builders: Mapping[str, Builder]
    file_prefix: str  # file names are <prefix>-<owner id>-<kind>-<generation>.<extension>
    extensions: Mapping[str, str] = field(default_factory=dict)  # kind -> extension (pdf)
    # Fields to store with a finished file, read from the owner before building.
    stamp: Callable[[Any], dict[str, Any]] | None = None

    def request(
        self,
        owner: Any,
        kinds: Iterable[str],
        *,
        total: int,
        by: Any,
        inline: bool,
        schedule: bool,
        enqueue: Callable[[int, int], Any],
    ) -> list[Any]:
        """Mark `kinds` of `owner` wanted (run inside the caller's transaction) and build
        them after commit: here when `inline`, else through `enqueue(pk, generation)`."""
        state = self.model.State
        language = translation.get_language() or settings.LANGUAGE_CODE
        wanted = []
        for kind in kinds:
            document, _created = self.model.objects.get_or_create(**{self.owner: owner}, kind=kind)
            # Lock the row: two requests at once each bump the generation once.
            document = self.model.objects.select_for_update().get(pk=document.pk)
            document.generation += 1
            document.state = state.QUEUED
            document.done, document.total = 0, total
            document.error = ""
            document.language = language
            document.created_by = by
            document.save()
            wanted.append(document)
        if schedule:
            jobs = [(d.pk, d.generation) for d in wanted]
            run = self.build if inline else enqueue
            transaction.on_commit(lambda: [run(pk, generation) for pk, generation in jobs])
        return wanted

    def build(self, document_id: int, generation: int) -> bool:
        """Build one document if `generation` is still the one wanted; True if it was built.

        Runs outside any long transaction: progress is written as it goes, so pages see it.
        """
        state = self.model.State
        rows = self.model.objects.filter(pk=document_id, generation=generation)
        document = rows.select_related(self.related).first()
        if document is None or not rows.filter(state=state.QUEUED).update(state=state.RUNNING):
            return False  # superseded, or another worker took it (a task retried)
        owner = getattr(document, self.owner)
        stamp = self.stamp(owner) if self.stamp else {}
        last = [timezone.now()]

        def progress(done: int) -> None:
            now = timezone.now()
            if (now - last[0]).total_seconds() >= PROGRESS_EVERY_SECONDS:
                last[0] = now
                rows.update(done=done)

        try:
            with (
                translation.override(document.language or settings.LANGUAGE_CODE),
                tempfile.TemporaryFile() as out,
            ):
                done = self.builders[document.kind](out, owner, progress)
                out.seek(0)
                return self._store(document, generation, out, done=done, stamp=stamp)
        except Exception:
            logger.exception("document %s (%s) failed", document_id, document.kind)
            rows.update(state=state.FAILED, error=_("Making this document failed. Try again."))
            raise

    def _store(
        self, document: Any, generation: int, out: BinaryIO, *, done: int, stamp: dict
    ) -> bool:
        """Save the file and mark it ready, unless a newer generation was asked for meanwhile."""
        extension = self.extensions.get(document.kind, "pdf")
        owner_id = getattr(document, f"{self.owner}_id")
        name = f"{self.file_prefix}-{owner_id}-{document.kind}-{generation}.{extension}"
        old = document.file.name
        document.file.save(name, File(out), save=False)
        with transaction.atomic():
            # A request bumping the generation now waits for this row, then sees this file.
            updated = self.model.objects.filter(pk=document.pk, generation=generation).update(
                state=self.model.State.DONE,
                file=document.file.name,
                done=done,
                total=done,
                finished_at=timezone.now(),
                **stamp,
            )
        if not updated:
            document.file.delete(save=False)
            return False
        if old and old != document.file.name:
            with contextlib.suppress(OSError):
                document.file.storage.delete(old)
        return True
