from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from baogong.core.models import BaseModel, new_public_token


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


class Vehicle(BaseModel):
    """A supply vehicle: a supplier's, or a street office's own transport team's."""

    class Kind(models.TextChoices):
        VAN = "van", _("van")
        LIGHT_TRUCK = "light_truck", _("light truck")
        TRUCK = "truck", _("truck")
        COLD_CHAIN = "cold_chain", _("refrigerated truck")
        TRICYCLE = "tricycle", _("electric tricycle")

    plate = models.CharField(_("plate number"), max_length=12, unique=True)
    kind = models.CharField(_("type"), max_length=12, choices=Kind.choices, default=Kind.VAN)
    capacity_bags = models.PositiveIntegerField(_("capacity (bags)"), default=0)
    capacity_kg = models.PositiveIntegerField(_("capacity (kg)"), default=0)
    supplier = models.ForeignKey(
        "supply.Supplier",
        verbose_name=_("supplier"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="vehicles",
    )
    street = models.ForeignKey(
        "areas.Area",
        verbose_name=_("street office transport team"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="vehicles",
    )

    history = HistoricalRecords(excluded_fields=["updated_at"])

    class Meta:
        verbose_name = _("vehicle")
        verbose_name_plural = _("vehicles")
        ordering = ["plate"]
        constraints = [
            models.CheckConstraint(
                condition=Q(supplier__isnull=False, street__isnull=True)
                | Q(supplier__isnull=True, street__isnull=False),
                name="vehicle_one_owner",
            ),
        ]

    def __str__(self) -> str:
        return self.plate


class CrewMember(BaseModel):
    """A driver or loader. Only a masked ID number is kept."""

    name = models.CharField(_("name"), max_length=50)
    phone = models.CharField(_("phone"), max_length=24)
    id_number_masked = models.CharField(_("ID number (masked)"), max_length=24, blank=True)
    supplier = models.ForeignKey(
        "supply.Supplier",
        verbose_name=_("supplier"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="crew",
    )
    street = models.ForeignKey(
        "areas.Area",
        verbose_name=_("street office transport team"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="crew",
    )

    history = HistoricalRecords(excluded_fields=["updated_at"])

    class Meta:
        verbose_name = _("crew member")
        verbose_name_plural = _("crew members")
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(supplier__isnull=False, street__isnull=True)
                | Q(supplier__isnull=True, street__isnull=False),
                name="crew_one_owner",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class VehiclePass(BaseModel):
    """保供车辆通行证. Expiry is read from the dates; revocation is a state and acts at once."""

    class Status(models.TextChoices):
        VALID = "valid", _("valid")
        REVOKED = "revoked", _("revoked")

    number = models.CharField(_("pass number"), max_length=20, unique=True)
    vehicle = models.ForeignKey(
        Vehicle, verbose_name=_("vehicle"), on_delete=models.PROTECT, related_name="passes"
    )
    authority = models.CharField(_("issued by"), max_length=100)
    valid_from = models.DateTimeField(_("valid from"))
    valid_to = models.DateTimeField(_("valid to"))
    areas = models.ManyToManyField(
        "areas.Area", verbose_name=_("areas"), blank=True, related_name="+"
    )
    route = models.CharField(_("route"), max_length=200, blank=True)
    status = models.CharField(
        _("status"), max_length=8, choices=Status.choices, default=Status.VALID
    )
    token = models.CharField(max_length=32, unique=True, default=new_public_token, editable=False)
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("entered by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)
    revoked_reason = models.CharField(_("reason"), max_length=200, blank=True)

    history = HistoricalRecords(excluded_fields=["updated_at"])

    class Meta:
        verbose_name = _("vehicle pass")
        verbose_name_plural = _("vehicle passes")
        ordering = ["-valid_to"]
        constraints = [
            models.CheckConstraint(
                condition=Q(valid_to__gt=models.F("valid_from")), name="vehicle_pass_dates"
            ),
        ]

    def __str__(self) -> str:
        return self.number


class Trip(BaseModel):
    """配送车次: one vehicle's run carrying compound deliveries to their stops."""

    class State(models.TextChoices):
        PLANNED = "planned", _("planned")
        DISPATCHED = "dispatched", _("on the way")
        ARRIVED = "arrived", _("arrived")
        UNLOADED = "unloaded", _("unloaded")
        CLOSED = "closed", _("closed")

    number = models.CharField(_("trip number"), max_length=20, unique=True)
    supplier = models.ForeignKey(
        "supply.Supplier",
        verbose_name=_("supplier"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="trips",
    )
    vehicle = models.ForeignKey(
        Vehicle, verbose_name=_("vehicle"), on_delete=models.PROTECT, related_name="trips"
    )
    vehicle_pass = models.ForeignKey(
        VehiclePass,
        verbose_name=_("vehicle pass"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="trips",
    )
    driver = models.ForeignKey(
        CrewMember, verbose_name=_("driver"), on_delete=models.PROTECT, related_name="+"
    )
    crew = models.ManyToManyField(
        CrewMember, verbose_name=_("crew"), blank=True, related_name="trips"
    )
    state = models.CharField(
        _("state"), max_length=10, choices=State.choices, default=State.PLANNED
    )
    departs_at = models.DateTimeField(_("planned departure"))
    dispatched_at = models.DateTimeField(_("dispatched at"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    # The planning form's one-time key: a double tap or a retried submit plans one trip.
    request_key = models.CharField(max_length=40, unique=True, null=True, blank=True)

    history = HistoricalRecords(excluded_fields=["updated_at", "request_key"])

    class Meta:
        verbose_name = _("delivery trip")
        verbose_name_plural = _("delivery trips")
        ordering = ["-departs_at"]

    def __str__(self) -> str:
        return self.number


class Stop(BaseModel):
    """A planned stop of a trip: a compound gate, transfer point or unloading point."""

    class State(models.TextChoices):
        PLANNED = "planned", _("planned")
        ARRIVED = "arrived", _("arrived")
        UNLOADED = "unloaded", _("unloaded")

    trip = models.ForeignKey(
        Trip, verbose_name=_("trip"), on_delete=models.CASCADE, related_name="stops"
    )
    position = models.PositiveSmallIntegerField(_("order"))
    place = models.ForeignKey(
        "areas.Gate", verbose_name=_("place"), on_delete=models.PROTECT, related_name="stops"
    )
    window_from = models.DateTimeField(_("arrive from"))
    window_to = models.DateTimeField(_("arrive by"))
    deliveries = models.ManyToManyField(
        "lastmile.Delivery", verbose_name=_("compound deliveries"), blank=True, related_name="stops"
    )
    state = models.CharField(
        _("state"), max_length=10, choices=State.choices, default=State.PLANNED
    )
    arrived_at = models.DateTimeField(_("arrived at"), null=True, blank=True)
    unloaded_at = models.DateTimeField(_("unloaded at"), null=True, blank=True)

    history = HistoricalRecords(excluded_fields=["updated_at"])

    class Meta:
        verbose_name = _("trip stop")
        verbose_name_plural = _("trip stops")
        ordering = ["trip_id", "position"]
        constraints = [
            models.UniqueConstraint(fields=["trip", "position"], name="stop_trip_position_unique"),
            models.CheckConstraint(
                condition=Q(window_to__gt=models.F("window_from")), name="stop_window"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.trip} · {self.position}"


class Attestation(BaseModel):
    """A crew member's health declaration for one trip (绿码、14天行程、48小时核酸、承诺)."""

    class HealthCode(models.TextChoices):
        GREEN = "green", _("green")
        YELLOW = "yellow", _("yellow")
        RED = "red", _("red")

    trip = models.ForeignKey(
        Trip, verbose_name=_("trip"), on_delete=models.CASCADE, related_name="attestations"
    )
    crew_member = models.ForeignKey(
        CrewMember, verbose_name=_("crew member"), on_delete=models.PROTECT, related_name="+"
    )
    health_code = models.CharField(_("health code"), max_length=8, choices=HealthCode.choices)
    travel_record = models.CharField(_("places visited in 14 days"), max_length=200, blank=True)
    travel_ok = models.BooleanField(_("no risk area visited in 14 days"), default=False)
    last_test_at = models.DateTimeField(_("last negative test"))
    symptoms = models.BooleanField(_("has fever or symptoms"), default=False)
    commitment_signed = models.BooleanField(_("commitment signed"), default=False)
    signed_name = models.CharField(_("signed by"), max_length=50, blank=True)
    signed_at = models.DateTimeField(_("signed at"), null=True, blank=True)
    photo = models.ImageField(_("photo"), upload_to="fulfilment/attestations/", blank=True)

    history = HistoricalRecords(excluded_fields=["updated_at"])

    class Meta:
        verbose_name = _("health declaration")
        verbose_name_plural = _("health declarations")
        constraints = [
            models.UniqueConstraint(
                fields=["trip", "crew_member"], name="attestation_trip_crew_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.trip} · {self.crew_member}"


class EntryRequest(BaseModel):
    """Filed the day before for a site that needs approval (school, sealed compound)."""

    class State(models.TextChoices):
        PENDING = "pending", _("waiting for approval")
        APPROVED = "approved", _("approved")
        REFUSED = "refused", _("refused")

    site = models.ForeignKey(
        "areas.Area",
        verbose_name=_("site"),
        on_delete=models.PROTECT,
        related_name="entry_requests",
    )
    trip = models.ForeignKey(
        Trip,
        verbose_name=_("trip"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="entry_requests",
    )
    vehicle = models.ForeignKey(
        Vehicle, verbose_name=_("vehicle"), on_delete=models.PROTECT, related_name="+"
    )
    crew = models.ManyToManyField(CrewMember, verbose_name=_("crew"), related_name="+")
    cargo = models.CharField(_("cargo"), max_length=300)
    arrive_from = models.DateTimeField(_("arrive from"))
    arrive_to = models.DateTimeField(_("arrive by"))
    state = models.CharField(_("state"), max_length=8, choices=State.choices, default=State.PENDING)
    filed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("filed by"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("decided by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    reason = models.CharField(_("reason"), max_length=200, blank=True)

    history = HistoricalRecords(excluded_fields=["updated_at"])

    class Meta:
        verbose_name = _("entry request")
        verbose_name_plural = _("entry requests")
        ordering = ["-arrive_from"]
        constraints = [
            models.CheckConstraint(
                condition=Q(arrive_to__gt=models.F("arrive_from")), name="entry_request_window"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.site} · {self.vehicle}"


class Disinfection(BaseModel):
    """消杀记录 at a stop: unloading waits until the rest time has passed."""

    stop = models.ForeignKey(
        Stop, verbose_name=_("stop"), on_delete=models.CASCADE, related_name="disinfections"
    )
    agent = models.CharField(_("agent"), max_length=50, default="84消毒液")
    dilution = models.CharField(_("dilution"), max_length=20, default="1:100")
    done_by = models.CharField(_("done by"), max_length=50)
    done_at = models.DateTimeField(_("done at"))
    rest_minutes = models.PositiveSmallIntegerField(
        _("rest before unloading (minutes)"), default=30
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recorded by"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = _("disinfection record")
        verbose_name_plural = _("disinfection records")
        ordering = ["-done_at"]

    def __str__(self) -> str:
        return f"{self.stop} · {self.done_at}"
