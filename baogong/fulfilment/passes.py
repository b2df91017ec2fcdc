"""保供车辆通行证: issuing, revoking, reading a pass's status, and the printable pass.

Street office staff and the district issue and revoke passes for their own areas. A
pass's status is read live: revoked is a state (acts at once on the public page), expired
follows from valid_to. The printed pass carries a QR code of the public verification page,
which shows validity, plate and expiry only — no names, no phones.
"""

from __future__ import annotations

import io
from datetime import datetime
from typing import TYPE_CHECKING

from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _t
from django.utils.translation import gettext_lazy as _
from reportlab.lib.pagesizes import A5
from reportlab.lib.units import mm

from baogong.accounts.scoping import Scope, scope_for
from baogong.areas.models import Area
from baogong.core.errors import Conflict, InvalidInput, NotAllowed
from baogong.fulfilment.models import Vehicle, VehiclePass
from baogong.fulfilment.pdf.common import CJK, draw_qr, new_canvas, wrap
from baogong.fulfilment.transport import FLEET_ROLES, _paths_q, fleet_q, reaches_site
from baogong.payments.services import save_audited

if TYPE_CHECKING:
    from baogong.accounts.models import User

VALID, EXPIRED, REVOKED, NOT_YET = "valid", "expired", "revoked", "not_yet_valid"
STATUS_LABELS = {
    VALID: _("Valid"),
    EXPIRED: _("Expired"),
    REVOKED: _("Revoked"),
    NOT_YET: _("Not valid yet"),
}
AUTHORITY_SUFFIX = "疫情防控指挥部"


def pass_status(vehicle_pass: VehiclePass, now: datetime | None = None) -> str:
    """valid / expired / revoked / not_yet_valid, read from the row at this moment."""
    now = now or timezone.now()
    if vehicle_pass.status == VehiclePass.Status.REVOKED:
        return REVOKED
    if vehicle_pass.valid_to <= now:
        return EXPIRED
    if vehicle_pass.valid_from > now:
        return NOT_YET
    return VALID


def passes_for(scope: Scope) -> QuerySet[VehiclePass]:
    """Passes of the user's own vehicles, and passes issued for areas they administer."""
    if scope.superuser:
        q = Q()
    else:
        q = fleet_q(scope, "vehicle__") | _paths_q(scope, FLEET_ROLES, "areas__")
    ids = VehiclePass.objects.filter(q).values("pk")
    return (
        VehiclePass.objects.filter(pk__in=ids).select_related("vehicle").prefetch_related("areas")
    )


def may_administer(scope: Scope, vehicle_pass: VehiclePass) -> bool:
    """Issuing staff: every area of the pass lies under one of their street/district grants."""
    areas = list(vehicle_pass.areas.all())
    return scope.superuser or (
        bool(areas) and all(reaches_site(scope, a, FLEET_ROLES) for a in areas)
    )


def issuable_vehicles(scope: Scope) -> QuerySet[Vehicle]:
    """Vehicles staff may issue a pass to: their streets' own fleets and the vehicles of
    suppliers assigned to an area that overlaps theirs."""
    if scope.superuser:
        return Vehicle.objects.all()
    q = _paths_q(scope, FLEET_ROLES, "street__")
    for path in scope.paths_for(FLEET_ROLES):
        # A supplier assigned above (the district) or below (a compound) serves this area.
        q |= Q(supplier__assignments__area__path__startswith=path)
        q |= Q(supplier__assignments__area__path__in=[path[:i] for i in range(1, len(path) + 1)])
    return Vehicle.objects.filter(q).distinct()


def default_authority(areas: list[Area]) -> str:
    """The issuing headquarters: the street's (or district's) name + 疫情防控指挥部."""
    top = min(areas, key=lambda a: len(a.path))
    while top.kind not in (Area.Kind.STREET, Area.Kind.DISTRICT) and top.parent_id:
        top = top.parent
    return f"{top.name}{AUTHORITY_SUFFIX}"


def _next_number(valid_from: datetime) -> str:
    prefix = f"TX{timezone.localtime(valid_from):%Y%m%d}-"
    last = (
        VehiclePass.objects.filter(number__startswith=prefix)
        .order_by("-number")
        .values_list("number", flat=True)
        .first()
    )
    return f"{prefix}{int(last[len(prefix) :]) + 1 if last else 1:04d}"


