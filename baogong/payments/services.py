"""Payments, waivers, refunds and the payment deadline: every money write goes through here.

Locking (PostgreSQL): each service locks the order row (SELECT … FOR UPDATE) before
reading its money, so two confirmations, a waiver and a refund arriving together
see each other's rows and `Order.payment_state` follows the last of them. The
deadline drop locks the round first and then its orders in primary-key order; a
rejection after the deadline (which drops one order) locks round → order in the
same order, so the two cannot deadlock. Stock and the round's order count go back
with conditional UPDATEs (never read-modify-write), as when orders are placed.

Which orders are dropped at the deadline: placed orders with nothing paid and no
payment reported (UNPAID). An order whose household reported paying (CLAIMED) is
kept: the money may well have arrived and only the confirmation lags, and dropping
a household that paid is worse than delivering a bag that is paid late. The liaison
sees those orders as "to confirm"; rejecting such a claim after the deadline drops
the order there and then.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import secrets
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from PIL import Image, ImageOps, UnidentifiedImageError
from simple_history.utils import bulk_update_with_history

from baogong.accounts.scoping import scope_for
from baogong.core.errors import Conflict, InvalidInput, NotAllowed
from baogong.notify import services as notify_services
from baogong.orders.models import Offer, Order, OrderLine, Round
from baogong.payments import access
from baogong.payments.models import Payment, Refund, Waiver
from baogong.payments.money import ZERO
from baogong.payments.queries import order_money, owed_unpaid_orders

if TYPE_CHECKING:
    from django.core.files import File

    from baogong.accounts.models import User
    from baogong.supply.models import Supplier

MAX_AMOUNT = Decimal("99999999.99")
_REFERENCE = re.compile(r"^[0-9A-Za-z\-]{2,40}$")
# Rounds whose unpaid orders are dropped at the deadline: goods not on the truck yet.
DROPPABLE_ROUND_STATES = frozenset({Round.State.CLOSED, Round.State.CONFIRMED})


# --- helpers ---------------------------------------------------------------------------


def money_text(amount: Decimal) -> str:
    return f"{amount:.2f}"


def local_text(when: dt.datetime | None) -> str:
    return timezone.localtime(when).strftime("%Y-%m-%d %H:%M") if when else ""


def clean_amount(value: Any) -> Decimal:
    """A positive amount in yuan with at most two decimals, or InvalidInput."""
    try:
        amount = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        raise InvalidInput(_("Enter an amount in yuan, like 39.90.")) from None
    if not amount.is_finite() or amount <= 0:
        raise InvalidInput(_("The amount must be more than zero."))
    if amount > MAX_AMOUNT or amount != amount.quantize(Decimal("0.01")):
        raise InvalidInput(_("Enter an amount in yuan with at most two decimals, like 39.90."))
    return amount.quantize(Decimal("0.01"))


def lock_order(pk: int) -> Order:
    # Serialises every money write of one order (see module docstring).
    return (
        Order.objects.select_for_update(of=("self",))
        .select_related("round", "compound", "household__building")
        .get(pk=pk)
    )


def _tell(
    kind: str, *, order_id: int, household_id: int, context: dict[str, str], key: str
) -> None:
    """Tell the order's household, in this transaction (notify writes outbox rows)."""
    notify_services.send(
        kind,
        households=[household_id],
        context=context,
        dedupe_key=key,
        link=reverse("payments:order_pay", args=[order_id]),
    )


def set_payment_state(order: Order, *, by: User | None, reason: str) -> None:
    """Set `order.payment_state` from its payments, waivers and refunds (order row locked)."""
    if order.state != Order.State.PLACED:
        return
    money = order_money(order)
    if money.covered:
        state = (
            Order.PaymentState.WAIVED
            if money.waived_applied > ZERO and money.net_received == ZERO
            else Order.PaymentState.PAID
        )
    elif order.payments.filter(state=Payment.State.REPORTED).exists():
        state = Order.PaymentState.CLAIMED
    else:
        state = Order.PaymentState.UNPAID
    if state != order.payment_state:
        order.payment_state = state
        order._history_user = by
        order._change_reason = reason
        order.save(update_fields=["payment_state", "updated_at"])


def save_audited(obj: Any, *, by: User | None, reason: str, **kwargs: Any) -> None:
    obj._history_user = by
    obj._change_reason = reason
    obj.save(**kwargs)


# --- payments --------------------------------------------------------------------------


