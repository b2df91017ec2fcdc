"""The last hundred metres: a compound's delivery, its bags, gate receipt, pickup slots,
handovers, door delivery and the volunteers who do it.

One `Delivery` is what reaches one compound from one source: an ordering round or a
free distribution. It holds one `Bag` per household. Everything after the gate —
checking bags against the manifest, calling buildings in slots, verifying a pickup
code, door delivery, following up what stays uncollected — works on bags, so ordered
and free goods go through the same machinery.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from baogong.core.models import BaseModel, new_public_token


class Delivery(BaseModel):
    """What one source brings to one compound: an ordering round's bags, or a distribution's."""

    class State(models.TextChoices):
        PREPARING = "preparing", _("being prepared")
        ON_THE_WAY = "on_the_way", _("on the way")
        RECEIVING = "receiving", _("being received at the gate")
        PICKUP = "pickup", _("pickup under way")
        DONE = "done", _("done")

    round = models.ForeignKey(
        "orders.Round",
        verbose_name=_("round"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="deliveries",
    )
    distribution = models.ForeignKey(
        "distributions.Distribution",
        verbose_name=_("free distribution"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="deliveries",
    )
    compound = models.ForeignKey(
        "areas.Area",
        verbose_name=_("compound"),
        on_delete=models.PROTECT,
        related_name="deliveries",
    )
    state = models.CharField(
        _("state"), max_length=12, choices=State.choices, default=State.PREPARING
    )
    # Where bags are handed out, and the spacing rule that sizes the slots (2 m apart).
    pickup_point = models.ForeignKey(
        "areas.Gate",
        verbose_name=_("pick-up point"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    max_waiting = models.PositiveSmallIntegerField(
        _("people waiting at once"),
        default=5,
        help_text=_("At most this many people wait at the pick-up point, 2 m apart."),
    )
    minutes_per_household = models.PositiveSmallIntegerField(_("minutes per household"), default=2)
    # The building being called now on the liaison's calling screen.
    current_slot = models.ForeignKey(
        "lastmile.PickupSlot",
        verbose_name=_("building being called"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    history = HistoricalRecords(excluded_fields=["updated_at"])

    class Meta:
        verbose_name = _("compound delivery")
        verbose_name_plural = _("compound deliveries")
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(round__isnull=False, distribution__isnull=True)
                | Q(round__isnull=True, distribution__isnull=False),
                name="delivery_one_source",
            ),
            models.UniqueConstraint(
                fields=["round", "compound"],
                condition=Q(round__isnull=False),
                name="delivery_round_compound_unique",
            ),
            models.UniqueConstraint(
                fields=["distribution", "compound"],
                condition=Q(distribution__isnull=False),
                name="delivery_distribution_compound_unique",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.compound} · {self.round or self.distribution}"


class Bag(BaseModel):
    """One household's labelled bag in one delivery: checked at the gate, then handed over."""

    class GateState(models.TextChoices):
        EXPECTED = "expected", _("not checked yet")
        RECEIVED = "received", _("received")
        MISSING = "missing", _("missing")
        DAMAGED = "damaged", _("damaged")
        WRONG = "wrong", _("wrong contents")

    class State(models.TextChoices):
        WAITING = "waiting", _("waiting to be collected")
        COLLECTED = "collected", _("collected")
        DELIVERED = "delivered", _("delivered to the door")
        # After the last slot: on the follow-up list until someone resolves it.
        UNCOLLECTED = "uncollected", _("not collected")
        # Not handed over at all: missing at the gate, or its order was dropped or cancelled.
        VOID = "void", _("withdrawn")

    class FollowUp(models.TextChoices):
        PHONE = "phone", _("phone the household")
        DOOR = "door", _("deliver to the door")
        STORAGE = "storage", _("keep in storage")

    delivery = models.ForeignKey(
        Delivery, verbose_name=_("delivery"), on_delete=models.CASCADE, related_name="bags"
    )
    household = models.ForeignKey(
        "areas.Household",
        verbose_name=_("household"),
        on_delete=models.PROTECT,
        related_name="bags",
    )
    # Denormalised so slots and calling screens filter without joins.
    building = models.ForeignKey(
        "areas.Area",
        verbose_name=_("building"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    order = models.OneToOneField(
        "orders.Order",
        verbose_name=_("order"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="bag",
    )
    # Set for free distributions, so the database holds "one allocation per household".
    distribution = models.ForeignKey(
        "distributions.Distribution",
        verbose_name=_("free distribution"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="bags",
    )
    packs = models.PositiveSmallIntegerField(_("packs"), default=1)
    pickup_code = models.CharField(_("pickup code"), max_length=8)
    door_delivery = models.BooleanField(_("door delivery"), default=False)
    gate_state = models.CharField(
        _("at the gate"), max_length=10, choices=GateState.choices, default=GateState.EXPECTED
    )
    gate_note = models.CharField(_("gate note"), max_length=200, blank=True)
    checked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("checked by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    checked_at = models.DateTimeField(_("checked at"), null=True, blank=True)
    state = models.CharField(
        _("state"), max_length=12, choices=State.choices, default=State.WAITING
    )
    follow_up = models.CharField(_("follow-up"), max_length=8, choices=FollowUp.choices, blank=True)
    follow_up_note = models.CharField(_("follow-up note"), max_length=200, blank=True)

    history = HistoricalRecords(excluded_fields=["updated_at"])

    class Meta:
        verbose_name = _("bag")
        verbose_name_plural = _("bags")
        ordering = ["delivery_id", "building_id", "household_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["delivery", "household"], name="bag_delivery_household_unique"
            ),
            models.UniqueConstraint(
                fields=["delivery", "pickup_code"], name="bag_delivery_pickup_code_unique"
            ),
            # One allocation per household per free distribution, across its deliveries.
            models.UniqueConstraint(
                fields=["distribution", "household"],
                condition=Q(distribution__isnull=False),
                name="bag_distribution_household_unique",
            ),
            models.CheckConstraint(condition=Q(packs__gte=1), name="bag_packs_positive"),
        ]
        indexes = [models.Index(fields=["delivery", "building", "state"])]

    def __str__(self) -> str:
        return f"{self.household} · {self.pickup_code}"


class Handover(BaseModel):
    """The verified moment a bag left our hands: collected at the pick-up point or at the door."""

    class Method(models.TextChoices):
        SCANNED = "scanned", _("pickup QR scanned")
        CODE = "code", _("pickup code typed")
        ROOM_PHONE = "room_phone", _("room and last 4 phone digits")
        DOOR_CODE = "door_code", _("at the door, code checked")
        LEFT_AT_DOOR = "left_at_door", _("left at the door")

    # (db) one handover per bag, so a code can be used once even when two people scan it.
    bag = models.OneToOneField(
        Bag, verbose_name=_("bag"), on_delete=models.PROTECT, related_name="handover"
    )
    method = models.CharField(_("how"), max_length=12, choices=Method.choices)
    handed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("handed over by"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    handed_at = models.DateTimeField(_("handed over at"))
    received_by = models.CharField(_("received by"), max_length=50, blank=True)
    photo = models.ImageField(_("photo"), upload_to="lastmile/handovers/", blank=True)

    history = HistoricalRecords(excluded_fields=["updated_at"])

    class Meta:
        verbose_name = _("handover")
        verbose_name_plural = _("handovers")

    def __str__(self) -> str:
        return f"{self.bag} · {self.method}"


class GateReceipt(BaseModel):
    """The liaison's check of a delivery's bags against the compound manifest."""

    delivery = models.OneToOneField(
        Delivery,
        verbose_name=_("delivery"),
        on_delete=models.CASCADE,
        related_name="gate_receipt",
    )
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("received by"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    started_at = models.DateTimeField(_("started at"))
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    note = models.CharField(_("note"), max_length=500, blank=True)

    history = HistoricalRecords(excluded_fields=["updated_at"])

    class Meta:
        verbose_name = _("gate receipt")
        verbose_name_plural = _("gate receipts")

    def __str__(self) -> str:
        return str(self.delivery)


class PickupSlot(BaseModel):
    """One building's time window at the pick-up point (错峰领取)."""

    class State(models.TextChoices):
        PLANNED = "planned", _("planned")
        CALLED = "called", _("called")
        DONE = "done", _("finished")

    delivery = models.ForeignKey(
        Delivery, verbose_name=_("delivery"), on_delete=models.CASCADE, related_name="slots"
    )
    building = models.ForeignKey(
        "areas.Area", verbose_name=_("building"), on_delete=models.PROTECT, related_name="+"
    )
    position = models.PositiveSmallIntegerField(_("order"))
    starts_at = models.DateTimeField(_("starts at"))
    ends_at = models.DateTimeField(_("ends at"))
    households = models.PositiveIntegerField(_("households"), default=0)
    state = models.CharField(_("state"), max_length=8, choices=State.choices, default=State.PLANNED)
    notified_at = models.DateTimeField(_("households told at"), null=True, blank=True)
    called_at = models.DateTimeField(_("called at"), null=True, blank=True)

    history = HistoricalRecords(excluded_fields=["updated_at"])

    class Meta:
        verbose_name = _("pickup slot")
        verbose_name_plural = _("pickup slots")
        ordering = ["delivery_id", "position"]
        constraints = [
            models.UniqueConstraint(
                fields=["delivery", "building"], name="slot_delivery_building_unique"
            ),
            models.CheckConstraint(
                condition=Q(ends_at__gt=models.F("starts_at")), name="slot_ends_after_start"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.delivery} · {self.building}"


class Volunteer(BaseModel):
    """A registered volunteer (志愿者) of a compound, in one team."""

    class Team(models.TextChoices):
        PERSUASION = "persuasion", _("persuasion team (劝导)")
        SUPPLY = "supply", _("supply team (保供)")
        TRANSPORT = "transport", _("transport team (运输)")
        GATE_DUTY = "gate_duty", _("gate duty team (值守)")
        PATROL = "patrol", _("patrol team (巡查)")

    class Health(models.TextChoices):
        GREEN = "green", _("green code, well")
        ISOLATING = "isolating", _("isolating")
        UNWELL = "unwell", _("unwell")

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("account"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="volunteer",
    )
    name = models.CharField(_("name"), max_length=50)
    phone = models.CharField(_("phone"), max_length=24)
    compound = models.ForeignKey(
        "areas.Area", verbose_name=_("compound"), on_delete=models.PROTECT, related_name="+"
    )
    building = models.ForeignKey(
        "areas.Area",
        verbose_name=_("building"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="volunteers",
    )
    team = models.CharField(_("team"), max_length=12, choices=Team.choices, default=Team.SUPPLY)
    availability = models.CharField(_("availability"), max_length=100, blank=True)
    health = models.CharField(
        _("health status"), max_length=10, choices=Health.choices, default=Health.GREEN
    )
    active = models.BooleanField(_("active"), default=True)

    history = HistoricalRecords(excluded_fields=["updated_at"])

    class Meta:
        verbose_name = _("volunteer")
        verbose_name_plural = _("volunteers")
        ordering = ["compound_id", "building_id", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["compound", "phone"], name="volunteer_compound_phone_unique"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Shift(BaseModel):
    """A volunteer's duty at a gate or transfer point."""

    volunteer = models.ForeignKey(
        Volunteer, verbose_name=_("volunteer"), on_delete=models.CASCADE, related_name="shifts"
    )
    place = models.ForeignKey(
        "areas.Gate", verbose_name=_("place"), on_delete=models.PROTECT, related_name="+"
    )
    starts_at = models.DateTimeField(_("starts at"))
    ends_at = models.DateTimeField(_("ends at"))
    note = models.CharField(_("note"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("shift")
        verbose_name_plural = _("shifts")
        ordering = ["starts_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gt=models.F("starts_at")), name="shift_ends_after_start"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.volunteer} · {self.place}"


class DoorTask(BaseModel):
    """A bag a building volunteer takes to a sealed or special-needs household's door."""

    class State(models.TextChoices):
        OPEN = "open", _("to deliver")
        DELIVERED = "delivered", _("delivered")
        PROBLEM = "problem", _("problem reported")

    bag = models.OneToOneField(
        Bag, verbose_name=_("bag"), on_delete=models.CASCADE, related_name="door_task"
    )
    volunteer = models.ForeignKey(
        Volunteer,
        verbose_name=_("volunteer"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="door_tasks",
    )
    state = models.CharField(_("state"), max_length=10, choices=State.choices, default=State.OPEN)
    problem = models.CharField(_("problem"), max_length=200, blank=True)

    history = HistoricalRecords(excluded_fields=["updated_at"])

    class Meta:
        verbose_name = _("door delivery task")
        verbose_name_plural = _("door delivery tasks")

    def __str__(self) -> str:
        return str(self.bag)


class WorkPass(BaseModel):
    """保供人员工作证: a volunteer's or supply worker's pass, verified by QR like a vehicle pass."""

    class Status(models.TextChoices):
        VALID = "valid", _("valid")
        REVOKED = "revoked", _("revoked")

    number = models.CharField(_("pass number"), max_length=20, unique=True)
    volunteer = models.ForeignKey(
        Volunteer, verbose_name=_("holder"), on_delete=models.PROTECT, related_name="work_passes"
    )
    authority = models.CharField(_("issued by"), max_length=100)
    valid_from = models.DateField(_("valid from"))
    valid_to = models.DateField(_("valid to"))
    status = models.CharField(
        _("status"), max_length=8, choices=Status.choices, default=Status.VALID
    )
    token = models.CharField(max_length=32, unique=True, default=new_public_token, editable=False)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)
    revoked_reason = models.CharField(_("reason"), max_length=200, blank=True)

    history = HistoricalRecords(excluded_fields=["updated_at"])

    class Meta:
        verbose_name = _("work pass")
        verbose_name_plural = _("work passes")
        constraints = [
            models.CheckConstraint(
                condition=Q(valid_to__gte=models.F("valid_from")), name="work_pass_dates"
            ),
        ]

    def __str__(self) -> str:
        return self.number
