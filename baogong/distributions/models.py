"""Free distributions (发放批次): packages handed to every household, not ordered or paid.

The bags, labels, slots and handovers are the last mile's (`lastmile.Bag` with
`distribution` set); this app plans who gets what and reports coverage.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from baogong.core.models import BaseModel


class Distribution(BaseModel):
    """One batch of free packages for the households of some areas."""

    class Source(models.TextChoices):
        RESERVE = "reserve", _("government reserve")
        ALLOCATION = "allocation", _("allocation order")
        DONATION = "donation", _("donation")

    class Rule(models.TextChoices):
        PER_HOUSEHOLD = "household", _("one per household")
        SIZE_BANDS = "size_bands", _("by household size")

    class State(models.TextChoices):
        DRAFT = "draft", _("draft")
        PLANNED = "planned", _("planned")
        DELIVERING = "delivering", _("being handed out")
        CLOSED = "closed", _("closed")

    title = models.CharField(_("title"), max_length=100)
    source = models.CharField(_("source"), max_length=12, choices=Source.choices)
    donor_name = models.CharField(_("donor"), max_length=100, blank=True)
    allocation_order = models.ForeignKey(
        "requisitions.AllocationOrder",
        verbose_name=_("allocation order"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="distributions",
    )
    # The street or community that runs it; targets lie under it.
    organiser = models.ForeignKey(
        "areas.Area", verbose_name=_("organised by"), on_delete=models.PROTECT, related_name="+"
    )
    state = models.CharField(_("state"), max_length=12, choices=State.choices, default=State.DRAFT)
    # Streets, communities, compounds or single buildings, all under the organiser.
    targets = models.ManyToManyField(
        "areas.Area", verbose_name=_("target areas"), blank=True, related_name="+"
    )
    rule = models.CharField(
        _("allocation rule"), max_length=12, choices=Rule.choices, default=Rule.PER_HOUSEHOLD
    )
    # Special-group households: a resident in a special group or needing door delivery,
    # or on the welfare special-care register.
    special_extra_packs = models.PositiveSmallIntegerField(
        _("extra packs for special-group households"), default=0
    )
    special_package = models.ForeignKey(
        "distributions.Package",
        verbose_name=_("package for special-group households"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text=_("Leave empty to give them the same package as everyone."),
    )
    # "Take the waiting list first": households left out of that batch come before anyone.
    waiting_from = models.ForeignKey(
        "self",
        verbose_name=_("serve the waiting list of"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    committed_at = models.DateTimeField(_("bags made at"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    history = HistoricalRecords(excluded_fields=["updated_at"])

    class Meta:
        verbose_name = _("free distribution")
        verbose_name_plural = _("free distributions")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.title


class Package(BaseModel):
    """One kind of pack in a distribution, e.g. the standard government package."""

    distribution = models.ForeignKey(
        Distribution,
        verbose_name=_("free distribution"),
        on_delete=models.CASCADE,
        related_name="packages",
    )
    name = models.CharField(_("name"), max_length=60)
    # One line per item, e.g. "大米 5kg ×1".
    contents = models.TextField(_("contents"), blank=True)
    quantity_available = models.PositiveIntegerField(_("packs available"))
    # The first package (lowest position) is the one everybody gets.
    position = models.PositiveSmallIntegerField(_("position"), default=0)

    history = HistoricalRecords(excluded_fields=["updated_at"])

    class Meta:
        verbose_name = _("package")
        verbose_name_plural = _("packages")
        ordering = ["distribution_id", "position", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["distribution", "name"], name="package_distribution_name_unique"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def content_lines(self) -> list[str]:
        return [line.strip() for line in self.contents.splitlines() if line.strip()]


class SizeBand(BaseModel):
    """Households of min_members..max_members people get `packs` packs (max empty: and up)."""

    distribution = models.ForeignKey(
        Distribution,
        verbose_name=_("free distribution"),
        on_delete=models.CASCADE,
        related_name="bands",
    )
    min_members = models.PositiveSmallIntegerField(_("from (people)"))
    max_members = models.PositiveSmallIntegerField(_("to (people)"), null=True, blank=True)
    packs = models.PositiveSmallIntegerField(_("packs"))

    class Meta:
        verbose_name = _("household size band")
        verbose_name_plural = _("household size bands")
        ordering = ["distribution_id", "min_members"]
        constraints = [
            models.UniqueConstraint(
                fields=["distribution", "min_members"], name="sizeband_distribution_min_unique"
            ),
            models.CheckConstraint(condition=Q(min_members__gte=1), name="sizeband_min_positive"),
            models.CheckConstraint(condition=Q(packs__gte=1), name="sizeband_packs_positive"),
        ]

    def __str__(self) -> str:
        upper = self.max_members if self.max_members else "+"
        return f"{self.min_members}-{upper}: {self.packs}"


DEFAULT_BANDS = [(1, 2, 1), (3, 4, 2), (5, None, 3)]


class Allocation(BaseModel):
    """What one household gets from one distribution, written when the plan is committed."""

    class State(models.TextChoices):
        # Allocated, its bag not made yet (committing again makes it).
        PLANNED = "planned", _("planned")
        # Left out for lack of stock: on the waiting list for the next batch.
        WAITING = "waiting", _("on the waiting list")
        BAGGED = "bagged", _("bag made")

    class Priority(models.IntegerChoices):
        SEALED_OR_SPECIAL = 0, _("sealed building or household, or special group")
        OTHER = 1, _("everyone else")
        # Left out of an earlier batch: served first ("take the waiting list first").
        WAITING_LIST = -1, _("waiting list of an earlier batch")

    distribution = models.ForeignKey(
        Distribution,
        verbose_name=_("free distribution"),
        on_delete=models.CASCADE,
        related_name="allocations",
    )
    household = models.ForeignKey(
        "areas.Household",
        verbose_name=_("household"),
        on_delete=models.PROTECT,
        related_name="allocations",
    )
    # Denormalised so coverage per compound and building needs no join.
    compound = models.ForeignKey(
        "areas.Area", verbose_name=_("compound"), on_delete=models.PROTECT, related_name="+"
    )
    building = models.ForeignKey(
        "areas.Area", verbose_name=_("building"), on_delete=models.PROTECT, related_name="+"
    )
    package = models.ForeignKey(
        Package, verbose_name=_("package"), on_delete=models.PROTECT, related_name="allocations"
    )
    packs = models.PositiveSmallIntegerField(_("packs"))
    special = models.BooleanField(_("special group"), default=False)
    priority = models.SmallIntegerField(_("priority class"), choices=Priority.choices)
    # 1 = served first; the plan's stated order (priority class, then building order).
    rank = models.PositiveIntegerField(_("rank"))
    state = models.CharField(_("state"), max_length=8, choices=State.choices)
    bag = models.OneToOneField(
        "lastmile.Bag",
        verbose_name=_("bag"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="allocation",
    )
    # A waiting household later served by another batch that took this waiting list.
    served_in = models.ForeignKey(
        Distribution,
        verbose_name=_("served in"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = _("allocation")
        verbose_name_plural = _("allocations")
        ordering = ["distribution_id", "rank"]
        constraints = [
            # A household receives at most one allocation per distribution.
            models.UniqueConstraint(
                fields=["distribution", "household"],
                name="allocation_distribution_household_unique",
            ),
            models.CheckConstraint(condition=Q(packs__gte=1), name="allocation_packs_positive"),
        ]
        indexes = [models.Index(fields=["distribution", "state", "compound"])]

    def __str__(self) -> str:
        return f"{self.distribution_id} · {self.household_id} · {self.packs}"


class DistributionDocument(BaseModel):
    """A generated document of a distribution (pack list, labels, manifests) and its progress;
    like fulfilment's round `Document`, one row per distribution and kind."""

    class Kind(models.TextChoices):
        PACK_LIST = "pack_list", _("pack list")
        LABELS_A4 = "labels_a4", _("bag labels, A4 sheets")
        LABELS_THERMAL = "labels_thermal", _("bag labels, 100×150 mm thermal")
        MANIFESTS = "manifests", _("compound box manifests")

    class State(models.TextChoices):
        QUEUED = "queued", _("waiting")
        RUNNING = "running", _("being made")
        DONE = "done", _("ready")
        FAILED = "failed", _("failed")

    distribution = models.ForeignKey(
        Distribution,
        verbose_name=_("free distribution"),
        on_delete=models.CASCADE,
        related_name="documents",
    )
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    state = models.CharField(_("state"), max_length=8, choices=State.choices, default=State.QUEUED)
    done = models.PositiveIntegerField(_("rows done"), default=0)
    total = models.PositiveIntegerField(_("rows in all"), default=0)
    file = models.FileField(_("file"), upload_to="distributions/", blank=True)
    # Bumped by every request to make the file; a task that finds a newer one stops.
    generation = models.PositiveIntegerField(_("generation"), default=0)
    language = models.CharField(_("language"), max_length=10, blank=True)
    error = models.CharField(_("error"), max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("requested by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    class Meta:
        verbose_name = _("distribution document")
        verbose_name_plural = _("distribution documents")
        ordering = ["distribution_id", "kind"]
        constraints = [
            models.UniqueConstraint(
                fields=["distribution", "kind"], name="distdocument_distribution_kind_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.distribution_id} · {self.kind}"
