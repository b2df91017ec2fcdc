"""The bureau's settings: the commodity catalogue with its thresholds, reporting schedules."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from baogong.accounts.scoping import scope_for
from baogong.core.errors import InvalidInput, NotFound
from baogong.core.http import domain_errors
from baogong.monitoring import queries, services
from baogong.monitoring.forms import CommodityForm, ScheduleForm
from baogong.monitoring.models import Commodity, ReportingSchedule


@login_required
def commodity_list(request: HttpRequest) -> HttpResponse:
    scope = scope_for(request.user)
    if not scope.has_any(queries.MONITOR_ROLES) and not scope.supplier_ids:
        raise PermissionDenied
    return render(
        request,
        "monitoring/commodity_list.html",
        {
            "commodities": Commodity.objects.all(),
            "can_edit": scope.has_any(queries.BUREAU_ROLES),
        },
    )


@login_required
@domain_errors
@require_http_methods(["GET", "POST"])
def commodity_edit(request: HttpRequest, pk: int) -> HttpResponse:
    services.require_bureau(request.user)
    commodity = get_object_or_404(Commodity, pk=pk)
    form = CommodityForm(request.POST or None, instance=commodity)
    if request.method == "POST" and form.is_valid():
        services.commodity_save(form.instance, by=request.user)
        messages.success(request, _("The thresholds were saved."))
        return redirect("monitoring:commodity_list")
    return render(request, "monitoring/commodity_edit.html", {"form": form, "commodity": commodity})


def _bureau_area(user, pk: int):
    return scope_for(user).area(pk, queries.BUREAU_ROLES)


def _schedule_form(request: HttpRequest, schedule: ReportingSchedule) -> HttpResponse:
    form = ScheduleForm(request.POST or None, instance=schedule)
    if request.method == "POST" and form.is_valid():
        try:
            services.schedule_save(form.instance, by=request.user)
        except InvalidInput as error:
            form.add_error("days_of_month", error.message)
        else:
            messages.success(request, _("The schedule was saved."))
            return redirect("monitoring:deadlines", area_pk=schedule.area_id)
    return render(
        request,
        "monitoring/schedule_form.html",
        {"form": form, "schedule": schedule, "area": schedule.area},
    )


@login_required
@domain_errors
@require_http_methods(["GET", "POST"])
def schedule_create(request: HttpRequest, area_pk: int) -> HttpResponse:
    area = _bureau_area(request.user, area_pk)
    return _schedule_form(request, ReportingSchedule(area=area))


@login_required
@domain_errors
@require_http_methods(["GET", "POST"])
def schedule_edit(request: HttpRequest, pk: int) -> HttpResponse:
    schedule = ReportingSchedule.objects.select_related("area").filter(pk=pk).first()
    if schedule is None:
        raise NotFound()
    _bureau_area(request.user, schedule.area_id)
    return _schedule_form(request, schedule)
