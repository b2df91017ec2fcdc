"""Pages of the volunteer register, coverage per building, duty shifts and work passes.

Staff who keep the register (community, street, district) and the compound's liaison
manage volunteers and shifts; street and community staff issue and revoke work passes.
The pass's verification page is public: it shows validity, a masked name, the team and
the valid-to date, never a phone.
"""

from __future__ import annotations

import datetime as dt

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from baogong.accounts.scoping import scope_for
from baogong.areas.models import Area
from baogong.core.errors import Conflict, DomainError, InvalidInput, NotFound
from baogong.core.http import domain_errors
from baogong.lastmile import volunteers as register
from baogong.lastmile import workpasses
from baogong.lastmile.handover import mask_name
from baogong.lastmile.models import Shift, Volunteer, WorkPass
from baogong.lastmile.volunteers import PASS_ROLES, STAFF_ROLES

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
DATETIME = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")


class VolunteerForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Name"), max_length=50)
    phone = forms.CharField(label=gettext_lazy("Phone"), max_length=24)
    building = forms.ModelChoiceField(
        label=gettext_lazy("Building"), queryset=Area.objects.none(), required=False
    )
    team = forms.ChoiceField(label=gettext_lazy("Team"), choices=Volunteer.Team.choices)
    availability = forms.CharField(
        label=gettext_lazy("Availability"),
        max_length=100,
        required=False,
        help_text=gettext_lazy("For example: weekdays after 18:00, all day at weekends."),
    )
    health = forms.ChoiceField(
        label=gettext_lazy("Health status"), choices=Volunteer.Health.choices
    )
    active = forms.BooleanField(label=gettext_lazy("Active"), required=False, initial=True)
    user = forms.ModelChoiceField(
        label=gettext_lazy("Account"),
        queryset=Volunteer.objects.none(),
        required=False,
        help_text=gettext_lazy("Link a building volunteer's account so they see their door tasks."),
    )

    def __init__(self, *args, compound: Area, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        buildings = register.buildings_of(compound)
        self.fields["building"].queryset = Area.objects.filter(pk__in=[b.pk for b in buildings])
        self.fields["user"].queryset = register.linkable_users(compound)

    def data_object(self) -> register.VolunteerData:
        return register.VolunteerData(**self.cleaned_data)


class ShiftForm(forms.Form):
    volunteer = forms.ModelChoiceField(
        label=gettext_lazy("Volunteer"), queryset=Volunteer.objects.none()
    )
    place = forms.ModelChoiceField(label=gettext_lazy("Place"), queryset=Volunteer.objects.none())
    starts_at = forms.DateTimeField(label=gettext_lazy("Starts at"), widget=DATETIME)
    ends_at = forms.DateTimeField(label=gettext_lazy("Ends at"), widget=DATETIME)
    note = forms.CharField(label=gettext_lazy("Note"), max_length=200, required=False)

    def __init__(self, *args, compound: Area, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["volunteer"].queryset = register.active_volunteers(compound)
        self.fields["place"].queryset = register.duty_places(compound)


class WorkPassForm(forms.Form):
    valid_from = forms.DateField(label=gettext_lazy("Valid from"), widget=DATE)
    valid_to = forms.DateField(label=gettext_lazy("Valid to"), widget=DATE)
    authority = forms.CharField(
        label=gettext_lazy("Issued by"),
        max_length=100,
        required=False,
        help_text=gettext_lazy("Leave empty for the street office's epidemic command."),
    )


def _refuse(form: forms.Form, error: DomainError) -> None:
    """Put a service's refusal on the field it names, or on the whole form."""
    field = error.params.get("field")
    form.add_error(field if field in form.fields else None, error.message)


# --- register --------------------------------------------------------------------------


@require_GET
@login_required
@domain_errors
def volunteer_home(request: HttpRequest) -> HttpResponse:
    """The compounds whose volunteers the user manages, and the areas whose coverage they see."""
    scope = scope_for(request.user)
    scope.require(STAFF_ROLES)
    areas = scope.areas(STAFF_ROLES)
    compounds = areas.filter(kind=Area.Kind.COMPOUND).order_by("path")[:200]
    tops = (
        scope.root_areas if scope.superuser else areas.filter(path__in=scope.paths_for(STAFF_ROLES))
    )
    return render(request, "lastmile/volunteer_home.html", {"compounds": compounds, "tops": tops})


@require_GET
@login_required
@domain_errors
def volunteer_list(request: HttpRequest, pk: int) -> HttpResponse:
    compound = register.compound_for(scope_for(request.user), pk)
    team = request.GET.get("team", "")
    team = team if team in Volunteer.Team.values else ""
    buildings = register.buildings_of(compound)
    try:
        building_id = int(request.GET.get("building") or 0)
    except ValueError:
        building_id = 0
    rows = register.volunteers_of(compound, team=team, building_id=building_id)
    return render(
        request,
        "lastmile/volunteer_list.html",
        {
            "compound": compound,
            "rows": rows,
            "teams": Volunteer.Team.choices,
            "team": team,
            "buildings": buildings,
            "building_id": building_id,
            "can_issue": scope_for(request.user).has_any(PASS_ROLES)
            and scope_for(request.user).areas(PASS_ROLES).filter(pk=compound.pk).exists(),
        },
    )


def _volunteer_form(
    request: HttpRequest, compound: Area, volunteer: Volunteer | None
) -> HttpResponse:
    initial = (
        {
            "name": volunteer.name,
            "phone": volunteer.phone,
            "building": volunteer.building_id,
            "team": volunteer.team,
            "availability": volunteer.availability,
            "health": volunteer.health,
            "active": volunteer.active,
            "user": volunteer.user_id,
        }
        if volunteer
        else {"active": True, "team": Volunteer.Team.SUPPLY}
    )
    form = VolunteerForm(request.POST or None, compound=compound, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            register.volunteer_save(
                compound=compound, data=form.data_object(), by=request.user, volunteer=volunteer
            )
        except InvalidInput as refusal:
            _refuse(form, refusal)
        else:
            messages.success(request, _("Volunteer saved."))
            return redirect("lastmile:volunteers", compound.pk)
    return render(
        request,
        "lastmile/volunteer_form.html",
        {"compound": compound, "form": form, "volunteer": volunteer},
    )


@require_http_methods(["GET", "POST"])
@login_required
@domain_errors
def volunteer_create(request: HttpRequest, pk: int) -> HttpResponse:
    compound = register.compound_for(scope_for(request.user), pk)
    return _volunteer_form(request, compound, None)


@require_http_methods(["GET", "POST"])
@login_required
@domain_errors
def volunteer_edit(request: HttpRequest, pk: int) -> HttpResponse:
    volunteer = register.volunteer_for(scope_for(request.user), pk)
    return _volunteer_form(request, volunteer.compound, volunteer)


@require_GET
@login_required
@domain_errors
def volunteer_coverage(request: HttpRequest, pk: int) -> HttpResponse:
    """Per building: active supply volunteers against the target, buildings below it first."""
    area = scope_for(request.user).area(pk, STAFF_ROLES)
    if area.kind not in (Area.Kind.STREET, Area.Kind.COMMUNITY, Area.Kind.COMPOUND):
        raise NotFound()
    rows = register.coverage(area)
    return render(
        request,
        "lastmile/volunteer_coverage.html",
        {
            "area": area,
            "rows": rows,
            "below": sum(1 for r in rows if r.below),
            "target": register.target_per_building(),
        },
    )


# --- shifts ----------------------------------------------------------------------------


def _day(raw: str | None) -> dt.date:
    try:
        return dt.date.fromisoformat(raw or "")
    except ValueError:
        return timezone.localdate()


@require_http_methods(["GET", "POST"])
@login_required
@domain_errors
def shift_list(request: HttpRequest, pk: int) -> HttpResponse:
    """One day's shifts at the compound's gates and transfer points, and a form to add one."""
    compound = register.compound_for(scope_for(request.user), pk)
    day = _day(request.GET.get("day"))
    form = ShiftForm(request.POST or None, compound=compound)
    if request.method == "POST" and form.is_valid():
        try:
            shift = register.shift_create(by=request.user, **form.cleaned_data)
        except (InvalidInput, Conflict) as refusal:
            _refuse(form, refusal)
        else:
            messages.success(request, _("Shift added."))
            local_day = timezone.localtime(shift.starts_at).date()
            return redirect(f"{reverse('lastmile:shifts', args=[compound.pk])}?day={local_day}")
    return render(
        request,
        "lastmile/shift_list.html",
        {
            "compound": compound,
            "day": day,
            "previous": day - dt.timedelta(days=1),
            "next": day + dt.timedelta(days=1),
            "shifts": register.shifts_on(compound, day),
            "form": form,
        },
    )


@require_POST
@login_required
@domain_errors
def shift_delete(request: HttpRequest, pk: int) -> HttpResponse:
    scope = scope_for(request.user)
    shift = get_object_or_404(
        Shift.objects.select_related("place"),
        pk=pk,
        place__compound__in=scope.areas(STAFF_ROLES),
    )
    day = timezone.localtime(shift.starts_at).date()
    register.shift_delete(shift=shift, by=request.user)
    messages.success(request, _("Shift removed."))
    return redirect(f"{reverse('lastmile:shifts', args=[shift.place.compound_id])}?day={day}")


# --- work passes -----------------------------------------------------------------------


def _pass_for(request: HttpRequest, pk: int) -> WorkPass:
    scope = scope_for(request.user)
    try:
        return WorkPass.objects.select_related("volunteer__compound").get(
            pk=pk, volunteer__compound__in=scope.areas(PASS_ROLES)
        )
    except (WorkPass.DoesNotExist, ValueError):
        raise NotFound() from None


@require_GET
@login_required
@domain_errors
def workpass_list(request: HttpRequest, pk: int) -> HttpResponse:
    compound = register.compound_for(scope_for(request.user), pk, PASS_ROLES)
    passes = (
        WorkPass.objects.filter(volunteer__compound=compound)
        .select_related("volunteer")
        .order_by("-created_at")
    )
    today = timezone.localdate()
    rows = [(p, workpasses.pass_status(p, today=today)) for p in passes]
    return render(request, "lastmile/workpass_list.html", {"compound": compound, "rows": rows})


@require_http_methods(["GET", "POST"])
@login_required
@domain_errors
def workpass_issue(request: HttpRequest, pk: int) -> HttpResponse:
    volunteer = register.volunteer_for(scope_for(request.user), pk, PASS_ROLES)
    today = timezone.localdate()
    form = WorkPassForm(
        request.POST or None,
        initial={"valid_from": today, "valid_to": today + dt.timedelta(days=14)},
    )
    if request.method == "POST" and form.is_valid():
        try:
            work_pass = workpasses.work_pass_issue(
                volunteer=volunteer, by=request.user, **form.cleaned_data
            )
        except InvalidInput as refusal:
            _refuse(form, refusal)
        else:
            messages.success(
                request, _("Work pass %(number)s issued.") % {"number": work_pass.number}
            )
            return redirect("lastmile:workpasses", volunteer.compound_id)
    return render(
        request,
        "lastmile/workpass_form.html",
        {
            "volunteer": volunteer,
            "form": form,
            "authority": workpasses.default_authority(volunteer.compound),
        },
    )


@require_POST
@login_required
@domain_errors
def workpass_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    work_pass = _pass_for(request, pk)
    try:
        workpasses.work_pass_revoke(
            work_pass=work_pass, by=request.user, reason=request.POST.get("reason", "")
        )
    except (InvalidInput, Conflict) as refusal:
        messages.error(request, refusal.message)
    else:
        messages.success(request, _("Pass %(number)s revoked.") % {"number": work_pass.number})
    return redirect("lastmile:workpasses", work_pass.volunteer.compound_id)


@require_GET
@login_required
@domain_errors
def workpass_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    work_pass = _pass_for(request, pk)
    url = request.build_absolute_uri(reverse("lastmile:workpass_verify", args=[work_pass.token]))
    response = HttpResponse(
        workpasses.work_pass_pdf(work_pass, url), content_type="application/pdf"
    )
    response["Content-Disposition"] = f'inline; filename="{work_pass.number}.pdf"'
    return response


@require_GET
def workpass_verify(request: HttpRequest, token: str) -> HttpResponse:
    """Public: a checkpoint learns whether the pass is valid — masked name, team, valid-to only."""
    work_pass = get_object_or_404(WorkPass.objects.select_related("volunteer"), token=token)
    return render(
        request,
        "lastmile/workpass_verify.html",
        {
            "work_pass": work_pass,
            "status": workpasses.pass_status(work_pass),
            "holder": mask_name(work_pass.volunteer.name),
            "team": work_pass.volunteer.get_team_display(),
        },
    )


urlpatterns = [
    path("volunteers/", volunteer_home, name="volunteer_home"),
    path("compounds/<int:pk>/volunteers/", volunteer_list, name="volunteers"),
    path("compounds/<int:pk>/volunteers/new/", volunteer_create, name="volunteer_create"),
    path("volunteers/<int:pk>/edit/", volunteer_edit, name="volunteer_edit"),
    path("areas/<int:pk>/volunteer-coverage/", volunteer_coverage, name="volunteer_coverage"),
    path("compounds/<int:pk>/shifts/", shift_list, name="shifts"),
    path("shifts/<int:pk>/delete/", shift_delete, name="shift_delete"),
    path("compounds/<int:pk>/work-passes/", workpass_list, name="workpasses"),
    path("volunteers/<int:pk>/work-pass/", workpass_issue, name="workpass_issue"),
    path("work-passes/<int:pk>/revoke/", workpass_revoke, name="workpass_revoke"),
    path("work-passes/<int:pk>/pdf/", workpass_pdf, name="workpass_pdf"),
    path("work-passes/check/<str:token>/", workpass_verify, name="workpass_verify"),
]
