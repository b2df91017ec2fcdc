from __future__ import annotations

from decimal import Decimal

from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from baogong.core.models import BaseModel


class Round(BaseModel):
    """One supplier's time-boxed collection of orders (团购轮次) for one or more compounds."""

    class State(models.TextChoices):
        DRAFT = "draft", _("draft")
        OPEN = "open", _("open")
        CLOSED = "closed", _("closed")
        CONFIRMED = "confirmed", _("confirmed")
        DISPATCHED = "dispatched", _("dispatched")
        DELIVERED = "delivered", _("delivered")
        SETTLED = "settled", _("settled")
        CANCELLED = "cancelled", _("cancelled")

    class Place(models.TextChoices):
        GATE = "gate", _("compound gate")
        TRANSFER_STATION = "transfer_station", _("transfer point")

    supplier = models.ForeignKey(
        "supply.Supplier",
        verbose_name=_("supplier"),
        on_delete=models.PROTECT,
        related_name="rounds",
    )
    title = models.CharField(_("title"), max_length=100)
    state = models.CharField(_("state"), max_length=16, choices=State.choices, default=State.DRAFT)
    areas = models.ManyToManyField(
        "areas.Area",
        verbose_name=_("compounds or communities"),
        related_name="rounds",
        through="RoundArea",
    )
    opens_at = models.DateTimeField(_("opens at"))
    cutoff_at = models.DateTimeField(_("cut-off"))
    payment_deadline = models.DateTimeField(_("payment deadline"), null=True, blank=True)
    delivery_at = models.DateTimeField(_("agreed delivery time"), null=True, blank=True)
    delivery_place = models.CharField(
        _("delivery place"), max_length=20, choices=Place.choices, default=Place.GATE
    )
    delivery_note = models.CharField(_("delivery place details"), max_length=200, blank=True)
    capacity = models.PositiveIntegerField(
        _("capacity (households)"),
        null=True,
        blank=True,
        help_text=_("Households the supplier can pack and deliver this round; empty if no limit."),
    )
    # Live orders counted against the capacity, in the same UPDATE that admits an order,
    # so the capacity holds under concurrency (and the check constraint below). Kept
    # ONLY for a round with a capacity (fixed while the round is a draft without
    # orders); it stays 0 for a round without one, whose placements would otherwise
    # all queue on this row until each other's commit. Read `orders_total` instead.
    orders_count = models.PositiveIntegerField(_("orders"), default=0, editable=False)
    created_by = models.ForeignKey(
        "accounts.User",
        verbose_name=_("created by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    closed_reason = models.CharField(_("closed because"), max_length=100, blank=True)

    class ShortageRule(models.TextChoices):
        FIRST_COME = "first_come", _("first come, first served")
        PRO_RATA = "pro_rata", _("pro rata")

    # How a shortage reported at confirmation is shared out; the liaison chooses.
    shortage_rule = models.CharField(
        _("shortage rule"),
        max_length=12,
        choices=ShortageRule.choices,
        default=ShortageRule.FIRST_COME,
    )
    consolidated_at = models.DateTimeField(_("consolidated at"), null=True, blank=True)
    # Set once unpaid orders have been dropped at the payment deadline (runs once).
    payments_closed_at = models.DateTimeField(_("payments closed at"), null=True, blank=True)

    history = HistoricalRecords(excluded_fields=["updated_at", "orders_count"])

    @property
    def orders_total(self) -> int:
        """Live (placed) orders: orders_count if there is a capacity, else counted on read.

        queries.with_orders_total annotates `live_orders` so a list counts in one query.
        """
        if self.capacity is not None:
            return self.orders_count
        live = getattr(self, "live_orders", None)
        if live is None:
            live = self.orders.filter(state=Order.State.PLACED).count()
        return live

    class Meta:
        verbose_name = _("ordering round")
        verbose_name_plural = _("ordering rounds")
        ordering = ["-opens_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(cutoff_at__gt=F("opens_at")), name="round_cutoff_after_open"
            ),
            models.CheckConstraint(
                condition=Q(capacity__isnull=True) | Q(orders_count__lte=F("capacity")),
                name="round_orders_within_capacity",
            ),
        ]
        indexes = [models.Index(fields=["state", "cutoff_at"], name="round_state_cutoff_idx")]

    def __str__(self) -> str:
        return self.title


class RoundArea(models.Model):
    """A compound (or a whole community) a round serves."""

    round = models.ForeignKey(Round, on_delete=models.CASCADE, related_name="round_areas")
    area = models.ForeignKey("areas.Area", on_delete=models.PROTECT, related_name="+")

    class Meta:
        verbose_name = _("round area")
        verbose_name_plural = _("round areas")
        constraints = [models.UniqueConstraint(fields=["round", "area"], name="roundarea_unique")]

    def __str__(self) -> str:
        return f"{self.round_id} → {self.area_id}"


class Offer(models.Model):
    """A package offered in a round, with this round's price, stock cap and limit."""

    round = models.ForeignKey(
        Round, verbose_name=_("round"), on_delete=models.CASCADE, related_name="offers"
    )
    package = models.ForeignKey(
        "supply.Package", verbose_name=_("package"), on_delete=models.PROTECT, related_name="offers"
    )
    code = models.CharField(
        _("option"),
        max_length=4,
        help_text=_("Short letter or number people write in chains: A, B, 1, 2."),
    )
    name = models.CharField(_("name"), max_length=100)  # snapshot: the catalog may change later
    price = models.DecimalField(_("price (yuan)"), max_digits=10, decimal_places=2)
    stock_cap = models.PositiveIntegerField(_("stock cap"))
    # Raised only by a conditional UPDATE (sold + n <= stock_cap), never read-modify-write.
    sold = models.PositiveIntegerField(_("sold"), default=0)
    per_household_limit = models.PositiveSmallIntegerField(_("limit per household"), default=1)
    position = models.PositiveSmallIntegerField(_("position"), default=0)

    class Meta:
        verbose_name = _("offer")
        verbose_name_plural = _("offers")
        ordering = ["round_id", "position", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(sold__lte=F("stock_cap")), name="offer_sold_within_cap"
            ),
            models.CheckConstraint(condition=Q(price__gte=0), name="offer_price_not_negative"),
            models.CheckConstraint(
                condition=Q(per_household_limit__gte=1), name="offer_limit_positive"
            ),
            models.UniqueConstraint(fields=["round", "code"], name="offer_round_code_unique"),
            models.UniqueConstraint(fields=["round", "package"], name="offer_round_package_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.code}. {self.name}"

    @property
    def remaining(self) -> int:
        return self.stock_cap - self.sold


class Order(BaseModel):
    """One household's order in one round, from whichever channel it came."""

    class Channel(models.TextChoices):
        SELF = "self", _("self-service")
        PROXY = "proxy", _("order on behalf")
        CHAIN = "chain", _("order chain")
        EXCEL = "excel", _("spreadsheet import")
        API = "api", _("platform API")

    class State(models.TextChoices):
        PLACED = "placed", _("placed")
        CANCELLED = "cancelled", _("cancelled")
        # Not paid by the payment deadline: off the manifests, stock released.
        DROPPED = "dropped", _("dropped for non-payment")

    class PaymentState(models.TextChoices):
        UNPAID = "unpaid", _("unpaid")
        # The resident says they paid; the supplier or liaison has not confirmed yet.
        CLAIMED = "claimed", _("payment reported")
        PAID = "paid", _("paid")
        WAIVED = "waived", _("waived")

    # Every order write maintains each index (hundreds a second at a round's opening):
    # round and household are the leading columns of the constraints and indexes
    # below, so they need no index of their own.
    round = models.ForeignKey(
        Round,
        verbose_name=_("round"),
        on_delete=models.PROTECT,
        related_name="orders",
        db_index=False,
    )
    household = models.ForeignKey(
        "areas.Household",
        verbose_name=_("household"),
        on_delete=models.PROTECT,
        related_name="orders",
        db_index=False,
    )
    # Denormalised so the cadence rule and compound lists need no join.
    compound = models.ForeignKey(
        "areas.Area",
        verbose_name=_("compound"),
        on_delete=models.PROTECT,
        related_name="+",
        editable=False,
    )
    channel = models.CharField(_("channel"), max_length=8, choices=Channel.choices)
    entered_by = models.ForeignKey(
        "accounts.User",
        verbose_name=_("entered by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    api_client = models.ForeignKey(
        "orders.ApiClient",
        verbose_name=_("platform"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="orders",
    )
    state = models.CharField(_("state"), max_length=12, choices=State.choices, default=State.PLACED)
    amount_due = models.DecimalField(
        _("amount due"), max_digits=10, decimal_places=2, default=Decimal("0.00")
    )
    payment_state = models.CharField(
        _("payment"), max_length=8, choices=PaymentState.choices, default=PaymentState.UNPAID
    )
    pickup_code = models.CharField(_("pickup code"), max_length=8)
    placed_at = models.DateTimeField(_("placed at"))
    note = models.CharField(_("note"), max_length=200, blank=True)

    # History rows are read by order (id) and time; the other foreign keys are copied
    # without an index, which every order placement would otherwise maintain.
    history = HistoricalRecords(
        excluded_fields=["updated_at"],
        no_db_index=["round", "household", "compound", "entered_by", "api_client"],
    )

    class Meta:
        verbose_name = _("order")
        verbose_name_plural = _("orders")
        ordering = ["round_id", "compound_id", "household_id"]
        constraints = [
            # One order per household per round: ordering again edits it.
            models.UniqueConstraint(
                fields=["round", "household"], name="order_round_household_unique"
            ),
            models.UniqueConstraint(
                fields=["round", "pickup_code"], name="order_round_pickup_code_unique"
            ),
            models.CheckConstraint(
                condition=Q(amount_due__gte=0), name="order_amount_not_negative"
            ),
        ]
        indexes = [
            # The cadence rule: a household's recent live orders.
            models.Index(fields=["household", "state", "placed_at"], name="order_cadence_idx"),
            models.Index(fields=["round", "payment_state"], name="order_round_payment_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.round} · {self.household_id}"


class OrderLine(models.Model):
    # The leading column of orderline_order_offer_unique: no index of its own.
    order = models.ForeignKey(
        Order,
        verbose_name=_("order"),
        on_delete=models.CASCADE,
        related_name="lines",
        db_index=False,
    )
    offer = models.ForeignKey(
        Offer, verbose_name=_("offer"), on_delete=models.PROTECT, related_name="lines"
    )
    quantity = models.PositiveSmallIntegerField(_("quantity"))
    # Units the supplier could not supply (set at confirmation); quantity stays as ordered.
    cut_quantity = models.PositiveSmallIntegerField(_("cut"), default=0)
    unit_price = models.DecimalField(_("unit price"), max_digits=10, decimal_places=2)

    class Meta:
        verbose_name = _("order line")
        verbose_name_plural = _("order lines")
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="orderline_quantity_positive"),
            models.CheckConstraint(
                condition=Q(cut_quantity__lte=F("quantity")), name="orderline_cut_within_quantity"
            ),
            models.UniqueConstraint(fields=["order", "offer"], name="orderline_order_offer_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.offer_id} ×{self.quantity}"

    @property
    def supplied_quantity(self) -> int:
        return self.quantity - self.cut_quantity

    @property
    def amount(self) -> Decimal:
        return self.unit_price * self.supplied_quantity


class ApiClient(BaseModel):
    """A platform or supplier system that calls the API with a token."""

    supplier = models.ForeignKey(
        "supply.Supplier",
        verbose_name=_("supplier"),
        on_delete=models.CASCADE,
        related_name="api_clients",
    )
    name = models.CharField(_("name"), max_length=100)
    # Only a hash is stored; the token is shown once when created.
    token_hash = models.CharField(_("token hash"), max_length=64, unique=True, editable=False)
    token_prefix = models.CharField(_("token prefix"), max_length=8, editable=False)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)

    class Meta:
        verbose_name = _("API client")
        verbose_name_plural = _("API clients")

    def __str__(self) -> str:
        return f"{self.name} ({self.token_prefix}…)"


class IdempotencyKey(models.Model):
    """The first response to an API write, replayed when the client retries with the same key."""

    # The leading column of idempotencykey_client_key_unique: no index of its own.
    client = models.ForeignKey(
        ApiClient, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    key = models.CharField(max_length=100)
    request_hash = models.CharField(max_length=64)
    status_code = models.PositiveSmallIntegerField()
    response = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("idempotency key")
        verbose_name_plural = _("idempotency keys")
        constraints = [
            models.UniqueConstraint(
                fields=["client", "key"], name="idempotencykey_client_key_unique"
            )
        ]

    def __str__(self) -> str:
        return self.key