@transaction.atomic
def payment_report(*, order: Order, by: User, payer_name: str = "", reference: str = "") -> Payment:
    """Record the household's "I have paid" (payer name and/or the transaction's last digits).

    The order becomes CLAIMED until the supplier or liaison confirms. Reporting again
    while the first report is unconfirmed corrects that report instead of adding one.
    Raises NotAllowed (not the user's household), Conflict (order not to be paid) or
    InvalidInput (neither name nor digits, or digits that are not a reference).
    """
    payer_name = " ".join(payer_name.split())[:50]
    reference = reference.strip().replace(" ", "")
    if not payer_name and not reference:
        raise InvalidInput(_("Enter the payer's name or the last digits of the payment."))
    if reference and not _REFERENCE.match(reference):
        raise InvalidInput(_("The payment reference is the last 4 digits or the transaction id."))
    order = lock_order(order.pk)
    if not access.is_household_of(by, order):
        raise NotAllowed()
    if order.state != Order.State.PLACED:
        raise Conflict(_("This order is no longer going to be delivered; it cannot be paid."))
    money = order_money(order)
    if money.covered:
        raise Conflict(_("This order is already paid."))
    payment = order.payments.filter(
        state=Payment.State.REPORTED, method=Payment.Method.RESIDENT_REPORT
    ).first() or Payment(
        order=order, supplier_id=order.round.supplier_id, method=Payment.Method.RESIDENT_REPORT
    )
    payment.amount = money.unpaid
    payment.payer_name = payer_name
    payment.reference = reference
    payment.reported_by = by
    save_audited(payment, by=by, reason="reported by the resident")
    set_payment_state(order, by=by, reason="payment reported")
    return payment


@transaction.atomic
def payment_record(
    *,
    order: Order,
    by: User,
    amount: Any,
    method: str,
    payer_name: str = "",
    note: str = "",
) -> Payment:
    """Record money handed over in cash or paid some other way, by staff or a volunteer.

    Recorded by the supplier or round staff it counts as confirmed; recorded by a
    building volunteer (cash) it waits for their confirmation like a resident's report.
    """
    amount = clean_amount(amount)
    if method not in (Payment.Method.CASH, Payment.Method.MANUAL):
        raise InvalidInput(_("Choose how the money was paid."))
    order = lock_order(order.pk)
    if not access.may_take_cash(by, order):
        raise NotAllowed()
    confirmed = access.may_collect(by, order)
    if not confirmed and method != Payment.Method.CASH:
        raise NotAllowed()
    now = timezone.now()
    payment = Payment(
        order=order,
        supplier_id=order.round.supplier_id,
        amount=amount,
        method=method,
        payer_name=" ".join(payer_name.split())[:50],
        note=note.strip()[:200],
        reported_by=by,
        state=Payment.State.CONFIRMED if confirmed else Payment.State.REPORTED,
        confirmed_by=by if confirmed else None,
        confirmed_at=now if confirmed else None,
    )
    save_audited(payment, by=by, reason=f"recorded ({method})")
    set_payment_state(order, by=by, reason="payment recorded")
    return payment


@transaction.atomic
def payment_confirm(*, payment: Payment, by: User, amount: Any = None) -> Payment:
    """Confirm a reported payment (optionally at the amount actually received).

    Confirming twice does nothing more; a rejected payment cannot be confirmed.
    """
    order = lock_order(payment.order_id)
    payment = Payment.objects.get(pk=payment.pk)
    if not access.may_collect(by, order):
        raise NotAllowed()
    if payment.state == Payment.State.CONFIRMED:
        return payment
    if payment.state == Payment.State.REJECTED:
        raise Conflict(_("This payment was rejected; record a new one instead."))
    if amount not in (None, ""):
        payment.amount = clean_amount(amount)
    payment.state = Payment.State.CONFIRMED
    payment.confirmed_by = by
    payment.confirmed_at = timezone.now()
    save_audited(payment, by=by, reason="confirmed")
    set_payment_state(order, by=by, reason="payment confirmed")
    return payment


@transaction.atomic
def payment_reject(*, payment: Payment, by: User, reason: str = "") -> Payment:
    """Reject a reported payment that never arrived; rejecting twice does nothing more.

    After the round's payment deadline an order left unpaid by the rejection is dropped.
    """
    round_id = Order.objects.filter(pk=payment.order_id).values_list("round_id", flat=True).get()
    # Round before order, as the deadline drop locks them (see module docstring).
    round_ = Round.objects.select_for_update().get(pk=round_id)
    order = lock_order(payment.order_id)
    payment = Payment.objects.get(pk=payment.pk)
    if not access.may_collect(by, order):
        raise NotAllowed()
    if payment.state == Payment.State.REJECTED:
        return payment
    if payment.state == Payment.State.CONFIRMED:
        raise Conflict(_("A confirmed payment cannot be rejected; issue a refund instead."))
    payment.state = Payment.State.REJECTED
    payment.note = reason.strip()[:200]
    save_audited(payment, by=by, reason="rejected")
    set_payment_state(order, by=by, reason="payment rejected")
    if (
        round_.payments_closed_at is not None
        and order.payment_state == Order.PaymentState.UNPAID
        and round_.state in DROPPABLE_ROUND_STATES
    ):
        _drop_orders(round_, [order], by=by)
    return payment


