"""The payment pages in the permission matrix (tests/test_permission_matrix.py)."""

from __future__ import annotations

import io
from decimal import Decimal

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from PIL import Image

from baogong.accounts.models import Role
from baogong.orders.models import Order
from baogong.payments.models import Payment, Refund, Statement, StatementLine
from baogong.supply.models import Supplier

COLLECT = {
    Role.DISTRICT_ADMIN,
    Role.STREET_STAFF,
    Role.COMMUNITY_STAFF,
    Role.LIAISON,
    Role.SUPPLIER,
}
WAIVE = {Role.DISTRICT_ADMIN, Role.STREET_STAFF, Role.COMMUNITY_STAFF}
QR_NAME = "payment_qr/permission-matrix.png"


def _qr_image() -> str:
    """One small PNG shared by every test run (MEDIA_ROOT is var/, outside the repository)."""
    if not default_storage.exists(QR_NAME):
        out = io.BytesIO()
        Image.new("RGB", (8, 8), "white").save(out, "PNG")
        return default_storage.save(QR_NAME, ContentFile(out.getvalue()))
    return QR_NAME


def build(side) -> dict:
    """A reported payment, a refund owed back (an overpayment) and a statement line."""
    order: Order = side.order
    supplier: Supplier = side.supplier
    # On the shared instance too: another app's build() may save the supplier after this.
    supplier.payment_qr = _qr_image()
    Supplier.objects.filter(pk=supplier.pk).update(payment_qr=supplier.payment_qr.name)
    payment = Payment.objects.create(
        order=order,
        supplier=supplier,
        amount=order.amount_due,
        method=Payment.Method.RESIDENT_REPORT,
        reference="4821",
    )
    Payment.objects.create(
        order=order,
        supplier=supplier,
        amount=Decimal("100.00"),
        method=Payment.Method.MANUAL,
        state=Payment.State.CONFIRMED,
    )
    refund = Refund.objects.create(order=order, amount=Decimal("1.00"), reason="overpaid")
    statement = Statement.objects.create(
        supplier=supplier, filename="s.csv", file_sha256="0" * 64, rows_count=1
    )
    line = StatementLine.objects.create(
        statement=statement,
        supplier=supplier,
        row_number=2,
        paid_at=order.placed_at,
        amount=Decimal("5.00"),
        fingerprint="ref:matrix",
    )
    return {"payment": payment, "refund": refund, "statement": statement, "line": line}


TARGETS = {
    "payments:order_pay": ("get", lambda s: {"pk": s.order.pk}, {Role.RESIDENT}),
    # Those who pay the supplier or may see it (supply.queries.suppliers_visible_to).
    # Street staff see it too, but the matrix's earlier supply:assignment_remove takes the
    # supplier off their street in the same loop; tests/payments/test_views.py covers them.
    "payments:qr_image": (
        "get",
        lambda s: {"pk": s.supplier.pk},
        {
            Role.RESIDENT, Role.SUPPLIER, Role.DISTRICT_ADMIN, Role.COMMUNITY_STAFF,
            Role.LIAISON, Role.VOLUNTEER, Role.BUREAU_STAFF,
        },
    ),
    "payments:round_payments": ("get", lambda s: {"pk": s.round.pk}, COLLECT),
    "payments:order_detail": ("get", lambda s: {"pk": s.order.pk}, COLLECT | {Role.VOLUNTEER}),
    "payments:payment_record": ("get", lambda s: {"pk": s.order.pk}, COLLECT | {Role.VOLUNTEER}),
    "payments:waiver_grant": ("get", lambda s: {"pk": s.order.pk}, WAIVE),
    "payments:refund_issue": ("get", lambda s: {"pk": s.order.pk}, COLLECT),
    "payments:payment_action": (
        "post",
        lambda s: {"pk": s.extra["payment"].pk, "action": "confirm"},
        COLLECT,
    ),
    "payments:refund_complete": ("post", lambda s: {"pk": s.extra["refund"].pk}, COLLECT),
    "payments:statement_upload": ("get", lambda s: {"pk": s.supplier.pk}, {Role.SUPPLIER}),
    "payments:statement_detail": (
        "get", lambda s: {"pk": s.extra["statement"].pk}, {Role.SUPPLIER}
    ),
    "payments:line_resolve": ("post", lambda s: {"pk": s.extra["line"].pk}, {Role.SUPPLIER}),
    "payments:money_report": ("get", lambda s: {"pk": s.round.pk}, COLLECT),
    "payments:money_report_export": ("get", lambda s: {"pk": s.round.pk}, COLLECT),
    "payments:supplier_report": ("get", lambda s: {"pk": s.supplier.pk}, {Role.SUPPLIER}),
    "payments:supplier_qr": ("get", lambda s: {"pk": s.supplier.pk}, {Role.SUPPLIER}),
}  # fmt: skip
# The rounds list of payments:home is scoped like orders:round_list (tested in test_views).
NOT_OBJECT_SCOPED = {"payments:home"}
