"""Money against orders: payments, the supplier's statements, waivers and refunds.

Every row here is about money and people, so each keeps its history
(django-simple-history); services set `_history_user` and `_change_reason`.
Amounts are positive Decimal yuan; which way money goes is the model, not the sign.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from baogong.core.models import BaseModel


class Payment(BaseModel):
    """Money a household paid (or says it paid) for one order."""

    class Method(models.TextChoices):
        RESIDENT_REPORT = "report", _("reported by the resident")
        STATEMENT = "statement", _("matched on the statement")
        CASH = "cash", _("cash to a volunteer")
        MANUAL = "manual", _("recorded by staff")

    class State(models.TextChoices):
        REPORTED = "reported", _("to confirm")
        CONFIRMED = "confirmed", _("confirmed")
        REJECTED = "rejected", _("rejected")

    order = models.ForeignKey(
        "orders.Order", verbose_name=_("order"), on_delete=models.PROTECT, related_name="payments"
    )
    # Denormalised from order.round so a provider reference is unique per supplier (db).
    supplier = models.ForeignKey(
        "supply.Supplier", verbose_name=_("supplier"), on_delete=models.PROTECT, related_name="+"
    )
    amount = models.DecimalField(_("amount"), max_digits=10, decimal_places=2)
    method = models.CharField(_("how"), max_length=10, choices=Method.choices)
    state = models.CharField(
        _("state"), max_length=10, choices=State.choices, default=State.REPORTED
    )
    payer_name = models.CharField(_("payer name"), max_length=50, blank=True)
    # What the resident typed: usually the last digits of the transaction number.
    reference = models.CharField(_("reference"), max_length=40, blank=True)
    # The payment provider's transaction id, from a statement line.
    provider_reference = models.CharField(_("transaction id"), max_length=64, blank=True)
    reported_by = models.ForeignKey(
        "accounts.User",
        verbose_name=_("recorded by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    confirmed_by = models.ForeignKey(
        "accounts.User",
        verbose_name=_("confirmed by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    confirmed_at = models.DateTimeField(_("confirmed at"), null=True, blank=True)
    note = models.CharField(_("note"), max_length=200, blank=True)

    history = HistoricalRecords(excluded_fields=["updated_at"])

    class Meta:
        verbose_name = _("payment")
        verbose_name_plural = _("payments")
        ordering = ["order_id", "pk"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="payment_amount_positive"),
            # The same bank or wallet transaction is money received once.
            models.UniqueConstraint(
                fields=["supplier", "provider_reference"],
                condition=~Q(provider_reference=""),
                name="payment_provider_reference_unique",
            ),
        ]
        indexes = [
            # The round payments page and the report: an order's payments by state.
            models.Index(fields=["order", "state"], name="payment_order_state_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.order_id} · {self.amount}"


class Statement(BaseModel):
    """One payment statement file a supplier exported from its payment app and uploaded."""

    supplier = models.ForeignKey(
        "supply.Supplier",
        verbose_name=_("supplier"),
        on_delete=models.PROTECT,
        related_name="statements",
    )
    filename = models.CharField(_("file"), max_length=200)
    file_sha256 = models.CharField(max_length=64)
    rows_count = models.PositiveIntegerField(_("rows"), default=0)
    # Rows that could not be read: [[row number, reason as shown to the uploader], …].
    rejected_rows = models.JSONField(_("rejected rows"), default=list, blank=True)
    uploaded_by = models.ForeignKey(
        "accounts.User",
        verbose_name=_("uploaded by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    history = HistoricalRecords(excluded_fields=["updated_at"])

    class Meta:
        verbose_name = _("payment statement")
        verbose_name_plural = _("payment statements")
        ordering = ["-created_at", "-pk"]
        constraints = [
            # Importing the same file twice finds the first import and changes nothing.
            models.UniqueConstraint(
                fields=["supplier", "file_sha256"], name="statement_supplier_file_unique"
            )
        ]

    def __str__(self) -> str:
        return self.filename


class StatementLine(BaseModel):
    """One incoming payment on a statement, and what it was matched to."""

    class Match(models.TextChoices):
        UNMATCHED = "unmatched", _("no matching order")
        AMBIGUOUS = "ambiguous", _("several possible orders")
        MATCHED = "matched", _("matched")
        IGNORED = "ignored", _("ignored")

    statement = models.ForeignKey(
        Statement, verbose_name=_("statement"), on_delete=models.CASCADE, related_name="lines"
    )
    # Denormalised so the fingerprint is unique per supplier across statements (db).
    supplier = models.ForeignKey(
        "supply.Supplier", verbose_name=_("supplier"), on_delete=models.PROTECT, related_name="+"
    )
    row_number = models.PositiveIntegerField(_("row"))
    paid_at = models.DateTimeField(_("time"))
    amount = models.DecimalField(_("amount"), max_digits=10, decimal_places=2)
    payer = models.CharField(_("payer"), max_length=100, blank=True)
    remark = models.CharField(_("remark"), max_length=200, blank=True)
    reference = models.CharField(_("transaction id"), max_length=64, blank=True)
    # The transaction id, or a hash of time, amount, payer and remark when there is none:
    # overlapping exports (Monday–Wednesday, then Tuesday–Thursday) import each payment once.
    fingerprint = models.CharField(max_length=64)
    match_state = models.CharField(
        _("match"), max_length=10, choices=Match.choices, default=Match.UNMATCHED
    )
    payment = models.OneToOneField(
        Payment,
        verbose_name=_("payment"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="statement_line",
    )
    note = models.CharField(_("note"), max_length=200, blank=True)

    history = HistoricalRecords(excluded_fields=["updated_at"])

    class Meta:
        verbose_name = _("statement line")
        verbose_name_plural = _("statement lines")
        ordering = ["statement_id", "row_number"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="statementline_amount_positive"),
            models.UniqueConstraint(
                fields=["supplier", "fingerprint"], name="statementline_supplier_fingerprint_unique"
            ),
        ]
        indexes = [
            # The review list: a supplier's lines still needing a person.
            models.Index(fields=["supplier", "match_state"], name="statementline_review_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.statement_id}:{self.row_number}"


class Waiver(BaseModel):
    """Part or all of an order's amount due, waived or subsidised by an authorised official."""

    order = models.ForeignKey(
        "orders.Order", verbose_name=_("order"), on_delete=models.PROTECT, related_name="waivers"
    )
    amount = models.DecimalField(_("amount"), max_digits=10, decimal_places=2)
    reason = models.CharField(_("reason"), max_length=200)
    granted_by = models.ForeignKey(
        "accounts.User",
        verbose_name=_("granted by"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    history = HistoricalRecords(excluded_fields=["updated_at"])

    class Meta:
        verbose_name = _("waiver")
        verbose_name_plural = _("waivers")
        ordering = ["order_id", "pk"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="waiver_amount_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.order_id} · −{self.amount}"


class Refund(BaseModel):
    """Money owed back to a household: paid out, or kept as credit for a later order."""

    class Reason(models.TextChoices):
        SHORT_DELIVERED = "short", _("short-delivered")
        NOT_DELIVERED = "not_delivered", _("not delivered")
        OVERPAID = "overpaid", _("overpaid")

    class Kind(models.TextChoices):
        REFUND = "refund", _("refund")
        CREDIT_NOTE = "credit", _("credit note")

    class State(models.TextChoices):
        ISSUED = "issued", _("issued")
        COMPLETED = "completed", _("paid out")

    order = models.ForeignKey(
        "orders.Order", verbose_name=_("order"), on_delete=models.PROTECT, related_name="refunds"
    )
    amount = models.DecimalField(_("amount"), max_digits=10, decimal_places=2)
    reason = models.CharField(_("reason"), max_length=16, choices=Reason.choices)
    kind = models.CharField(_("kind"), max_length=8, choices=Kind.choices, default=Kind.REFUND)
    state = models.CharField(_("state"), max_length=10, choices=State.choices, default=State.ISSUED)
    note = models.CharField(_("note"), max_length=200, blank=True)
    issued_by = models.ForeignKey(
        "accounts.User",
        verbose_name=_("issued by"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    completed_at = models.DateTimeField(_("paid out at"), null=True, blank=True)

    history = HistoricalRecords(excluded_fields=["updated_at"])

    class Meta:
        verbose_name = _("refund")
        verbose_name_plural = _("refunds")
        ordering = ["order_id", "pk"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="refund_amount_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.order_id} · {self.amount}"
