"""Emergency requisitions: 先申请、再调拨、后结算, 谁使用、谁结算.

Requisition (community) → StreetRequest (street office consolidates, each line
keeps its sources) → ApprovalStep per line and level → AllocationOrder (bureau
to a supply enterprise) → Receipt (where goods arrive) → Stock per holder and
lot, DistributionEntry ledger → Settlement at the allocation day's market price.
"""

from __future__ import annotations

from decimal import Decimal

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from baogong.core.models import BaseModel, new_public_token

QTY = {"max_digits": 12, "decimal_places": 2}
MONEY = {"max_digits": 14, "decimal_places": 2}
ZERO = Decimal("0.00")



class Urgency(models.TextChoices):
    NORMAL = "normal", _("normal")
    URGENT = "urgent", _("urgent")
    CRITICAL = "critical", _("critical (today)")


class Requisition(BaseModel):
    """A community's (or village's) written request for supplies to its street office."""

    class State(models.TextChoices):
        DRAFT = "draft", _("draft")
        SUBMITTED = "submitted", _("submitted to the street office")
        REVIEWED = "reviewed", _("reviewed by the street office")
        CONSOLIDATED = "consolidated", _("sent on to the commerce bureau")
        REJECTED = "rejected", _("rejected")

    number = models.CharField(_("number"), max_length=20, unique=True)
    community = models.ForeignKey(
        "areas.Area",
        verbose_name=_("community"),
        on_delete=models.PROTECT,
        related_name="requisitions",
    )
    state = models.CharField(_("state"), max_length=16, choices=State.choices, default=State.DRAFT)
    urgency = models.CharField(
        _("urgency"), max_length=10, choices=Urgency.choices, default=Urgency.NORMAL
    )
    note = models.CharField(_("note"), max_length=300, blank=True)
    raised_by = models.ForeignKey(
        "accounts.User",
        verbose_name=_("raised by"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    submitted_at = models.DateTimeField(_("submitted at"), null=True, blank=True)
    reviewed_at = models.DateTimeField(_("reviewed at"), null=True, blank=True)

    history = HistoricalRecords(excluded_fields=["updated_at"])

    class Meta:
        verbose_name = _("supply request")
        verbose_name_plural = _("supply requests")
        ordering = ["-pk"]
        # The dashboard counts open requisitions per state and age.
        indexes = [models.Index(fields=["state", "submitted_at"], name="requisition_state_idx")]

    def __str__(self) -> str:
        return self.number


class RequisitionLine(BaseModel):
    """One item a community asks for; the street office approves, reduces or rejects it."""

    requisition = models.ForeignKey(
        Requisition,
        verbose_name=_("supply request"),
        on_delete=models.CASCADE,
        related_name="lines",
    )
    item = models.CharField(_("item"), max_length=60)
    spec = models.CharField(_("specification"), max_length=60, blank=True)
    unit = models.CharField(_("unit"), max_length=10)
    quantity = models.DecimalField(_("quantity"), **QTY)
    reason = models.CharField(_("reason"), max_length=200, blank=True)
    urgency = models.CharField(
        _("urgency"), max_length=10, choices=Urgency.choices, default=Urgency.NORMAL
    )
    # Plain text until the welfare ledger's needs can be linked: which needs this line covers.
    needs_note = models.CharField(_("needs covered"), max_length=200, blank=True)
    street_quantity = models.DecimalField(
        _("approved by the street office"), null=True, blank=True, **QTY
    )

    history = HistoricalRecords(excluded_fields=["updated_at"])

    class Meta:
        verbose_name = _("supply request line")
        verbose_name_plural = _("supply request lines")
        ordering = ["pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(quantity__gt=0), name="requisitionline_quantity_positive"
            ),
            models.CheckConstraint(
                condition=Q(street_quantity__isnull=True) | Q(street_quantity__gte=0),
                name="requisitionline_street_quantity_nonnegative",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.item} {self.quantity}{self.unit}"


class StreetRequest(BaseModel):
    """A street office's consolidated request to the commerce bureau (调拨需求)."""

    class State(models.TextChoices):
        DRAFT = "draft", _("draft")
        SUBMITTED = "submitted", _("submitted to the commerce bureau")
        APPROVED = "approved", _("approved by the commerce bureau")
        REJECTED = "rejected", _("rejected")
        ALLOCATED = "allocated", _("allocation order issued")

    number = models.CharField(_("number"), max_length=20, unique=True)
    street = models.ForeignKey(
        "areas.Area",
        verbose_name=_("street office"),
        on_delete=models.PROTECT,
        related_name="street_requests",
    )
    state = models.CharField(_("state"), max_length=16, choices=State.choices, default=State.DRAFT)
    note = models.CharField(_("note"), max_length=300, blank=True)
    created_by = models.ForeignKey(
        "accounts.User",
        verbose_name=_("created by"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    submitted_at = models.DateTimeField(_("submitted at"), null=True, blank=True)
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)

    history = HistoricalRecords(excluded_fields=["updated_at"])

    class Meta:
        verbose_name = _("street request")
        verbose_name_plural = _("street requests")
        ordering = ["-pk"]

    def __str__(self) -> str:
        return self.number


class StreetRequestLine(BaseModel):
    """One item of a street request; `sources` says which communities' lines it adds up."""

    request = models.ForeignKey(
        StreetRequest,
        verbose_name=_("street request"),
        on_delete=models.CASCADE,
        related_name="lines",
    )
    item = models.CharField(_("item"), max_length=60)
    spec = models.CharField(_("specification"), max_length=60, blank=True)
    unit = models.CharField(_("unit"), max_length=10)
    quantity = models.DecimalField(_("quantity"), **QTY)
    bureau_quantity = models.DecimalField(
        _("approved by the commerce bureau"), null=True, blank=True, **QTY
    )
    sources = models.ManyToManyField(
        RequisitionLine, through="RequestSource", related_name="request_lines"
    )

    history = HistoricalRecords(excluded_fields=["updated_at"], m2m_fields=[])

    class Meta:
        verbose_name = _("street request line")
        verbose_name_plural = _("street request lines")
        ordering = ["pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(quantity__gt=0), name="streetrequestline_quantity_positive"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.item} {self.quantity}{self.unit}"


class RequestSource(models.Model):
    """How much of a street request line came from one community's requisition line."""

    request_line = models.ForeignKey(
        StreetRequestLine, on_delete=models.CASCADE, related_name="source_rows"
    )
    requisition_line = models.ForeignKey(
        RequisitionLine, on_delete=models.PROTECT, related_name="source_rows"
    )
    quantity = models.DecimalField(_("quantity"), **QTY)

    class Meta:
        constraints = [
            # A requisition line is consolidated once: counting it twice would double the goods.
            models.UniqueConstraint(fields=["requisition_line"], name="requestsource_line_once"),
            models.CheckConstraint(condition=Q(quantity__gt=0), name="requestsource_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.requisition_line} → {self.request_line_id}: {self.quantity}"


class ApprovalStep(models.Model):
    """One approver's decision on one line at one level (street office, commerce bureau)."""

    class Level(models.TextChoices):
        STREET = "street", _("street office")
        BUREAU = "bureau", _("commerce bureau")

    class Decision(models.TextChoices):
        APPROVE = "approve", _("approve")
        REDUCE = "reduce", _("reduce")
        REJECT = "reject", _("reject")

    level = models.CharField(_("level"), max_length=8, choices=Level.choices)
    requisition_line = models.ForeignKey(
        RequisitionLine, null=True, blank=True, on_delete=models.CASCADE, related_name="steps"
    )
    request_line = models.ForeignKey(
        StreetRequestLine, null=True, blank=True, on_delete=models.CASCADE, related_name="steps"
    )
    decision = models.CharField(_("decision"), max_length=8, choices=Decision.choices)
    quantity = models.DecimalField(_("approved quantity"), **QTY)
    reason = models.CharField(_("reason"), max_length=200, blank=True)
    decided_by = models.ForeignKey(
        "accounts.User",
        verbose_name=_("decided by"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("decided at"), default=timezone.now)

    class Meta:
        verbose_name = _("approval step")
        verbose_name_plural = _("approval steps")
        ordering = ["decided_at", "pk"]
        constraints = [
            models.CheckConstraint(
                name="approvalstep_level_matches_line",
                condition=Q(level="street", requisition_line__isnull=False, request_line=None)
                | Q(level="bureau", request_line__isnull=False, requisition_line=None),
            ),
            models.UniqueConstraint(
                fields=["requisition_line"],
                condition=Q(level="street"),
                name="approvalstep_one_street_decision",
            ),
            models.UniqueConstraint(
                fields=["request_line"],
                condition=Q(level="bureau"),
                name="approvalstep_one_bureau_decision",
            ),
            models.CheckConstraint(condition=Q(quantity__gte=0), name="approvalstep_nonnegative"),
        ]

    def __str__(self) -> str:
        return f"{self.get_level_display()}: {self.get_decision_display()} {self.quantity}"


class AllocationOrder(BaseModel):
    """调拨单: the bureau's order to a supply enterprise, numbered DB-<year>-<6 digits>."""

    class State(models.TextChoices):
        ISSUED = "issued", _("issued")
        CONFIRMED = "confirmed", _("confirmed by the enterprise")
        RECEIVED = "received", _("received")
        CANCELLED = "cancelled", _("cancelled")

    number = models.CharField(_("number"), max_length=20, unique=True)
    request = models.ForeignKey(
        StreetRequest,
        verbose_name=_("street request"),
        on_delete=models.PROTECT,
        related_name="allocations",
    )
    supplier = models.ForeignKey(
        "supply.Supplier",
        verbose_name=_("supply enterprise"),
        on_delete=models.PROTECT,
        related_name="allocations",
    )
    state = models.CharField(_("state"), max_length=12, choices=State.choices, default=State.ISSUED)
    allocation_date = models.DateField(_("allocation date"))
    # Where the goods go (the receiving street or community) and its address in words.
    delivery_area = models.ForeignKey(
        "areas.Area", verbose_name=_("delivery to"), on_delete=models.PROTECT, related_name="+"
    )
    delivery_place = models.CharField(_("delivery place"), max_length=200)
    delivery_at = models.DateTimeField(_("delivery time"))
    contact_name = models.CharField(_("contact"), max_length=50)
    contact_phone = models.CharField(_("contact phone"), max_length=24)
    # 谁使用、谁结算: the street office that asked for the goods pays for them.
    payer = models.ForeignKey(
        "areas.Area", verbose_name=_("payer"), on_delete=models.PROTECT, related_name="+"
    )
    issued_by = models.ForeignKey(
        "accounts.User",
        verbose_name=_("issued by"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    confirmed_at = models.DateTimeField(_("confirmed at"), null=True, blank=True)
    # Random, unguessable: the QR code's public verify page is found by it, never by pk.
    verify_token = models.CharField(max_length=32, unique=True, default=new_public_token)

    history = HistoricalRecords(excluded_fields=["updated_at"])

    class Meta:
        verbose_name = _("allocation order")
        verbose_name_plural = _("allocation orders")
        ordering = ["-pk"]

    def __str__(self) -> str:
        return self.number


class AllocationLine(BaseModel):
    order = models.ForeignKey(
        AllocationOrder,
        verbose_name=_("allocation order"),
        on_delete=models.CASCADE,
        related_name="lines",
    )
    request_line = models.ForeignKey(
        StreetRequestLine,
        verbose_name=_("street request line"),
        on_delete=models.PROTECT,
        related_name="allocation_lines",
    )
    item = models.CharField(_("item"), max_length=60)
    spec = models.CharField(_("specification"), max_length=60, blank=True)
    unit = models.CharField(_("unit"), max_length=10)
    quantity = models.DecimalField(_("quantity"), **QTY)
    unit_price = models.DecimalField(_("unit price"), **MONEY)
    confirmed_quantity = models.DecimalField(
        _("confirmed by the enterprise"), null=True, blank=True, **QTY
    )
    shortfall_reason = models.CharField(_("why not all of it"), max_length=200, blank=True)

    history = HistoricalRecords(excluded_fields=["updated_at"])

    class Meta:
        verbose_name = _("allocation line")
        verbose_name_plural = _("allocation lines")
        ordering = ["pk"]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="allocationline_positive"),
            models.CheckConstraint(condition=Q(unit_price__gte=0), name="allocationline_price"),
            models.CheckConstraint(
                condition=Q(confirmed_quantity__isnull=True)
                | Q(confirmed_quantity__gte=0, confirmed_quantity__lte=models.F("quantity")),
                name="allocationline_confirmed_within_ordered",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.item} {self.quantity}{self.unit}"

    @property
    def amount(self) -> Decimal:
        return (self.quantity * self.unit_price).quantize(Decimal("0.01"))


class Receipt(BaseModel):
    """接收台账: one delivery arriving at the allocation order's delivery place."""

    order = models.ForeignKey(
        AllocationOrder,
        verbose_name=_("allocation order"),
        on_delete=models.PROTECT,
        related_name="receipts",
    )
    received_by = models.ForeignKey(
        "accounts.User",
        verbose_name=_("received by"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    received_at = models.DateTimeField(_("received at"), default=timezone.now)
    note = models.CharField(_("note"), max_length=300, blank=True)
    # A form's one-time key: a double-submitted or retried receipt is recorded once.
    request_key = models.CharField(max_length=40, unique=True, null=True, blank=True)

    history = HistoricalRecords(excluded_fields=["updated_at"])

    class Meta:
        verbose_name = _("receipt record")
        verbose_name_plural = _("receipt records")
        ordering = ["-received_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.order.number} · {timezone.localtime(self.received_at):%Y-%m-%d %H:%M}"


class ReceiptLine(BaseModel):
    """What arrived of one allocation line; `accepted` enters the holder's stock."""

    receipt = models.ForeignKey(
        Receipt, verbose_name=_("receipt record"), on_delete=models.CASCADE, related_name="lines"
    )
    allocation_line = models.ForeignKey(
        AllocationLine,
        verbose_name=_("allocation line"),
        on_delete=models.PROTECT,
        related_name="receipt_lines",
    )
    delivered = models.DecimalField(_("delivered"), **QTY)
    damaged = models.DecimalField(_("damaged"), default=ZERO, **QTY)
    rejected = models.DecimalField(_("rejected"), default=ZERO, **QTY)
    accepted = models.DecimalField(_("accepted"), **QTY)
    shortage = models.DecimalField(_("short"), default=ZERO, **QTY)
    reason = models.CharField(_("reason"), max_length=200, blank=True)
    over_receipt_reason = models.CharField(_("reason for taking more"), max_length=200, blank=True)

    history = HistoricalRecords(excluded_fields=["updated_at"])

    class Meta:
        verbose_name = _("receipt line")
        verbose_name_plural = _("receipt lines")
        ordering = ["pk"]
        constraints = [
            models.CheckConstraint(
                name="receiptline_quantities_add_up",
                condition=Q(delivered__gte=0, damaged__gte=0, rejected__gte=0, shortage__gte=0)
                & Q(accepted=models.F("delivered") - models.F("damaged") - models.F("rejected")),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.allocation_line.item} {self.accepted}{self.allocation_line.unit}"


class Stock(models.Model):
    """What one holder (street, community) has on hand of one lot (a receipt line).

    Rows are locked (SELECT … FOR UPDATE) by every distribution; the check
    constraint is the database's last word that no one hands out more than is there.
    """

    holder = models.ForeignKey("areas.Area", on_delete=models.PROTECT, related_name="+")
    receipt_line = models.ForeignKey(ReceiptLine, on_delete=models.PROTECT, related_name="stocks")
    received = models.DecimalField(_("received"), default=ZERO, **QTY)
    distributed = models.DecimalField(_("distributed"), default=ZERO, **QTY)
    on_hand = models.DecimalField(_("on hand"), default=ZERO, **QTY)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["holder", "receipt_line"], name="stock_holder_lot"),
            models.CheckConstraint(
                name="stock_balances",
                condition=Q(on_hand__gte=0, distributed__gte=0)
                & Q(on_hand=models.F("received") - models.F("distributed")),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.holder} · {self.receipt_line}: {self.on_hand}"


class DistributionEntry(BaseModel):
    """分发台账: goods going from a holder down to a community, a household or a resident.

    The source is a lot (a receipt line) today; free distribution batches will add
    their own source field, and `to_*` stays the same for both.
    """

    receipt_line = models.ForeignKey(
        ReceiptLine,
        verbose_name=_("lot"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="distributions",
    )
    from_area = models.ForeignKey(
        "areas.Area", verbose_name=_("from"), on_delete=models.PROTECT, related_name="+"
    )
    to_area = models.ForeignKey(
        "areas.Area",
        verbose_name=_("to community"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    to_household = models.ForeignKey(
        "areas.Household",
        verbose_name=_("to household"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="distribution_entries",
    )
    to_resident = models.ForeignKey(
        "areas.Resident",
        verbose_name=_("to special-care resident"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="distribution_entries",
    )
    # A bag handed over in the last mile (ordered or free): one ledger line per bag.
    bag = models.OneToOneField(
        "lastmile.Bag",
        verbose_name=_("bag"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="ledger_entry",
    )
    quantity = models.DecimalField(_("quantity"), **QTY)
    unit = models.CharField(_("unit"), max_length=10)
    note = models.CharField(_("note"), max_length=200, blank=True)
    distributed_by = models.ForeignKey(
        "accounts.User",
        verbose_name=_("distributed by"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    distributed_at = models.DateTimeField(_("distributed at"), default=timezone.now)
    # A form's one-time key: a double-submitted or retried distribution is written once.
    request_key = models.CharField(max_length=40, unique=True, null=True, blank=True)

    history = HistoricalRecords(excluded_fields=["updated_at"])

    class Meta:
        verbose_name = _("distribution record")
        verbose_name_plural = _("distribution records")
        ordering = ["-distributed_at", "-pk"]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="distribution_positive"),
            # Exactly one recipient: an area below, a household, or a resident.
            models.CheckConstraint(
                name="distribution_one_recipient",
                condition=Q(to_area__isnull=False, to_household=None, to_resident=None)
                | Q(to_area=None, to_household__isnull=False, to_resident=None)
                | Q(to_area=None, to_household=None, to_resident__isnull=False),
            ),
        ]


class Settlement(BaseModel):
    """结算 of one allocation order: received × the allocation day's market price.

    Due 15 working days after the start (`workdays`); overdue while open after that.
    """

    class State(models.TextChoices):
        OPEN = "open", _("awaiting payment")
        PAID = "paid", _("paid")

    order = models.OneToOneField(
        AllocationOrder,
        verbose_name=_("allocation order"),
        on_delete=models.PROTECT,
        related_name="settlement",
    )
    number = models.CharField(_("number"), max_length=20, unique=True)
    state = models.CharField(_("state"), max_length=8, choices=State.choices, default=State.OPEN)
    started_on = models.DateField(_("settlement start"))
    due_on = models.DateField(_("due date"))
    # True when the holiday calendar did not yet cover every day counted: weekends only.
    due_provisional = models.BooleanField(_("due date provisional"), default=False)
    market_total = models.DecimalField(_("total at market price"), **MONEY)
    order_total = models.DecimalField(_("total at order price"), **MONEY)
    paid_on = models.DateField(_("paid on"), null=True, blank=True)
    payment_reference = models.CharField(_("payment reference"), max_length=60, blank=True)
    started_by = models.ForeignKey(
        "accounts.User",
        verbose_name=_("started by"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    history = HistoricalRecords(excluded_fields=["updated_at"])

    class Meta:
        verbose_name = _("settlement")
        verbose_name_plural = _("settlements")
        ordering = ["due_on", "pk"]
        # The dashboard lists open settlements by due date.
        indexes = [models.Index(fields=["state", "due_on"], name="settlement_state_due_idx")]

    def __str__(self) -> str:
        return self.number

    @property
    def is_overdue(self) -> bool:
        return self.state == self.State.OPEN and timezone.localdate() > self.due_on

    @property
    def difference(self) -> Decimal:
        return self.market_total - self.order_total


class SettlementLine(models.Model):
    settlement = models.ForeignKey(Settlement, on_delete=models.CASCADE, related_name="lines")
    allocation_line = models.OneToOneField(
        AllocationLine, on_delete=models.PROTECT, related_name="settlement_line"
    )
    received = models.DecimalField(_("received"), **QTY)
    market_price = models.DecimalField(_("market price on the allocation day"), **MONEY)
    price_source = models.CharField(_("price source"), max_length=200)
    order_price = models.DecimalField(_("order unit price"), **MONEY)
    amount = models.DecimalField(_("amount"), **MONEY)
    order_amount = models.DecimalField(_("amount at order price"), **MONEY)

    class Meta:
        ordering = ["pk"]
        constraints = [
            models.CheckConstraint(condition=Q(market_price__gte=0), name="settlement_price"),
        ]

    def __str__(self) -> str:
        return f"{self.allocation_line} × {self.market_price}"


class NumberSequence(models.Model):
    """The last number used per document kind and year (DB-2026-000123 and the like)."""

    prefix = models.CharField(max_length=4)
    year = models.PositiveSmallIntegerField()
    last = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["prefix", "year"], name="numbersequence_prefix_year")
        ]

    def __str__(self) -> str:
        return f"{self.prefix}-{self.year}: {self.last}"
