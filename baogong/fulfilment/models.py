from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from baogong.core.models import BaseModel


class Document(BaseModel):
    """One generated document of a round (sheet, labels, manifests, pick list) and its progress.

    There is one row per round and kind: generating again replaces the file. `orders_version`
    is the fingerprint of the round's orders the file was made from (queries.orders_version),
    so a page can tell that orders changed since and the file must be made again.
    """

    class Kind(models.TextChoices):
        SHEET_XLSX = "sheet_xlsx", _("supplier order sheet (Excel)")
        SHEET_PDF = "sheet_pdf", _("supplier order sheet (PDF)")
        LABELS_A4 = "labels_a4", _("bag labels, A4 sheets")
        LABELS_THERMAL = "labels_thermal", _("bag labels, 100×150 mm thermal")
        MANIFESTS = "manifests", _("compound box manifests")
        PICK_LIST = "pick_list", _("pick list")

    class State(models.TextChoices):
        QUEUED = "queued", _("waiting")
        RUNNING = "running", _("being made")
        DONE = "done", _("ready")
        FAILED = "failed", _("failed")

    round = models.ForeignKey(
        "orders.Round",
        verbose_name=_("round"),
        on_delete=models.CASCADE,
        related_name="documents",
    )
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    state = models.CharField(_("state"), max_length=8, choices=State.choices, default=State.QUEUED)
    done = models.PositiveIntegerField(_("rows done"), default=0)
    total = models.PositiveIntegerField(_("rows in all"), default=0)
    file = models.FileField(_("file"), upload_to="fulfilment/", blank=True)
    orders_version = models.CharField(_("orders version"), max_length=80, blank=True)
    # Bumped by every request to make the file; a task that finds a newer one stops.
    generation = models.PositiveIntegerField(_("generation"), default=0)
    language = models.CharField(_("language"), max_length=10, blank=True)
    error = models.CharField(_("error"), max_length=200, blank=True)
    created_by = models.ForeignKey(
        "accounts.User",
        verbose_name=_("requested by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    class Meta:
        verbose_name = _("round document")
        verbose_name_plural = _("round documents")
        ordering = ["round_id", "kind"]
        constraints = [
            # One current file per round and kind: requesting it twice reuses the row.
            models.UniqueConstraint(fields=["round", "kind"], name="document_round_kind_unique")
        ]

    def __str__(self) -> str:
        return f"{self.round_id} · {self.kind}"

    @property
    def percent(self) -> int:
        if self.state == self.State.DONE:
            return 100
        return min(99, self.done * 100 // self.total) if self.total else 0
