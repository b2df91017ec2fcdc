"""Outlet stock reports by API, for a supplier's or platform's system (token auth).

A client reaches its own supplier's outlets only; any other outlet is a 404.
Each report in a batch is filed on its own (services.report_submit): good ones
are kept, a refused one says why, and the same figures sent again are
"unchanged" (no new revision), so a retry is safe even without an
Idempotency-Key; with one, a retry gets the first response back verbatim.
"""

from __future__ import annotations

import datetime as dt

from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Header, Router, Status

from baogong.core.errors import DomainError, NotFound
from baogong.monitoring import services
from baogong.monitoring.checks import Figures
from baogong.monitoring.models import Commodity, OutletReport
from baogong.monitoring.schemas import (
    CommodityOut,
    ReportBatchIn,
    ReportBatchOut,
    ReportOut,
    ReportResult,
)
from baogong.orders.api_auth import TokenAuth, idempotent, request_fingerprint
from baogong.orders.schemas import Error
from baogong.supply.models import Outlet

router = Router(auth=TokenAuth(), tags=["market monitoring"])
ERRORS = {401: Error, 403: Error, 404: Error, 409: Error, 422: Error}
KEY_HEADER = "Idempotency-Key"


def _outlet(client, outlet_id: int) -> Outlet:
    try:
        return Outlet.objects.get(pk=outlet_id, supplier_id=client.supplier_id)
    except Outlet.DoesNotExist:
        raise NotFound() from None


@router.get("/monitoring/commodities", response={200: list[CommodityOut], **ERRORS})
def monitoring_commodities(request: HttpRequest) -> list[CommodityOut]:
    """The items to report, with their codes."""
    return list(Commodity.objects.filter(is_active=True))


@router.post("/monitoring/outlets/{outlet_id}/reports", response={200: ReportBatchOut, **ERRORS})
def monitoring_reports_post(
    request: HttpRequest,
    outlet_id: int,
    payload: ReportBatchIn,
    idempotency_key: str | None = Header(None, alias=KEY_HEADER),
) -> Status:
    """File the outlet's daily figures, one or more items and days at a time."""
    client = request.auth
    outlet = _outlet(client, outlet_id)
    commodities = {c.code: c for c in Commodity.objects.filter(is_active=True)}

    def file_all() -> tuple[int, dict]:
        results = []
        for index, item in enumerate(payload.reports):
            commodity = commodities.get(item.commodity)
            if commodity is None:
                results.append(
                    ReportResult(
                        index=index,
                        status="rejected",
                        reasons=[_("Unknown commodity %(name)s.") % {"name": item.commodity}],
                    )
                )
                continue
            try:
                done = services.report_submit(
                    outlet=outlet,
                    commodity=commodity,
                    date=item.date,
                    figures=Figures(
                        item.opening, item.received, item.sold, item.closing, item.price
                    ),
                    channel=OutletReport.Channel.API,
                    by=None,
                )
            except DomainError as error:
                results.append(
                    ReportResult(index=index, status="rejected", reasons=[error.message])
                )
                continue
            status = "unchanged" if not done.created else "flagged" if done.reasons else "created"
            results.append(
                ReportResult(
                    index=index,
                    status=status,
                    report_id=done.report.pk,
                    revision=done.report.revision,
                    reasons=done.reasons,
                    alerts=[a.kind for a in done.alerts],
                )
            )
        return 200, ReportBatchOut(results=results).model_dump(mode="json")

    status, body = idempotent(
        client,
        key=idempotency_key,
        fingerprint=request_fingerprint(request, [outlet_id, payload.model_dump(mode="json")]),
        action=file_all,
    )
    return Status(status, body)


@router.get("/monitoring/outlets/{outlet_id}/reports", response={200: list[ReportOut], **ERRORS})
def monitoring_reports_get(
    request: HttpRequest, outlet_id: int, date: dt.date | None = None
) -> list[ReportOut]:
    """The latest revision of each item the outlet reported for `date` (today if not given)."""
    outlet = _outlet(request.auth, outlet_id)
    date = date or timezone.localdate()
    reports = OutletReport.objects.filter(outlet=outlet, date=date, is_latest=True).select_related(
        "commodity"
    )
    return [
        ReportOut(
            commodity=r.commodity.code,
            date=r.date,
            revision=r.revision,
            opening=r.opening,
            received=r.received,
            sold=r.sold,
            closing=r.closing,
            price=r.price,
            flags=r.flag_list,
        )
        for r in reports
    ]
