"""Every write to the two lists: register a person, record a call, turn a need into work.

Each service owns its transaction, checks the acting user (`by=`) against the
rule in queries.py and sets the history user and reason. Notifications go to
notify's outbox inside the same transaction, so a rolled-back call alerts nobody.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from baogong.accounts.scoping import scope_for
from baogong.areas.models import Resident
from baogong.core.errors import Conflict, InvalidInput, NotAllowed
from baogong.core.phones import PhoneError, normalize_phone
from baogong.notify import services as notify_services
from baogong.welfare import queries
from baogong.welfare.models import Category, CheckIn, Need, NeedCategory, SpecialCare, Task

if TYPE_CHECKING:
    from baogong.accounts.models import User
    from baogong.orders.models import Order, Round

HOME_VISIT_AFTER_MISSES = 2


@dataclass
class CareDetails:
    """What the register holds about one special-care resident (form, import and demo alike)."""

    categories: list[str]
    mobility: str = "independent"
    medicines: str = ""
    language: str = ""
    hearing: str = "normal"
    emergency_name: str = ""
    emergency_phone: str = ""
    consent: bool = False
    consent_date: dt.date | None = None
    review_date: dt.date | None = None
    cadence_days: int = 3
    needs_door_delivery: bool = False
    notes: str = ""
    volunteer_ids: list[int] | None = None  # None leaves the assignment as it is


@dataclass
class NeedLine:
    category: str
    item: str = ""
    quantity: int = 1


def _check_staff(by: User | None, care_or_resident) -> None:
    if by is None:
        return  # the system itself: demo loader, imports run by a checked caller
    building = care_or_resident.household.building
    scope = scope_for(by)
    if not (
        scope.superuser
        or any(building.path.startswith(p) for p in scope.paths_for(queries.DETAIL_ROLES))
    ):
        raise NotAllowed()


def _check_reader(by: User | None, care: SpecialCare) -> None:
    if by is not None and not queries.may_read(scope_for(by), care):
        raise NotAllowed()


def _clean(details: CareDetails) -> CareDetails:
    categories = list(dict.fromkeys(details.categories))
    if not categories:
        raise InvalidInput(_("Choose at least one category."))
    unknown = [c for c in categories if c not in Category.values]
    if unknown:
        raise InvalidInput(_("Unknown category: %(value)s"), value=", ".join(unknown))
    if details.cadence_days < 1 or details.cadence_days > 30:
        raise InvalidInput(_("Call every 1 to 30 days."))
    phone = details.emergency_phone.strip()
    if phone:
        try:
            phone = normalize_phone(phone)
        except PhoneError:
            raise InvalidInput(_("The emergency contact phone is not a phone number.")) from None
    if details.consent and details.consent_date is None:
        raise InvalidInput(_("Give the date consent was given."))
    details.categories, details.emergency_phone = categories, phone
    return details


@transaction.atomic
def care_save(
    *, resident: Resident, details: CareDetails, by: User | None, reason: str = ""
) -> SpecialCare:
    """Put a resident on the special-care register or update their record (idempotent).

    Keeps Resident.special_group and needs_door_delivery in step with the record.
    Raises NotAllowed unless `by` is community staff over the resident; InvalidInput.
    """
    _check_staff(by, resident)
    details = _clean(details)
    # Lock the resident: two staff saving the same person at once must not make two records.
    resident = (
        Resident.objects.select_for_update()
        .select_related("household__building")
        .get(pk=resident.pk)
    )
    care = SpecialCare.objects.filter(resident=resident).first()
    today = timezone.localdate()
    if care is None:
        care = SpecialCare(resident=resident, household=resident.household, due_on=today)
    elif not care.active:
        care.active, care.due_on, care.missed_calls = True, today, 0
    for name in (
        "categories",
        "mobility",
        "medicines",
        "language",
        "hearing",
        "emergency_name",
        "emergency_phone",
        "consent",
        "consent_date",
        "review_date",
        "cadence_days",
        "notes",
    ):
        setattr(care, name, getattr(details, name))
    care._history_user = by
    care._change_reason = reason or "register"
    care.save()
    if details.volunteer_ids is not None:
        allowed = set(
            queries.volunteers_near(resident.household.compound.parent).values_list("pk", flat=True)
        )
        wrong = set(details.volunteer_ids) - allowed
        if wrong:
            raise InvalidInput(_("Only volunteers of this community can be assigned."))
        care.volunteers.set(sorted(details.volunteer_ids))
    if (resident.special_group, resident.needs_door_delivery) != (
        True,
        details.needs_door_delivery,
    ):
        resident.special_group, resident.needs_door_delivery = True, details.needs_door_delivery
        resident._history_user = by
        resident._change_reason = "special-care register"
        resident.save(update_fields=["special_group", "needs_door_delivery", "updated_at"])
    return care


@transaction.atomic
def care_remove(*, care: SpecialCare, by: User | None) -> SpecialCare:
    """Take a resident off the register (history keeps the record); open tasks are cancelled."""
    _check_staff(by, care)
    care = SpecialCare.objects.select_for_update().get(pk=care.pk)
    care.active = False
    care._history_user, care._change_reason = by, "removed from register"
    care.save()
    for task in Task.objects.filter(care=care, state=Task.State.OPEN):
        _task_set(task, Task.State.CANCELLED, by=by, reason="removed from register")
    resident = care.resident
    resident.special_group = False
    resident._history_user, resident._change_reason = by, "special-care register"
    resident.save(update_fields=["special_group", "updated_at"])
    return care


# --- calls ------------------------------------------------------------------------------


@dataclass
class CallResult:
    checkin: CheckIn
    needs: list[Need] = field(default_factory=list)
    home_visit: Task | None = None
    urgent: bool = False


@transaction.atomic
def checkin_record(
    *,
    care: SpecialCare,
    outcome: str,
    wellbeing: str = "",
    note: str = "",
    needs: Sequence[NeedLine] = (),
    by: User | None,
    now: dt.datetime | None = None,
) -> CallResult:
    """Record a check-in call, its needs, and escalate.

    Not reached twice in a row makes a home-visit task for the assigned volunteers;
    "urgent" tells the community staff at once (in-app and SMS). Raises NotAllowed
    unless `by` may read the record; InvalidInput for a bad outcome or need line.
    """
    _check_reader(by, care)
    if outcome not in CheckIn.Outcome.values:
        raise InvalidInput(_("Choose how the call went."))
    reached = outcome != CheckIn.Outcome.NOT_REACHED
    if reached and wellbeing not in CheckIn.Wellbeing.values:
        raise InvalidInput(_("Say how the person is."))
    wellbeing = wellbeing if reached else ""
    for line in needs:
        if line.category not in NeedCategory.values or not 1 <= line.quantity <= 999:
            raise InvalidInput(_("A need needs a category and a quantity from 1 to 999."))
    now = now or timezone.now()
    # Lock the record: two people calling the same person must not both miss the
    # second "not reached" (missed_calls is a read-modify-write).
    care = (
        SpecialCare.objects.select_for_update()
        .select_related("resident", "household__building")
        .get(pk=care.pk)
    )
    checkin = CheckIn.objects.create(
        care=care,
        called_by=by,
        called_at=now,
        outcome=outcome,
        wellbeing=wellbeing,
        note=note[:500],
    )
    result = CallResult(checkin=checkin)
    for line in needs:
        need = Need(
            care=care,
            household_id=care.household_id,
            checkin=checkin,
            category=line.category,
            item=line.item[:100],
            quantity=line.quantity,
        )
        need._history_user, need._change_reason = by, "check-in call"
        need.save()
        result.needs.append(need)
    today = timezone.localdate(now)
    care.last_call_at = now
    care.missed_calls = 0 if reached else care.missed_calls + 1
    # Someone not reached is tried again tomorrow, not in three days.
    care.due_on = today + dt.timedelta(days=care.cadence_days if reached else 1)
    care._history_user, care._change_reason = by, "check-in call"
    care.save()
    if care.missed_calls >= HOME_VISIT_AFTER_MISSES:
        result.home_visit = _home_visit(care, today=today, by=by)
    if wellbeing == CheckIn.Wellbeing.URGENT:
        result.urgent = True
        staff = queries.community_staff_ids(care)
        _alert(
            "welfare_urgent", user_ids=staff, care=care, dedupe_key=f"welfare_urgent:{checkin.pk}"
        )
    return result


def _home_visit(care: SpecialCare, *, today: dt.date, by: User | None) -> Task:
    task = Task.objects.filter(
        care=care, kind=Task.Kind.HOME_VISIT, need=None, state=Task.State.OPEN
    ).first()
    if task is not None:
        return task
    assignee = care.volunteers.order_by("pk").first()
    task = Task(
        kind=Task.Kind.HOME_VISIT,
        care=care,
        assignee=assignee,
        due=today,
        note=_("Not reached twice in a row"),
    )
    task._history_user, task._change_reason = by, "not reached twice"
    task.save()
    recipients = sorted(
        {*care.volunteers.values_list("pk", flat=True), *queries.community_staff_ids(care)}
    )
    _alert(
        "welfare_home_visit",
        user_ids=recipients,
        care=care,
        dedupe_key=f"welfare_home_visit:{task.pk}",
    )
    return task


def _alert(kind: str, *, user_ids: list[int], care: SpecialCare, dedupe_key: str) -> None:
    """Tell people (in-app, and SMS for urgent calls); only the address goes out, no name."""
    notify_services.send(
        kind,
        users=user_ids,
        context={"address": care.household.address},
        dedupe_key=dedupe_key,
        link=f"/welfare/care/{care.pk}/",
    )


# --- needs become work ----------------------------------------------------------------------


def _lock_need(need: Need, *, states: tuple[str, ...] = (Need.State.OPEN,)) -> Need:
    # Lock the need: two people pressing "order" and "deliver" at once must not both act.
    need = (
        Need.objects.select_for_update().select_related("care__household__building").get(pk=need.pk)
    )
    if need.state not in states:
        raise Conflict(_("This need is already %(state)s."), state=need.get_state_display())
    return need


def _need_set(need: Need, *, state: str, by: User | None, reason: str, **changes) -> Need:
    need.state = state
    for name, value in changes.items():
        setattr(need, name, value)
    if state == Need.State.MET:
        need.met_at = timezone.now()
    need._history_user, need._change_reason = by, reason
    need.save()
    return need


@transaction.atomic
def need_task(
    *,
    need: Need,
    kind: str,
    by: User | None,
    assignee_id: int | None = None,
    due: dt.date | None = None,
) -> Task:
    """Turn a need into a door-delivery or medicine-purchase task for a volunteer."""
    if kind not in (Task.Kind.DOOR_DELIVERY, Task.Kind.MEDICINE_PURCHASE):
        raise InvalidInput()
    _check_reader(by, need.care)
    need = _lock_need(need)
    care = need.care
    volunteers = list(care.volunteers.values_list("pk", flat=True))
    if assignee_id is None:
        assignee_id = (
            by.pk
            if by is not None and by.pk in volunteers
            else (volunteers[0] if volunteers else None)
        )
    elif assignee_id not in volunteers:
        raise InvalidInput(_("Assign the task to one of the resident's volunteers."))
    task = Task(
        kind=kind, care=care, need=need, assignee_id=assignee_id, due=due or timezone.localdate()
    )
    task._history_user, task._change_reason = by, "need"
    task.save()
    _need_set(
        need,
        state=Need.State.IN_HAND,
        by=by,
        reason=f"task {kind}",
        action=kind,
        handler_id=assignee_id,
    )
    return task


@transaction.atomic
def need_order(*, need: Need, round_: Round, lines: Mapping[int, int], by: User) -> Order:
    """Place an order on behalf of the resident in an open round and link it to the need.

    order_place checks the round (open, serves the compound, cadence, stock) and
    that `by` may order for the household; any refusal leaves the need as it was.
    """
    from baogong.orders.models import Order
    from baogong.orders.services import order_place

    _check_reader(by, need.care)
    need = _lock_need(need)
    order = order_place(
        round_=round_,
        household=need.care.household,
        lines=lines,
        channel=Order.Channel.PROXY,
        by=by,
        note=str(_("special-care need")),
    )
    _need_set(
        need,
        state=Need.State.IN_HAND,
        by=by,
        reason="proxy order",
        action=Need.Action.PROXY_ORDER,
        handler=by,
        order=order,
    )
    return order


@transaction.atomic
def need_requisition(*, need: Need, by: User | None) -> Need:
    """Put the need on a new draft supply request of its community (community staff).

    The request goes up for approval from the requisitions pages; the need stays
    "being handled" until someone marks it met.
    """
    from baogong.requisitions.models import Urgency
    from baogong.requisitions.services import LineSpec, requisition_create

    _check_staff(by, need.care)
    need = _lock_need(need)
    item = need.item or need.get_category_display()
    requisition = requisition_create(
        community=need.care.household.compound.parent,
        lines=[
            LineSpec(
                item=str(item),
                quantity=need.quantity,
                unit=str(_("portion")),
                reason=str(_("special-care need")),
                urgency=Urgency.URGENT
                if need.category in (NeedCategory.MEDICINE, NeedCategory.MEDICAL_HELP)
                else Urgency.NORMAL,
                needs_note=f"welfare need {need.pk}",
            )
        ],
        note=str(_("From the special-care needs list")),
        by=by,
    )
    return _need_set(
        need,
        state=Need.State.IN_HAND,
        by=by,
        reason="supply request",
        action=Need.Action.REQUISITION,
        handler=by,
        requisition_line=requisition.lines.get(),
    )


@transaction.atomic
def need_close(*, need: Need, state: str, by: User | None) -> Need:
    """Mark a need met or cancelled; its open tasks end with it."""
    if state not in (Need.State.MET, Need.State.CANCELLED):
        raise InvalidInput()
    _check_reader(by, need.care)
    need = _lock_need(need, states=(Need.State.OPEN, Need.State.IN_HAND))
    for task in Task.objects.filter(need=need, state=Task.State.OPEN):
        _task_set(
            task,
            Task.State.DONE if state == Need.State.MET else Task.State.CANCELLED,
            by=by,
            reason=f"need {state}",
        )
    return _need_set(need, state=state, by=by, reason=f"need {state}")


def _task_set(task: Task, state: str, *, by: User | None, reason: str) -> None:
    task.state = state
    task.done_at = timezone.now() if state == Task.State.DONE else None
    task._history_user, task._change_reason = by, reason
    task.save()


@transaction.atomic
def task_done(*, task: Task, by: User | None) -> Task:
    """Mark a task done; the need behind it is met when no other task for it is open."""
    task = (
        Task.objects.select_for_update().select_related("care__household__building").get(pk=task.pk)
    )
    if by is not None and task.assignee_id != by.pk:
        _check_staff(by, task.care)
    if task.state != Task.State.OPEN:
        raise Conflict(_("This task is already %(state)s."), state=task.get_state_display())
    _task_set(task, Task.State.DONE, by=by, reason="done")
    if (
        task.need_id
        and not Task.objects.filter(need_id=task.need_id, state=Task.State.OPEN).exists()
    ):
        need = Need.objects.select_for_update().get(pk=task.need_id)
        if need.is_open:
            _need_set(need, state=Need.State.MET, by=by, reason="task done")
    return task


def needs_follow_round(*, round_id: int, action: str) -> int:
    """Needs ordered in a round are met when it is delivered and reopen when it is cancelled.

    Connected to orders' round_transitioned signal (apps.py); returns how many changed.
    """
    if action not in ("deliver", "cancel"):
        return 0
    with transaction.atomic():
        needs = list(
            Need.objects.select_for_update()
            .filter(order__round_id=round_id, state=Need.State.IN_HAND)
            .order_by("pk")
        )
        for need in needs:
            if action == "deliver":
                _need_set(need, state=Need.State.MET, by=None, reason="round delivered")
            else:
                _need_set(
                    need,
                    state=Need.State.OPEN,
                    by=None,
                    reason="round cancelled",
                    action="",
                    order=None,
                    handler=None,
                )
    return len(needs)
