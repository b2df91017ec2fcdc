"""The two lists: special-care residents (people) and what they lack (needs).

A `SpecialCare` row is the one source of truth for a resident's special-care
details; `Resident.special_group` and `Resident.needs_door_delivery` are kept
in step with it by the services, because other apps (door delivery, labels)
read only those two flags. Every read of a record's details writes an
`AccessLog` row (see queries.py); every change is dated by HistoricalRecords,
which also lets the lists be exported as of any past date.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from baogong.core.models import BaseModel
from baogong.core.phones import mask_phone


class Category(models.TextChoices):
    ELDERLY_ALONE = "elderly_alone", _("elderly living alone")
    DISABLED = "disabled", _("disabled")
    PREGNANT = "pregnant", _("pregnant")
    CHRONIC_ILLNESS = "chronic_illness", _("chronic illness needing medicine")
    CHILD_IN_DIFFICULTY = "child_in_difficulty", _("child in difficulty")
    HARDSHIP = "hardship", _("low income or hardship")
    OTHER = "other", _("other")


class Mobility(models.TextChoices):
    INDEPENDENT = "independent", _("walks unaided")
    WITH_HELP = "with_help", _("walks with help")
    WHEELCHAIR = "wheelchair", _("wheelchair")
    BEDRIDDEN = "bedridden", _("bedridden")


class Hearing(models.TextChoices):
    NORMAL = "normal", _("hears well")
    HARD = "hard", _("hard of hearing: speak loudly and slowly")
    DEAF = "deaf", _("deaf: send a text or visit")


class SpecialCare(BaseModel):
    """One special-care resident: who they are, what helps, who phones them and when."""

    resident = models.OneToOneField(
        "areas.Resident",
        verbose_name=_("resident"),
        on_delete=models.CASCADE,
        related_name="special_care",
    )
    # Denormalised from resident.household so lists and counts filter without two joins.
    household = models.ForeignKey(
        "areas.Household",
        verbose_name=_("household"),
        on_delete=models.CASCADE,
        related_name="+",
        editable=False,
    )
    # A JSON list of Category values: several categories per person, portable to SQLite.
    categories = models.JSONField(_("categories"), default=list)
    mobility = models.CharField(
        _("mobility"), max_length=16, choices=Mobility.choices, default=Mobility.INDEPENDENT
    )
    medicines = models.CharField(_("medicine names"), max_length=200, blank=True)
    language = models.CharField(_("language or dialect"), max_length=50, blank=True)
    hearing = models.CharField(
        _("hearing"), max_length=8, choices=Hearing.choices, default=Hearing.NORMAL
    )
    emergency_name = models.CharField(_("emergency contact"), max_length=50, blank=True)
    emergency_phone = models.CharField(_("emergency contact phone"), max_length=24, blank=True)
    volunteers = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("assigned volunteers"),
        blank=True,
        related_name="special_care_assigned",
    )
    consent = models.BooleanField(_("consent given"), default=False)
    consent_date = models.DateField(_("consent date"), null=True, blank=True)
    review_date = models.DateField(_("review date"), null=True, blank=True)
    cadence_days = models.PositiveSmallIntegerField(_("call every (days)"), default=3)
    active = models.BooleanField(_("on the register"), default=True)
    notes = models.CharField(_("notes"), max_length=500, blank=True)
    # Kept by checkin_record so call lists are one indexed query, not a scan of calls.
    last_call_at = models.DateTimeField(_("last call"), null=True, blank=True)
    due_on = models.DateField(_("next call due"), db_index=True)
    missed_calls = models.PositiveSmallIntegerField(_("calls not reached in a row"), default=0)

    history = HistoricalRecords(excluded_fields=["updated_at"], m2m_fields=[volunteers])

    class Meta:
        verbose_name = _("special-care resident")
        verbose_name_plural = _("special-care residents")
        constraints = [
            models.CheckConstraint(
                condition=Q(cadence_days__gte=1), name="specialcare_cadence_positive"
            ),
        ]

    def __str__(self) -> str:
        return str(self.resident)

    @property
    def masked_emergency_phone(self) -> str:
        return mask_phone(self.emergency_phone)

    def category_labels(self) -> list[str]:
        labels = dict(Category.choices)
        return [str(labels.get(value, value)) for value in self.categories]


class CheckIn(BaseModel):
    """One check-in call: who called, whether they got through and how the person is."""

    class Outcome(models.TextChoices):
        REACHED = "reached", _("reached")
        NOT_REACHED = "not_reached", _("not reached")
        OTHER_ANSWERED = "other_answered", _("someone else answered")

    class Wellbeing(models.TextChoices):
        FINE = "fine", _("fine")
        NEEDS_HELP = "needs_help", _("needs help")
        URGENT = "urgent", _("urgent")

    care = models.ForeignKey(
        SpecialCare,
        verbose_name=_("special-care resident"),
        on_delete=models.CASCADE,
        related_name="checkins",
    )
    called_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("called by"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    called_at = models.DateTimeField(_("called at"))
    outcome = models.CharField(_("outcome"), max_length=16, choices=Outcome.choices)
    wellbeing = models.CharField(
        _("wellbeing"), max_length=12, choices=Wellbeing.choices, blank=True
    )
    note = models.CharField(_("note"), max_length=500, blank=True)

    history = HistoricalRecords(excluded_fields=["updated_at"])

    class Meta:
        verbose_name = _("check-in call")
        verbose_name_plural = _("check-in calls")
        ordering = ["-called_at", "-pk"]
        indexes = [
            # The record page lists a person's calls newest first; counts per day filter on it.
            models.Index(fields=["care", "-called_at"], name="checkin_care_called_idx"),
            models.Index(fields=["called_at"], name="checkin_called_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.care} · {self.get_outcome_display()}"


class NeedCategory(models.TextChoices):
    GRAIN = "grain", _("grain")
    OIL = "oil", _("oil")
    MEAT = "meat", _("meat")
    EGGS = "eggs", _("eggs")
    MILK = "milk", _("milk")
    VEGETABLES = "vegetables", _("vegetables")
    WATER = "water", _("water")
    MEDICINE = "medicine", _("medicine")
    MEDICAL_HELP = "medical_help", _("medical help")
    OTHER = "other", _("other")


class Need(BaseModel):
    """Something a special-care resident lacks, shown with its status until it is met."""

    class State(models.TextChoices):
        OPEN = "open", _("not handled yet")
        IN_HAND = "in_hand", _("being handled")
        MET = "met", _("met")
        CANCELLED = "cancelled", _("cancelled")

    class Action(models.TextChoices):
        PROXY_ORDER = "proxy_order", _("order on behalf")
        DOOR_DELIVERY = "door_delivery", _("door delivery")
        MEDICINE_PURCHASE = "medicine_purchase", _("medicine purchase")
        REQUISITION = "requisition", _("supply request")

    care = models.ForeignKey(
        SpecialCare,
        verbose_name=_("special-care resident"),
        on_delete=models.CASCADE,
        related_name="needs",
    )
    # Denormalised so the ledger counts per area with one filter on the building path.
    household = models.ForeignKey(
        "areas.Household",
        verbose_name=_("household"),
        on_delete=models.CASCADE,
        related_name="+",
        editable=False,
    )
    checkin = models.ForeignKey(
        CheckIn,
        verbose_name=_("check-in call"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="needs",
    )
    category = models.CharField(_("category"), max_length=16, choices=NeedCategory.choices)
    item = models.CharField(_("item"), max_length=100, blank=True)
    quantity = models.PositiveSmallIntegerField(_("quantity"), default=1)
    state = models.CharField(_("state"), max_length=12, choices=State.choices, default=State.OPEN)
    action = models.CharField(_("handled by"), max_length=20, choices=Action.choices, blank=True)
    handler = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("who handles it"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    order = models.ForeignKey(
        "orders.Order",
        verbose_name=_("order"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    requisition_line = models.ForeignKey(
        "requisitions.RequisitionLine",
        verbose_name=_("supply request line"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    met_at = models.DateTimeField(_("met at"), null=True, blank=True)

    history = HistoricalRecords(excluded_fields=["updated_at"])

    class Meta:
        verbose_name = _("need")
        verbose_name_plural = _("needs")
        ordering = ["created_at", "pk"]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gte=1), name="need_quantity_positive"),
        ]
        indexes = [
            # The ledger: open needs of an area by category.
            models.Index(fields=["state", "category"], name="need_state_category_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_category_display()} {self.item} ×{self.quantity}"

    @property
    def is_open(self) -> bool:
        return self.state in (self.State.OPEN, self.State.IN_HAND)


class Task(BaseModel):
    """Work for a volunteer that came out of a call: visit, deliver, buy medicine."""

    class Kind(models.TextChoices):
        HOME_VISIT = "home_visit", _("home visit")
        DOOR_DELIVERY = "door_delivery", _("door delivery")
        MEDICINE_PURCHASE = "medicine_purchase", _("medicine purchase")

    class State(models.TextChoices):
        OPEN = "open", _("to do")
        DONE = "done", _("done")
        CANCELLED = "cancelled", _("cancelled")

    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    care = models.ForeignKey(
        SpecialCare,
        verbose_name=_("special-care resident"),
        on_delete=models.CASCADE,
        related_name="tasks",
    )
    need = models.ForeignKey(
        Need,
        verbose_name=_("need"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="tasks",
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("assigned to"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="welfare_tasks",
    )
    due = models.DateField(_("due"))
    state = models.CharField(_("state"), max_length=12, choices=State.choices, default=State.OPEN)
    done_at = models.DateTimeField(_("done at"), null=True, blank=True)
    note = models.CharField(_("note"), max_length=200, blank=True)

    history = HistoricalRecords(excluded_fields=["updated_at"])

    class Meta:
        verbose_name = _("task")
        verbose_name_plural = _("tasks")
        ordering = ["due", "pk"]
        constraints = [
            # A retried escalation or button press must not make a second open task of a kind.
            # NULLs are distinct in a unique index, so tasks without a need get their own.
            models.UniqueConstraint(
                fields=["care", "kind", "need"],
                condition=Q(state="open", need__isnull=False),
                name="task_one_open_per_need",
            ),
            models.UniqueConstraint(
                fields=["care", "kind"],
                condition=Q(state="open", need__isnull=True),
                name="task_one_open_per_kind",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} · {self.care}"


class AccessLog(models.Model):
    """One read of a special-care record's details: who, when, which record, which view."""

    care = models.ForeignKey(
        SpecialCare,
        verbose_name=_("special-care resident"),
        on_delete=models.CASCADE,
        related_name="access_log",
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("who"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    view = models.CharField(_("what was viewed"), max_length=32)
    at = models.DateTimeField(_("when"), auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("access log entry")
        verbose_name_plural = _("access log")
        ordering = ["-at", "-pk"]
        indexes = [models.Index(fields=["care", "-at"], name="accesslog_care_at_idx")]

    def __str__(self) -> str:
        return f"{self.view} · {self.at:%Y-%m-%d %H:%M}"
