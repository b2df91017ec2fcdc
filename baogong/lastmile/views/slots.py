"""Pickup slots and the calling screen: the liaison's pages for staggered pickup.

Only people who run the compound's delivery reach them (liaison, community, street,
district: `queries.RUN_ROLES`); building volunteers verify pickups on the handover page.
"""

from __future__ import annotations

import datetime as dt

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from baogong.accounts.scoping import scope_for
from baogong.areas.models import Gate
from baogong.core.errors import DomainError, NotFound
from baogong.core.http import domain_errors
from baogong.core.phones import mask_phone
from baogong.lastmile import slots as services
from baogong.lastmile.models import Bag, Delivery, PickupSlot
from baogong.lastmile.queries import RUN_ROLES, delivery_for

DATETIME_WIDGET = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")


class ProposeForm(forms.Form):
    max_waiting = forms.IntegerField(
        label=gettext_lazy("People waiting at once"),
        min_value=1,
        max_value=500,
        help_text=gettext_lazy(
            "At most this many people wait at the pick-up point, so everyone can keep 2 m "
            "apart. A pick-up point with a smaller counted capacity lowers it."
        ),
    )
    minutes_per_household = forms.IntegerField(
        label=gettext_lazy("Minutes per household"),
        min_value=1,
        max_value=60,
        help_text=gettext_lazy("How long one household takes to show its code and take its bag."),
    )
    pickup_point = forms.ModelChoiceField(
        label=gettext_lazy("Pick-up point"),
        queryset=Gate.objects.none(),
        required=False,
        empty_label=gettext_lazy("the compound gate"),
        help_text=gettext_lazy("Buildings with a pick-up point of their own use that one."),
    )
    start_at = forms.DateTimeField(
        label=gettext_lazy("First slot starts at"), widget=DATETIME_WIDGET
    )

    def __init__(self, *args, delivery: Delivery, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["pickup_point"].queryset = Gate.objects.filter(
            compound_id=delivery.compound_id, building__isnull=True
        ).exclude(kind=Gate.Kind.STORAGE)


class SlotEditForm(forms.Form):
    starts_at = forms.DateTimeField(label=gettext_lazy("Starts at"), widget=DATETIME_WIDGET)
    ends_at = forms.DateTimeField(label=gettext_lazy("Ends at"), widget=DATETIME_WIDGET)
    later_follow = forms.BooleanField(
        label=gettext_lazy("Later slots move by the same amount"),
        required=False,
        initial=True,
    )


def _delivery(request: HttpRequest, pk: int) -> Delivery:
    return delivery_for(request.user, pk, RUN_ROLES)


def _slot(request: HttpRequest, pk: int) -> PickupSlot:
    slot = PickupSlot.objects.select_related("building").filter(pk=pk).first()
    if slot is None:
        raise NotFound()
    slot.delivery = _delivery(request, slot.delivery_id)
    return slot


def _slot_rows(delivery: Delivery) -> list[dict]:
    slots = list(delivery.slots.select_related("building").order_by("position", "pk"))
    places = services.places_of(delivery, [s.building_id for s in slots])
    return [
        {
            "slot": s,
            "window": services.window_text(s.starts_at, s.ends_at),
            "place": services.place_name(places[s.building_id]),
            "first": i == 0,
            "last": i == len(slots) - 1,
            "movable": s.state == PickupSlot.State.PLANNED,
        }
        for i, s in enumerate(slots)
    ]


def _next_start(delivery: Delivery) -> dt.datetime:
    first = delivery.slots.order_by("position").first()
    if first is not None:
        return first.starts_at
    # The next full hour: time to tell households before the first building comes down.
    now = timezone.localtime()
    return (now + dt.timedelta(hours=1)).replace(minute=0, second=0, microsecond=0)


@require_http_methods(["GET", "POST"])
@login_required
@domain_errors
def slots_page(request: HttpRequest, pk: int) -> HttpResponse:
    """The slots of one delivery: spacing rule, proposal, reorder, shift, tell households."""
    delivery = _delivery(request, pk)
    initial = {
        "max_waiting": delivery.max_waiting,
        "minutes_per_household": delivery.minutes_per_household,
        "pickup_point": delivery.pickup_point_id,
        "start_at": timezone.localtime(_next_start(delivery)),
    }
    form = ProposeForm(request.POST or None, delivery=delivery, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.pickup_settings_update(
                delivery=delivery,
                max_waiting=data["max_waiting"],
                minutes_per_household=data["minutes_per_household"],
                pickup_point=data["pickup_point"],
                by=request.user,
            )
            slots = services.slots_propose(
                delivery=delivery, start_at=data["start_at"], by=request.user
            )
        except DomainError as error:
            form.add_error(None, error.message)
        else:
            messages.success(
                request,
                ngettext("%(n)d slot proposed.", "%(n)d slots proposed.", len(slots))
                % {"n": len(slots)},
            )
            return redirect("lastmile:slots", pk=delivery.pk)
    counts = services.households_by_building(delivery)
    slotted = set(delivery.slots.values_list("building_id", flat=True))
    return render(
        request,
        "lastmile/slots.html",
        {
            "delivery": delivery,
            "form": form,
            "rows": _slot_rows(delivery),
            "unslotted": sum(n for b, n in counts.items() if b not in slotted),
            "door": Bag.objects.filter(delivery=delivery, door_delivery=True)
            .exclude(state=Bag.State.VOID)
            .count(),
            "untold": delivery.slots.filter(notified_at__isnull=True)
            .exclude(state=PickupSlot.State.DONE)
            .count(),
            "closed": delivery.state == Delivery.State.DONE,
        },
    )


@require_POST
@login_required
@domain_errors
def slot_move(request: HttpRequest, pk: int) -> HttpResponse:
    """Move a planned slot one place up or down (buttons, so the keyboard works)."""
    slot = _slot(request, pk)
    try:
        expect = int(request.POST.get("position", ""))
    except ValueError:
        expect = None
    try:
        services.slot_move(
            slot=slot,
            direction=request.POST.get("direction", ""),
            by=request.user,
            expect_position=expect,
        )
    except DomainError as error:
        messages.error(request, error.message)
    return redirect(f"{_slots_url(slot.delivery_id)}#slot-{slot.pk}")


def _slots_url(delivery_id: int) -> str:
    return reverse("lastmile:slots", kwargs={"pk": delivery_id})


@require_http_methods(["GET", "POST"])
@login_required
@domain_errors
def slot_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """Change one slot's window; later slots follow unless the liaison says otherwise."""
    slot = _slot(request, pk)
    initial = {
        "starts_at": timezone.localtime(slot.starts_at),
        "ends_at": timezone.localtime(slot.ends_at),
        "later_follow": True,
    }
    form = SlotEditForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            changed = services.slot_reschedule(
                slot=slot,
                starts_at=data["starts_at"],
                ends_at=data["ends_at"],
                later_follow=data["later_follow"],
                by=request.user,
            )
        except DomainError as error:
            form.add_error(None, error.message)
        else:
            messages.success(
                request,
                ngettext(
                    "%(n)d slot changed. Tell the households again so they know.",
                    "%(n)d slots changed. Tell the households again so they know.",
                    len(changed),
                )
                % {"n": len(changed)}
                if changed
                else _("Nothing changed."),
            )
            return redirect(f"{_slots_url(slot.delivery_id)}#slot-{slot.pk}")
    return render(
        request,
        "lastmile/slots_edit.html",
        {"slot": slot, "delivery": slot.delivery, "form": form},
    )


@require_POST
@login_required
@domain_errors
def slots_notify(request: HttpRequest, pk: int) -> HttpResponse:
    """Tell households their slot (only those not yet told of their current window)."""
    delivery = _delivery(request, pk)
    try:
        result = services.slots_notify(delivery=delivery, by=request.user)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(
            request,
            _(
                "Told %(told)d households their slot, %(changed)d that their slot changed, "
                "%(door)d that their bag comes to the door."
            )
            % {"told": result.told, "changed": result.changed, "door": result.door},
        )
    return redirect("lastmile:slots", pk=delivery.pk)


# --- the calling screen --------------------------------------------------------------


def _calling_context(request: HttpRequest, delivery: Delivery) -> dict:
    slots = list(delivery.slots.select_related("building").order_by("position", "pk"))
    current = next((s for s in slots if s.pk == delivery.current_slot_id), None)
    following = next((s for s in slots if s.state == PickupSlot.State.PLANNED), None)
    rows, collected = [], 0
    if current is not None:
        scope = scope_for(request.user)
        bags = (
            services.slot_bags(delivery)
            .filter(building_id=current.building_id)
            .select_related("household", "household__building")
        )
        for bag in sorted(
            bags, key=lambda b: (b.household.unit, b.household.floor or 0, b.household.room)
        ):
            done = bag.state in (Bag.State.COLLECTED, Bag.State.DELIVERED)
            collected += done
            phone = bag.household.phone
            rows.append(
                {
                    "bag": bag,
                    "done": done,
                    "phone": mask_phone(phone),
                    "tel": phone if phone and scope.sees_full_phone(bag.household) else "",
                }
            )
    return {
        "delivery": delivery,
        "current": current,
        "current_window": current and services.window_text(current.starts_at, current.ends_at),
        "following": following,
        "rows": rows,
        "collected": collected,
        "waiting": len(rows) - collected,
        "done_slots": sum(s.state == PickupSlot.State.DONE for s in slots),
        "total_slots": len(slots),
        "can_call": delivery.state == Delivery.State.PICKUP,
    }


@require_GET
@login_required
@domain_errors
def calling(request: HttpRequest, pk: int) -> HttpResponse:
    """The building being called: who has collected, who not, and the call-next button."""
    delivery = _delivery(request, pk)
    context = _calling_context(request, delivery)
    return render(request, "lastmile/calling.html", context)


@require_GET
@login_required
@domain_errors
def calling_status(request: HttpRequest, pk: int) -> HttpResponse:
    """The counts and list of the calling screen, polled by htmx every 10 seconds."""
    delivery = _delivery(request, pk)
    return render(request, "lastmile/calling_status.html", _calling_context(request, delivery))


@require_POST
@login_required
@domain_errors
def call_next(request: HttpRequest, pk: int) -> HttpResponse:
    """Finish the building being called and call the next (or close the pickup after the last)."""
    delivery = _delivery(request, pk)
    seen = request.POST.get("seen", services.ANY_SLOT)
    if seen is not services.ANY_SLOT:
        seen = int(seen) if str(seen).isdigit() else None
    try:
        slot = services.slot_call_next(delivery=delivery, by=request.user, seen_slot_id=seen)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        if slot is None:
            messages.success(
                request, _("Pickup closed. Bags not collected are on the follow-up list.")
            )
        else:
            messages.success(
                request,
                _("%(building)s is called; its households were told to come down now.")
                % {"building": slot.building.name},
            )
    return redirect("lastmile:calling", pk=delivery.pk)


urlpatterns = [
    path("deliveries/<int:pk>/slots/", slots_page, name="slots"),
    path("deliveries/<int:pk>/slots/notify/", slots_notify, name="slots_notify"),
    path("slots/<int:pk>/move/", slot_move, name="slot_move"),
    path("slots/<int:pk>/edit/", slot_edit, name="slot_edit"),
    path("deliveries/<int:pk>/calling/", calling, name="calling"),
    path("deliveries/<int:pk>/calling/status/", calling_status, name="calling_status"),
    path("deliveries/<int:pk>/calling/next/", call_next, name="call_next"),
]
