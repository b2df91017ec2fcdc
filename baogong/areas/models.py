from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from baogong.core.models import BaseModel
from baogong.core.phones import mask_phone


class Containment(models.TextChoices):
    """Containment status of a building or household, loosest first."""

    NONE = "none", _("not controlled")
    PRECAUTION = "precaution", _("precaution zone")
    CONTROLLED = "controlled", _("controlled zone")
    SEALED = "sealed", _("sealed zone")

    @classmethod
    def strictest(cls, *values: str) -> Containment:
        order = list(cls.values)
        return cls(max(values, key=order.index))


class Area(BaseModel):
    """One node of the district → street → community → compound → building tree.

    `path` is the materialised path of primary keys ("/1/7/42/"), so "everything
    under this node" is one indexed prefix query: path__startswith=node.path.
    """

    class Kind(models.TextChoices):
        DISTRICT = "district", _("district")
        STREET = "street", _("street office")
        COMMUNITY = "community", _("community")
        COMPOUND = "compound", _("compound")
        BUILDING = "building", _("building")

    RURAL_LABELS = {
        Kind.DISTRICT: _("county"),
        Kind.STREET: _("township"),
        Kind.COMMUNITY: _("village"),
        Kind.COMPOUND: _("village group"),
    }
    CHILD_KIND = {
        Kind.DISTRICT: Kind.STREET,
        Kind.STREET: Kind.COMMUNITY,
        Kind.COMMUNITY: Kind.COMPOUND,
        Kind.COMPOUND: Kind.BUILDING,
    }

    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    path = models.CharField(_("path"), max_length=255, db_index=True, editable=False, default="")
    name = models.CharField(_("name"), max_length=100)
    code = models.CharField(_("code"), max_length=32, blank=True)
    rural = models.BooleanField(_("rural"), default=False)
    latitude = models.DecimalField(
        _("latitude"), max_digits=9, decimal_places=6, null=True, blank=True
    )
    longitude = models.DecimalField(
        _("longitude"), max_digits=9, decimal_places=6, null=True, blank=True
    )
    units_count = models.PositiveSmallIntegerField(
        _("entrances"),
        default=0,
        help_text=_("Number of entrances (单元) of a building; 0 if none."),
    )
    containment = models.CharField(
        _("containment status"),
        max_length=16,
        choices=Containment.choices,
        default=Containment.NONE,
    )
    containment_since = models.DateField(_("containment since"), null=True, blank=True)
    containment_until = models.DateField(_("containment until"), null=True, blank=True)
    cadence_days = models.PositiveSmallIntegerField(
        _("ordering interval (days)"),
        default=3,
        help_text=_("Minimum days between a household's orders in this compound."),
    )

    history = HistoricalRecords(excluded_fields=["path", "updated_at"])

    class Meta:
        verbose_name = _("area")
        verbose_name_plural = _("areas")
        ordering = ["path"]
        constraints = [
            # Names are how people find a node: no two siblings share one.
            models.UniqueConstraint(fields=["parent", "name"], name="area_parent_name_unique"),
            models.UniqueConstraint(
                fields=["name"], condition=Q(parent__isnull=True), name="area_root_name_unique"
            ),
            models.CheckConstraint(
                condition=Q(parent__isnull=True) | ~Q(kind="district"),
                name="area_district_is_root",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def kind_label(self) -> str:
        if self.rural and self.kind in self.RURAL_LABELS:
            return str(self.RURAL_LABELS[self.kind])
        return self.get_kind_display()

    @property
    def ancestor_ids(self) -> list[int]:
        return [int(part) for part in self.path.strip("/").split("/") if part][:-1]

    def is_within(self, other: Area) -> bool:
        return self.path.startswith(other.path)


class Gate(BaseModel):
    """A compound's gate, pick-up point or nearby transfer station: where goods arrive."""

    class Kind(models.TextChoices):
        GATE = "gate", _("gate")
        PICKUP_POINT = "pickup_point", _("pick-up point")
        TRANSFER_STATION = "transfer_station", _("transfer point")
        STORAGE = "storage", _("temporary storage")

    compound = models.ForeignKey(
        Area,
        verbose_name=_("compound"),
        on_delete=models.CASCADE,
        related_name="gates",
        limit_choices_to={"kind": Area.Kind.COMPOUND},
    )
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices, default=Kind.GATE)
    name = models.CharField(_("name"), max_length=100)
    latitude = models.DecimalField(
        _("latitude"), max_digits=9, decimal_places=6, null=True, blank=True
    )
    longitude = models.DecimalField(
        _("longitude"), max_digits=9, decimal_places=6, null=True, blank=True
    )
    # Bags it holds at once (storage, transfer point) or people it lets wait 2 m apart
    # (pick-up point); empty when nobody has counted.
    capacity = models.PositiveIntegerField(_("capacity"), null=True, blank=True)
    # A building's own pick-up point (at its door); empty for compound-wide places.
    building = models.ForeignKey(
        Area,
        verbose_name=_("building"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="pickup_points",
        limit_choices_to={"kind": Area.Kind.BUILDING},
    )
    notes = models.CharField(_("notes"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("gate or pick-up point")
        verbose_name_plural = _("gates and pick-up points")
        constraints = [
            models.UniqueConstraint(fields=["compound", "name"], name="gate_compound_name_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.compound} · {self.name}"


class Household(BaseModel):
    """One flat: building + entrance + room. Orders, bags and payments belong to it."""

    building = models.ForeignKey(
        Area,
        verbose_name=_("building"),
        on_delete=models.PROTECT,
        related_name="households",
        limit_choices_to={"kind": Area.Kind.BUILDING},
    )
    # Denormalised from building.parent so compound-wide lists need no join.
    compound = models.ForeignKey(
        Area,
        verbose_name=_("compound"),
        on_delete=models.PROTECT,
        related_name="compound_households",
        editable=False,
    )
    unit = models.CharField(_("entrance"), max_length=8, blank=True)
    floor = models.SmallIntegerField(_("floor"), null=True, blank=True)
    room = models.CharField(_("room"), max_length=16)
    members_count = models.PositiveSmallIntegerField(_("members"), default=1)
    phone = models.CharField(_("contact phone"), max_length=24, blank=True)
    phone_alt = models.CharField(_("second phone"), max_length=24, blank=True)
    containment = models.CharField(
        _("containment status"),
        max_length=16,
        choices=Containment.choices,
        default=Containment.NONE,
    )
    containment_since = models.DateField(_("containment since"), null=True, blank=True)
    containment_until = models.DateField(_("containment until"), null=True, blank=True)
    notes = models.CharField(_("notes"), max_length=500, blank=True)

    # No FK constraint on the history's user: a register import writes 100,000s of history
    # rows, and checking each against the users table at commit was a fifth of its time.
    history = HistoricalRecords(excluded_fields=["updated_at"], user_db_constraint=False)

    class Meta:
        verbose_name = _("household")
        verbose_name_plural = _("households")
        ordering = ["compound_id", "building_id", "unit", "room"]
        constraints = [
            # The natural key of the register: importing a file twice must not duplicate a flat.
            models.UniqueConstraint(
                fields=["building", "unit", "room"], name="household_building_unit_room_unique"
            ),
            models.CheckConstraint(
                condition=Q(members_count__gte=1), name="household_members_positive"
            ),
        ]
        indexes = [
            # Compound-wide lists sorted the way bags are packed.
            models.Index(
                fields=["compound", "building", "unit", "room"], name="household_compound_order_idx"
            ),
            # Search by phone.
            models.Index(fields=["phone"], name="household_phone_idx"),
        ]

    def __str__(self) -> str:
        return self.address

    @property
    def address(self) -> str:
        unit = f"{self.unit}单元" if self.unit else ""
        return f"{self.building.name}{unit}{self.room}"

    @property
    def masked_phone(self) -> str:
        return mask_phone(self.phone)

    @property
    def effective_containment(self) -> Containment:
        return Containment.strictest(self.containment, self.building.containment)


class Resident(BaseModel):
    """A person living in a household."""

    household = models.ForeignKey(
        Household, verbose_name=_("household"), on_delete=models.CASCADE, related_name="residents"
    )
    name = models.CharField(_("name"), max_length=50)
    phone = models.CharField(_("phone"), max_length=24, blank=True)
    is_contact = models.BooleanField(_("household contact"), default=False)
    special_group = models.BooleanField(
        _("special-care resident"),
        default=False,
        help_text=_(
            "Elderly living alone, disabled, pregnant, chronically ill, "
            "child in difficulty or household in hardship."
        ),
    )
    needs_door_delivery = models.BooleanField(_("needs door delivery"), default=False)
    notes = models.CharField(_("notes"), max_length=500, blank=True)

    # No FK constraint on the history's user: a register import writes 100,000s of history
    # rows, and checking each against the users table at commit was a fifth of its time.
    history = HistoricalRecords(excluded_fields=["updated_at"], user_db_constraint=False)

    class Meta:
        verbose_name = _("resident")
        verbose_name_plural = _("residents")
        ordering = ["household_id", "-is_contact", "name"]
        constraints = [
            # The register's natural key for a person: re-importing keeps one row.
            models.UniqueConstraint(
                fields=["household", "name"], name="resident_household_name_unique"
            ),
        ]
        indexes = [models.Index(fields=["phone"], name="resident_phone_idx")]

    def __str__(self) -> str:
        return self.name

    @property
    def masked_phone(self) -> str:
        return mask_phone(self.phone)
