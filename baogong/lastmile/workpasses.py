"""保供人员工作证: work passes for volunteers and supply workers, checked by QR like vehicle passes.

A pass is issued by street or community staff for a registered volunteer, with a
number of its compound's own sequence. Its QR code opens a public page that reads the
status live, so a revocation takes effect at the next scan; that page shows only the
validity, a masked name (王**), the team and the valid-to date — never a phone.
"""

from __future__ import annotations

import datetime as dt
import io
from typing import TYPE_CHECKING

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _t
from django.utils.translation import gettext_lazy as _
from reportlab.lib.pagesizes import A6, landscape
from reportlab.lib.units import mm

from baogong.areas.models import Area
from baogong.core.errors import Conflict, InvalidInput
from baogong.fulfilment.pdf.common import CJK, LATIN_BOLD, draw_qr, fit, new_canvas
from baogong.lastmile.models import Volunteer, WorkPass
from baogong.lastmile.volunteers import save_audited

if TYPE_CHECKING:
    from baogong.accounts.models import User

VALID, EXPIRED, REVOKED = "valid", "expired", "revoked"
STATUS_LABELS = {
    VALID: _("valid"),
    EXPIRED: _("expired"),
    REVOKED: _("revoked"),
}


def pass_status(work_pass: WorkPass, *, today: dt.date | None = None) -> str:
    """valid, expired (past valid-to, or not yet started) or revoked: read live, never stored."""
    today = today or timezone.localdate()
    if work_pass.status == WorkPass.Status.REVOKED:
        return REVOKED
    if not (work_pass.valid_from <= today <= work_pass.valid_to):
        return EXPIRED
    return VALID


def mask_name(name: str) -> str:
    """王小明 → 王**: enough for a checkpoint to match the face, not to find the person."""
    name = name.strip()
    return name[:1] + "*" * max(len(name) - 1, 1) if name else ""


def default_authority(compound: Area) -> str:
    """The street office's epidemic command (街道 + 疫情防控指挥部), as on vehicle passes."""
    street = Area.objects.filter(kind=Area.Kind.STREET, pk__in=compound.ancestor_ids).first()
    return f"{(street or compound).name}疫情防控指挥部"


@transaction.atomic
def work_pass_issue(
    *,
    volunteer: Volunteer,
    valid_from: dt.date,
    valid_to: dt.date,
    by: User | None,
    authority: str = "",
) -> WorkPass:
    """Issue a pass to `volunteer`, numbered GZ<compound>-<sequence>.

    Raises InvalidInput (dates the wrong way round, inactive volunteer).
    """
    if valid_to < valid_from:
        raise InvalidInput(_("Valid to: the pass must end on or after its first day."))
    if not volunteer.active:
        raise InvalidInput(_("%(name)s is not an active volunteer."), name=volunteer.name)
    # Lock the compound so two passes issued at once cannot take the same number.
    compound = Area.objects.select_for_update().get(pk=volunteer.compound_id)
    sequence = WorkPass.objects.filter(volunteer__compound=compound).count() + 1
    work_pass = WorkPass(
        number=f"GZ{compound.pk:04d}-{sequence:04d}",
        volunteer=volunteer,
        authority=(authority.strip() or default_authority(compound))[:100],
        valid_from=valid_from,
        valid_to=valid_to,
    )
    save_audited(work_pass, by=by, reason="work_pass_issue")
    return work_pass


@transaction.atomic
def work_pass_revoke(
    *, work_pass: WorkPass, by: User | None, reason: str, now: dt.datetime | None = None
) -> WorkPass:
    """Revoke at once (the public page reads it live). Raises Conflict when already revoked,
    InvalidInput without a reason."""
    reason = " ".join(reason.split())
    if not reason:
        raise InvalidInput(_("Reason: say why the pass is revoked."))
    # Lock the pass: two revocations at once record one reason and one time.
    work_pass = WorkPass.objects.select_for_update().get(pk=work_pass.pk)
    if work_pass.status == WorkPass.Status.REVOKED:
        raise Conflict(_("Pass %(number)s is already revoked."), number=work_pass.number)
    work_pass.status = WorkPass.Status.REVOKED
    work_pass.revoked_at = now or timezone.now()
    work_pass.revoked_reason = reason[:200]
    save_audited(work_pass, by=by, reason="work_pass_revoke")
    return work_pass


def work_pass_pdf(work_pass: WorkPass, verify_url: str) -> bytes:
    """One A6 card: title, holder, team, compound, validity, number and the verification QR.

    The holder's name is printed in full (the card is shown with a face); the phone never is.
    """
    volunteer = work_pass.volunteer
    buffer = io.BytesIO()
    width, height = landscape(A6)
    canvas = new_canvas(buffer, (width, height), work_pass.number)
    margin = 8 * mm
    canvas.setLineWidth(1.2)
    canvas.rect(margin / 2, margin / 2, width - margin, height - margin)
    canvas.setFont(CJK, 18)
    canvas.drawCentredString(width / 2, height - margin - 14, "保供人员工作证")
    qr_size = 42 * mm
    draw_qr(canvas, verify_url, width - margin - qr_size, margin, qr_size)
    text_width = width - 2 * margin - qr_size - 4 * mm
    lines = [
        (_t("Holder"), volunteer.name),
        (_t("Team"), str(Volunteer.Team(volunteer.team).label)),
        (_t("Compound"), volunteer.compound.name),
        (_t("Valid"), f"{work_pass.valid_from:%Y-%m-%d} — {work_pass.valid_to:%Y-%m-%d}"),
        (_t("Issued by"), work_pass.authority),
    ]
    y = height - margin - 42
    for label, value in lines:
        canvas.setFont(CJK, 11)
        canvas.drawString(margin + 2, y, fit(f"{label}：{value}", 11, text_width))
        y -= 17
    canvas.setFont(LATIN_BOLD, 14)
    canvas.drawString(margin + 2, margin + 6, work_pass.number)
    canvas.setFont(CJK, 7)
    canvas.drawString(margin + 2, margin + 24, _t("Scan the code to check the pass is valid."))
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()
