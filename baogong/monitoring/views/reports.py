"""Supplier pages: file the day's figures on a phone, upload a sheet, see an outlet's history."""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from baogong.accounts.scoping import scope_for
from baogong.core.errors import DomainError
from baogong.core.http import domain_errors
from baogong.monitoring import excel, queries, services
from baogong.monitoring.checks import FLAG_LABELS
from baogong.monitoring.forms import ReportEntryForm, UploadForm
from baogong.monitoring.models import Commodity, OutletReport
from baogong.supply.models import Outlet

HISTORY_DAYS = 14


@login_required
def reporting(request: HttpRequest) -> HttpResponse:
    """A supplier user's outlets, each with its report form, and the upload."""
    scope = scope_for(request.user)
    if not scope.supplier_ids and not scope.superuser:
        raise PermissionDenied
    outlets = queries.outlet_statuses(
        Outlet.objects.filter(supplier_id__in=scope.supplier_ids), timezone.localdate()
    )
    return render(
        request,
        "monitoring/reporting.html",
        {"outlets": outlets, "supplier_ids": sorted(scope.supplier_ids)},
    )


@login_required
@domain_errors
@require_http_methods(["GET", "POST"])
def report_entry(request: HttpRequest, pk: int) -> HttpResponse:
    outlet = queries.reporting_outlet_for(request.user, pk)
    commodities = list(Commodity.objects.filter(is_active=True))
    day = timezone.localdate()
    openings = dict(
        queries.latest_reports()
        .filter(outlet=outlet, date=day - dt.timedelta(days=1))
        .values_list("commodity_id", "closing")
    )
    form = ReportEntryForm(request.POST or None, commodities=commodities, openings=openings)
    results = []
    if request.method == "POST" and form.is_valid():
        for commodity, figures in form.entries:
            try:
                done = services.report_submit(
                    outlet=outlet,
                    commodity=commodity,
                    date=form.cleaned_data["date"],
                    figures=figures,
                    channel=OutletReport.Channel.FORM,
                    by=request.user,
                )
            except DomainError as error:
                results.append((commodity, "rejected", error.message))
                continue
            status = "unchanged" if not done.created else "flagged" if done.reasons else "saved"
            results.append((commodity, status, " ".join(done.reasons)))
        if all(status != "rejected" for _c, status, _m in results):
            messages.success(request, _("The report was saved."))
            for commodity, status, message in results:
                if status == "flagged":
                    messages.warning(request, f"{commodity.name}: {message}")
            return redirect("monitoring:outlet_detail", pk=outlet.pk)
    return render(
        request,
        "monitoring/report_entry.html",
        {"outlet": outlet, "form": form, "results": results},
    )


@login_required
@domain_errors
@require_http_methods(["GET", "POST"])
def report_upload(request: HttpRequest, pk: int) -> HttpResponse:
    supplier = queries.reporting_supplier_for(request.user, pk)
    form = UploadForm(request.POST or None, request.FILES or None)
    report = None
    if request.method == "POST" and form.is_valid():
        outlets = {o.name.casefold(): o for o in supplier.outlets.all()}
        try:
            rows = list(excel.read_rows(form.cleaned_data["file"].read()))
        except DomainError as error:
            form.add_error("file", error.message)
        else:
            report = services.reports_import(
                rows, outlets=outlets, channel=OutletReport.Channel.EXCEL, by=request.user
            )
    return render(
        request,
        "monitoring/report_upload.html",
        {"supplier": supplier, "form": form, "report": report},
    )


@login_required
@domain_errors
def report_template(request: HttpRequest, pk: int) -> HttpResponse:
    supplier = queries.reporting_supplier_for(request.user, pk)
    data = excel.template_workbook(
        [o.name for o in supplier.outlets.all()],
        [c.name for c in Commodity.objects.filter(is_active=True)],
        timezone.localdate(),
    )
    response = HttpResponse(
        data, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    response["Content-Disposition"] = 'attachment; filename="stock-report-template.xlsx"'
    return response


@login_required
@domain_errors
def outlet_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """The outlet's recent figures with what they mean, its revisions and its alerts."""
    outlet = queries.outlet_for(request.user, pk)
    end = timezone.localdate()
    rows = [
        (report, queries.derived_of(report))
        for report in queries.outlet_series(
            outlet.pk, start=end - dt.timedelta(days=HISTORY_DAYS - 1), end=end
        ).order_by("-date", "commodity__position", "commodity_id")
    ]
    corrections = (
        OutletReport.objects.filter(
            outlet=outlet, revision__gt=1, date__gte=end - dt.timedelta(days=HISTORY_DAYS)
        )
        .select_related("commodity", "entered_by")
        .order_by("-date", "commodity_id", "-revision")
    )
    return render(
        request,
        "monitoring/outlet_detail.html",
        {
            "outlet": outlet,
            "rows": rows,
            "corrections": corrections,
            "alerts": queries.alerts_for(request.user).filter(outlet=outlet)[:20],
            "flag_labels": FLAG_LABELS,
            "can_report": outlet.supplier_id in scope_for(request.user).supplier_ids,
        },
    )
