"""Door delivery pages: the volunteer's phone list, and the liaison's tasks per delivery.

A task is reached by its volunteer (through their linked account) or by whoever runs
the compound's delivery (liaison and staff above); anyone else gets 404. The volunteer's
page says "door delivery" and nothing about why: special-needs details stay in welfare.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from baogong.accounts.scoping import scope_for
from baogong.core.errors import Conflict, InvalidInput, NotAllowed, NotFound
from baogong.core.http import domain_errors
from baogong.core.phones import mask_phone
from baogong.lastmile import doors
from baogong.lastmile.models import DoorTask, Volunteer
from baogong.lastmile.queries import RUN_ROLES, deliveries_for, delivery_for


class PhotoForm(forms.Form):
    photo = forms.ImageField(label=gettext_lazy("Photo of the bag at the door"))


def _task_for(request: HttpRequest, pk: int) -> DoorTask:
    """The task if it is the user's own, or in a delivery they run; else NotFound."""
    runs = deliveries_for(scope_for(request.user), RUN_ROLES)
    try:
        return (
            DoorTask.objects.select_related("bag__delivery", "volunteer")
            .filter(Q(volunteer__user=request.user) | Q(bag__delivery__in=runs))
            .get(pk=pk)
        )
    except (DoorTask.DoesNotExist, ValueError):
        raise NotFound() from None


def _back(request: HttpRequest, task: DoorTask) -> HttpResponse:
    if task.volunteer is not None and task.volunteer.user_id == request.user.pk:
        return redirect("lastmile:my_door_tasks")
    return redirect("lastmile:door_tasks", task.bag.delivery_id)


@require_GET
@login_required
def my_door_tasks(request: HttpRequest) -> HttpResponse:
    """The volunteer's open tasks in walking order, each with code and photo actions."""
    scope = scope_for(request.user)
    rows = []
    for task in doors.my_open_tasks(request.user):
        household = task.bag.household
        household.building = task.bag.building
        full = scope.sees_full_phone(household)
        rows.append(
            {
                "task": task,
                "floor": doors.walking_key(task.bag)[2] or None,
                "phone": household.phone if full else mask_phone(household.phone),
                "full_phone": full and bool(household.phone),
            }
        )
    return render(
        request,
        "lastmile/door_my_tasks.html",
        {
            "rows": rows,
            "registered": Volunteer.objects.filter(user=request.user, active=True).exists(),
            "photo_form": PhotoForm(),
        },
    )


@require_POST
@login_required
@domain_errors
def door_task_deliver(request: HttpRequest, pk: int) -> HttpResponse:
    """Delivered with the household's code, or left at the door with a photo (required)."""
    task = _task_for(request, pk)
    code = request.POST.get("code", "")
    photo = None
    if not code.strip():
        form = PhotoForm(request.POST, request.FILES)
        if not form.is_valid():
            messages.error(
                request,
                _(
                    "Enter the household's pickup code, "
                    "or take a photo of the bag left at the door."
                ),
            )
            if "photo" in request.FILES:
                messages.error(request, " ".join(form.errors.get("photo", [])))
            return _back(request, task)
        photo = form.cleaned_data["photo"]
    try:
        doors.door_task_deliver(task=task, by=request.user, code=code, photo=photo)
    except (InvalidInput, Conflict) as refusal:
        messages.error(request, refusal.message)
    else:
        messages.success(
            request,
            _("%(address)s: delivered.") % {"address": task.bag.household.address},
        )
    return _back(request, task)


@require_POST
@login_required
@domain_errors
def door_task_problem(request: HttpRequest, pk: int) -> HttpResponse:
    task = _task_for(request, pk)
    try:
        doors.door_task_problem(task=task, by=request.user, problem=request.POST.get("problem", ""))
    except (InvalidInput, Conflict) as refusal:
        messages.error(request, refusal.message)
    else:
        messages.success(request, _("Problem reported to the liaison."))
    return _back(request, task)


@require_GET
@login_required
@domain_errors
def door_tasks(request: HttpRequest, pk: int) -> HttpResponse:
    """The liaison's view of a delivery's door tasks: who carries what, state, reassign."""
    delivery = delivery_for(request.user, pk, RUN_ROLES)
    tasks = doors.delivery_tasks(delivery)
    return render(
        request,
        "lastmile/door_tasks.html",
        {
            "delivery": delivery,
            "tasks": tasks,
            "volunteers": Volunteer.objects.filter(compound=delivery.compound_id, active=True)
            .select_related("building")
            .order_by("building__name", "name"),
            "open": sum(1 for t in tasks if t.state == DoorTask.State.OPEN),
            "unassigned": sum(1 for t in tasks if t.volunteer_id is None),
        },
    )


@require_POST
@login_required
@domain_errors
def door_tasks_assign(request: HttpRequest, pk: int) -> HttpResponse:
    delivery = delivery_for(request.user, pk, RUN_ROLES)
    count = doors.door_tasks_assign(delivery=delivery, by=request.user)
    if count:
        messages.success(request, _("%(count)s door tasks assigned.") % {"count": count})
    else:
        messages.info(request, _("No door task was waiting for a volunteer."))
    return redirect("lastmile:door_tasks", delivery.pk)


@require_POST
@login_required
@domain_errors
def door_task_reassign(request: HttpRequest, pk: int) -> HttpResponse:
    task = _task_for(request, pk)
    if (
        not deliveries_for(scope_for(request.user), RUN_ROLES)
        .filter(pk=task.bag.delivery_id)
        .exists()
    ):
        raise NotAllowed()  # a volunteer cannot hand their own task to someone else
    try:
        volunteer = Volunteer.objects.get(
            pk=int(request.POST.get("volunteer") or 0), compound=task.bag.delivery.compound_id
        )
    except (Volunteer.DoesNotExist, ValueError):
        messages.error(request, _("Volunteer: choose an active volunteer of this compound."))
        return redirect("lastmile:door_tasks", task.bag.delivery_id)
    try:
        doors.door_task_reassign(task=task, volunteer=volunteer, by=request.user)
    except (InvalidInput, Conflict) as refusal:
        messages.error(request, refusal.message)
    else:
        messages.success(request, _("Task given to %(name)s.") % {"name": volunteer.name})
    return redirect("lastmile:door_tasks", task.bag.delivery_id)


urlpatterns = [
    path("door-tasks/", my_door_tasks, name="my_door_tasks"),
    path("door-tasks/<int:pk>/deliver/", door_task_deliver, name="door_task_deliver"),
    path("door-tasks/<int:pk>/problem/", door_task_problem, name="door_task_problem"),
    path("door-tasks/<int:pk>/reassign/", door_task_reassign, name="door_task_reassign"),
    path("deliveries/<int:pk>/door-tasks/", door_tasks, name="door_tasks"),
    path("deliveries/<int:pk>/door-tasks/assign/", door_tasks_assign, name="door_tasks_assign"),
]
