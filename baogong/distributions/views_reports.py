"""Distribution reports: coverage, who has not received, the bag ledger, exports, and the
summary of packages distributed by source. Household rows only for register keepers;
the bureau sees counts."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path
from django.utils import timezone
from django.views.decorators.http import require_GET

from baogong.accounts.scoping import scope_for
from baogong.core.errors import NotAllowed
from baogong.core.http import domain_errors
from baogong.distributions import exports, reports

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _report_data(request: HttpRequest, pk: int) -> dict:
    scope = scope_for(request.user)
    distribution = reports.distribution_for(scope, pk)
    top = reports.report_top(scope, distribution, request.GET.get("area"))
    unreached = reports.not_received(distribution, top)
    return {
        "scope": scope,
        "distribution": distribution,
        "top": top,
        "trail": reports.report_trail(scope, distribution, top),
        "coverage": reports.coverage(distribution, top),
        "unreached": unreached,
        "unreached_counts": reports.not_received_counts(unreached),
        "ledger": reports.bag_ledger(reports.distribution_compounds(distribution, top)),
        "personal": reports.sees_households(scope, top),
    }


@require_GET
@login_required
@domain_errors
def report(request: HttpRequest, pk: int) -> HttpResponse:
    """Coverage per area with drill-down, households not reached, and the bag ledger."""
    return render(request, "distributions/report.html", _report_data(request, pk))


@require_GET
@login_required
@domain_errors
def report_export(request: HttpRequest, pk: int) -> HttpResponse:
    """The report as Excel; `personal=1` adds household rows (register keepers only)."""
    data = _report_data(request, pk)
    personal = request.GET.get("personal") == "1"
    if personal and not data["personal"]:
        raise NotAllowed()
    scope = data["scope"]
    content = exports.report_workbook(
        data["distribution"],
        data["coverage"],
        data["unreached"],
        data["ledger"],
        personal=personal,
        full_phone=scope.sees_full_phone,
    )
    response = HttpResponse(content, content_type=XLSX)
    kind = "personal" if personal else "counts"
    stamp = timezone.localdate().isoformat()
    response["Content-Disposition"] = (
        f'attachment; filename="distribution-{pk}-{data["top"].pk}-{kind}-{stamp}.xlsx"'
    )
    return response


@require_GET
@login_required
@domain_errors
def summary(request: HttpRequest) -> HttpResponse:
    """Packages handed over per source within the reader's areas, and their distributions."""
    scope = scope_for(request.user)
    scope.require(reports.REPORT_ROLES)
    rows = reports.summary_by_source(scope)
    return render(
        request,
        "distributions/report_summary.html",
        {
            "rows": rows,
            "households": sum(r.households for r in rows),
            "packs": sum(r.packs for r in rows),
            "distributions": reports.distributions_for(scope).order_by("-created_at")[:50],
        },
    )


urlpatterns = [
    path("<int:pk>/report/", report, name="report"),
    path("<int:pk>/report/export/", report_export, name="report_export"),
    path("summary/", summary, name="summary"),
]