@transaction.atomic
def pass_issue(
    *,
    vehicle: Vehicle,
    valid_from: datetime,
    valid_to: datetime,
    areas: list[Area],
    route: str = "",
    authority: str = "",
    by: User | None,
) -> VehiclePass:
    """Issue a numbered pass for `vehicle` over `areas` (or a route).

    Raises InvalidInput naming the field, NotAllowed when an area is outside the issuer's."""
    route = (route or "").strip()
    if valid_to <= valid_from:
        raise InvalidInput(_("Valid to: must be after “valid from”."))
    if not areas and not route:
        raise InvalidInput(_("Areas: choose the areas the pass covers, or describe the route."))
    if by is not None:
        scope = scope_for(by)
        if not scope.has_any(FLEET_ROLES) or not all(
            reaches_site(scope, a, FLEET_ROLES) for a in areas
        ):
            raise NotAllowed()
        if not areas:
            raise InvalidInput(_("Areas: choose at least your own area."))
    vehicle_pass = VehiclePass(
        vehicle=vehicle,
        authority=(authority or "").strip()[:100] or default_authority(areas),
        valid_from=valid_from,
        valid_to=valid_to,
        route=route[:200],
        issued_by=by,
    )
    # Two staff issuing at once may pick the same next number: retry with the next one.
    for _attempt in range(5):
        vehicle_pass.number = _next_number(valid_from)
        try:
            with transaction.atomic():
                save_audited(vehicle_pass, by=by, reason="pass_issue")
            break
        except IntegrityError:
            vehicle_pass.pk = None
    else:
        raise Conflict(_("Could not number the pass; try again."))
    vehicle_pass.areas.set(areas)
    return vehicle_pass


@transaction.atomic
def pass_revoke(
    *, vehicle_pass: VehiclePass, reason: str, by: User | None, now: datetime | None = None
) -> VehiclePass:
    """Revoke a pass at once (the public page reads the status live). Revoking twice is
    not an error."""
    # Lock: a revocation and an edit at the same moment must not lose the revocation.
    vehicle_pass = VehiclePass.objects.select_for_update().get(pk=vehicle_pass.pk)
    if by is not None and not may_administer(scope_for(by), vehicle_pass):
        raise NotAllowed()
    if vehicle_pass.status == VehiclePass.Status.REVOKED:
        return vehicle_pass
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput(_("Reason: say why the pass is revoked."))
    vehicle_pass.status = VehiclePass.Status.REVOKED
    vehicle_pass.revoked_at = now or timezone.now()
    vehicle_pass.revoked_reason = reason[:200]
    save_audited(vehicle_pass, by=by, reason="pass_revoke")
    return vehicle_pass


def pass_pdf(vehicle_pass: VehiclePass, verify_url: str) -> bytes:
    """One A5 page: the pass's facts (no personal data) and the QR of its public page."""
    out = io.BytesIO()
    width, height = A5
    canvas = new_canvas(out, A5, vehicle_pass.number)
    margin = 14 * mm
    y = height - margin - 10 * mm
    canvas.setFont(CJK, 22)
    canvas.drawCentredString(width / 2, y, _t("Supply vehicle pass"))
    y -= 8 * mm
    canvas.setFont(CJK, 11)
    canvas.drawCentredString(width / 2, y, vehicle_pass.authority)
    size = 56 * mm
    y -= size + 4 * mm
    draw_qr(canvas, verify_url, (width - size) / 2, y, size)
    y -= 4 * mm
    canvas.setFont(CJK, 9)
    canvas.drawCentredString(width / 2, y, _t("Scan to check that this pass is valid"))
    y -= 10 * mm
    local = timezone.localtime
    areas = "、".join(a.name for a in vehicle_pass.areas.order_by("path"))
    facts = [
        (_t("Pass number"), vehicle_pass.number),
        (_t("Plate number"), vehicle_pass.vehicle.plate),
        (_t("Vehicle type"), vehicle_pass.vehicle.get_kind_display()),
        (_t("Valid from"), f"{local(vehicle_pass.valid_from):%Y-%m-%d %H:%M}"),
        (_t("Valid to"), f"{local(vehicle_pass.valid_to):%Y-%m-%d %H:%M}"),
        (_t("Areas"), areas or "—"),
        (_t("Route"), vehicle_pass.route or "—"),
    ]
    for label, value in facts:
        canvas.setFont(CJK, 12)
        canvas.drawString(margin, y, f"{label}：")
        lines = wrap(str(value), 12, width - 2 * margin - 30 * mm, 3)
        for line in lines:
            canvas.drawString(margin + 30 * mm, y, line)
            y -= 7 * mm
    canvas.showPage()
    canvas.save()
    return out.getvalue()