# --- waivers and refunds -------------------------------------------------------------


@transaction.atomic
def waiver_grant(*, order: Order, by: User, amount: Any, reason: str) -> Waiver:
    """Waive or subsidise part or all of what an order still owes (community staff and above).

    Raises InvalidInput for a missing reason or an amount above what is still owed.
    """
    amount = clean_amount(amount)
    reason = " ".join(reason.split())[:200]
    if not reason:
        raise InvalidInput(_("Give the reason for the waiver."))
    order = lock_order(order.pk)
    if not access.may_waive(by, order):
        raise NotAllowed()
    if order.state != Order.State.PLACED:
        raise Conflict(_("Only an order that is going to be delivered can be waived."))
    money = order_money(order)
    if amount > money.owed:
        raise InvalidInput(
            _("At most %(max)s yuan can still be waived on this order."),
            max=money_text(money.owed),
        )
    waiver = Waiver(order=order, amount=amount, reason=reason, granted_by=by)
    save_audited(waiver, by=by, reason="waiver granted")
    set_payment_state(order, by=by, reason="waiver granted")
    return waiver


@transaction.atomic
def refund_issue(
    *,
    order: Order,
    by: User,
    reason: str,
    kind: str = Refund.Kind.REFUND,
    amount: Any = None,
    note: str = "",
) -> Refund:
    """Owe money back: refund due = received − refunded − (amount due − waived), never negative.

    `amount` defaults to the whole refund due and may not exceed it.
    """
    if reason not in Refund.Reason.values:
        raise InvalidInput(_("Choose why the money is refunded."))
    if kind not in Refund.Kind.values:
        raise InvalidInput(_("Choose a refund or a credit note."))
    order = lock_order(order.pk)
    if not access.may_collect(by, order):
        raise NotAllowed()
    due = order_money(order).refundable
    if due == ZERO:
        raise Conflict(_("Nothing is owed back on this order."))
    amount = due if amount in (None, "") else clean_amount(amount)
    if amount > due:
        raise InvalidInput(
            _("At most %(max)s yuan is owed back on this order."), max=money_text(due)
        )
    refund = Refund(
        order=order, amount=amount, reason=reason, kind=kind, note=note.strip()[:200], issued_by=by
    )
    save_audited(refund, by=by, reason="refund issued")
    set_payment_state(order, by=by, reason="refund issued")
    _tell(
        "refund_issued",
        order_id=order.pk,
        household_id=order.household_id,
        context={
            "round_title": order.round.title,
            "amount": money_text(amount),
            "reason": str(refund.get_reason_display()),
        },
        key=f"refund:{refund.pk}",
    )
    return refund


@transaction.atomic
def refund_complete(*, refund: Refund, by: User) -> Refund:
    """Mark a refund as paid out (or the credit as used); doing it twice does nothing more."""
    order = lock_order(refund.order_id)
    refund = Refund.objects.get(pk=refund.pk)
    if not access.may_collect(by, order):
        raise NotAllowed()
    if refund.state == Refund.State.COMPLETED:
        return refund
    refund.state = Refund.State.COMPLETED
    refund.completed_at = timezone.now()
    save_audited(refund, by=by, reason="refund paid out")
    return refund


# --- the payment deadline --------------------------------------------------------------


def _drop_orders(round_: Round, orders: list[Order], *, by: User | None) -> None:
    """Take orders off the delivery (round row locked): state, stock, count, the household told."""
    if not orders:
        return
    for order in orders:
        order.state = Order.State.DROPPED
    bulk_update_with_history(
        orders,
        Order,
        ["state"],
        default_user=by,
        default_change_reason="dropped for non-payment",
    )
    Order.objects.filter(pk__in=[o.pk for o in orders]).update(updated_at=timezone.now())
    released: dict[int, int] = {}
    for offer_id, quantity, cut in OrderLine.objects.filter(order__in=orders).values_list(
        "offer_id", "quantity", "cut_quantity"
    ):
        released[offer_id] = released.get(offer_id, 0) + quantity - cut
    # Offer rows in pk order, as order placement takes them (no deadlock).
    for offer_id in sorted(released):
        if released[offer_id]:
            Offer.objects.filter(pk=offer_id, sold__gte=released[offer_id]).update(
                sold=F("sold") - released[offer_id]
            )
    # orders_count is kept only for rounds with a capacity (see Round.orders_count).
    Round.objects.filter(
        pk=round_.pk, capacity__isnull=False, orders_count__gte=len(orders)
    ).update(
        orders_count=F("orders_count") - len(orders)
    )
    for order in orders:
        _tell(
            "order_dropped",
            order_id=order.pk,
            household_id=order.household_id,
            context={"round_title": round_.title, "pickup_code": order.pickup_code},
            key=f"order_dropped:{order.pk}",
        )


@transaction.atomic
def round_payments_close(*, round_id: int, now: dt.datetime | None = None) -> int:
    """At the payment deadline drop the round's UNPAID orders; return how many were dropped.

    Does nothing before the deadline, for a round without one, for a round past
    confirmation or cancelled, and when it already ran (payments_closed_at is set).
    """
    now = now or timezone.now()
    # Lock the round: the task and the sweep command running together drop once.
    round_ = Round.objects.select_for_update().filter(pk=round_id).first()
    if (
        round_ is None
        or round_.payments_closed_at is not None
        or round_.payment_deadline is None
        or now < round_.payment_deadline
        or round_.state not in DROPPABLE_ROUND_STATES
    ):
        return 0
    orders = list(
        Order.objects.select_for_update()
        .filter(round=round_, state=Order.State.PLACED, payment_state=Order.PaymentState.UNPAID)
        .order_by("pk")
    )
    _drop_orders(round_, orders, by=None)
    round_.payments_closed_at = now
    save_audited(round_, by=None, reason="payment deadline", update_fields=["payments_closed_at"])
    return len(orders)


def rounds_payments_sweep(*, now: dt.datetime | None = None) -> int:
    """Close payments of every round past its deadline (the cron/command safety net)."""
    now = now or timezone.now()
    due = Round.objects.filter(
        payments_closed_at__isnull=True,
        payment_deadline__lte=now,
        state__in=DROPPABLE_ROUND_STATES,
    ).values_list("pk", flat=True)
    return sum(round_payments_close(round_id=pk, now=now) for pk in list(due))


@transaction.atomic
def round_payment_due_send(*, round_id: int) -> int:
    """Tell every household with an unpaid live order what it owes and by when (once each)."""
    round_ = Round.objects.get(pk=round_id)
    # Without a payment deadline, pay before the goods arrive; without either, nothing to say.
    deadline = round_.payment_deadline or round_.delivery_at
    if deadline is None:
        return 0
    sent = 0
    for pk, household_id, amount in owed_unpaid_orders(round_):
        if amount <= ZERO:
            continue
        _tell(
            "payment_due",
            order_id=pk,
            household_id=household_id,
            context={
                "round_title": round_.title,
                "amount": money_text(amount),
                "deadline": local_text(deadline),
            },
            key=f"payment_due:{pk}",
        )
        sent += 1
    return sent


# --- the supplier's collection QR code ---------------------------------------------------

QR_MAX_BYTES = 4 * 1024 * 1024
QR_MAX_PIXELS = 40_000_000
QR_MAX_SIDE = 1200


def supplier_payment_qr_set(*, supplier: Supplier, upload: File | None, by: User) -> Supplier:
    """Store the supplier's collection QR image (None removes it); its own users only.

    The picture is re-encoded as PNG (lossless: a blurred QR code does not scan), which
    also drops what a phone adds to a screenshot (EXIF, location).
    """
    scope = scope_for(by)
    if not (scope.superuser or supplier.pk in scope.supplier_ids):
        raise NotAllowed()
    content = _qr_png(upload) if upload is not None else None
    old = supplier.payment_qr.name
    if content is not None:
        supplier.payment_qr.save(f"{supplier.pk}-{secrets.token_hex(6)}.png", content, save=False)
    else:
        supplier.payment_qr = ""
    save_audited(supplier, by=by, reason="payment QR code changed")
    if old:
        storage = supplier.payment_qr.storage
        transaction.on_commit(lambda: storage.delete(old))
    return supplier


def _qr_png(upload: File) -> ContentFile:
    not_a_picture = _("The file is not a picture. Upload a screenshot of your payment code.")
    data = upload.read(QR_MAX_BYTES + 1)
    if len(data) > QR_MAX_BYTES:
        raise InvalidInput(_("The picture is too large; pictures up to 4 MB can be uploaded."))
    try:
        with Image.open(io.BytesIO(data)) as probe:
            if probe.width * probe.height > QR_MAX_PIXELS:
                raise InvalidInput(not_a_picture)
            probe.verify()
        with Image.open(io.BytesIO(data)) as image:
            picture = ImageOps.exif_transpose(image)
            picture.thumbnail((QR_MAX_SIDE, QR_MAX_SIDE))
            out = io.BytesIO()
            picture.convert("RGB").save(out, "PNG", optimize=True)
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        raise InvalidInput(not_a_picture) from None
    return ContentFile(out.getvalue(), name="payment-qr.png")
