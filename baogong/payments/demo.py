"""Demo data for payments: 武商's collection code, a reconciled round and one awaiting payment.

- 武商 puts up its collection QR code (a segno picture of a clearly fake payment link).
- Reconciled: last week's closed round (第2期). The resident reported paying with the last
  digits of the transfer; one household of a resident living alone is waived by the
  community; 武商 uploads its WeChat Pay statement, which matches most orders by pickup
  code or the resident's digits, leaves one transfer from a stranger to review, and one
  overpayment that 武商 matches by hand and refunds; at the (past) payment deadline the
  households that never paid are dropped and told.
- Waiting: 武商's extra round (加单) closed yesterday for households that have not ordered
  this week, payment deadline tomorrow: some paid, some handed cash to the building
  volunteer (to confirm), the rest not yet.

Idempotent: each part is made only when missing (the statement file is the same bytes
each run, so importing it again changes nothing), all through the services.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import io
from decimal import Decimal

from django.core.files.uploadedfile import SimpleUploadedFile
from django.db.models import Q
from django.utils import timezone

from baogong.accounts.models import User
from baogong.areas.models import Area, Household
from baogong.core.errors import DomainError
from baogong.orders.models import Order, Round, RoundArea
from baogong.orders.services import OfferSpec, order_place, round_create, round_transition
from baogong.payments import services, statements
from baogong.payments.models import Payment, Refund, Statement, Waiver
from baogong.supply.models import Package, Supplier

SUPPLIER = "武商"
RECONCILED_TITLE = "武商保供团购第2期"
WAITING_TITLE = "武商保供团购第3期加单"
STATEMENT_NAME = "微信支付账单(第2期).csv"
FAKE_PAYMENT_LINK = "https://pay.example.invalid/baogong-demo-not-a-real-payment-code"
WAITING_ORDERS = 24
# Payers as payment apps show them: the family name and stars.
PAYERS = ("王**", "李**", "张**", "刘**", "陈**", "杨**", "赵**", "黄**", "周**", "吴**")


def demo_payments(district: Area, *, phones: dict[str, str]) -> dict[str, int]:
    """Make whatever of the payments demo is missing; return what was made, by kind."""
    users = {u.phone: u for u in User.objects.filter(phone__in=phones.values())}
    people = {role: users.get(phone) for role, phone in phones.items()}
    supplier = Supplier.objects.filter(name=SUPPLIER).first()
    made = {"qr": 0, "statement": 0, "waiver": 0, "refund": 0, "dropped": 0, "waiting": 0}
    if supplier is None or people.get("supplier") is None:
        return made
    if not supplier.payment_qr:
        services.supplier_payment_qr_set(
            supplier=supplier, upload=_qr_picture(), by=people["supplier"]
        )
        made["qr"] = 1
    under = RoundArea.objects.filter(area__path__startswith=district.path).values("round")
    rounds = {r.title: r for r in Round.objects.filter(supplier=supplier, pk__in=under)}
    if RECONCILED_TITLE in rounds:
        _reconcile(rounds[RECONCILED_TITLE], supplier, people, made)
    if WAITING_TITLE not in rounds and RECONCILED_TITLE in rounds:
        _waiting_round(rounds[RECONCILED_TITLE], supplier, people, made)
    return made


def _qr_picture() -> SimpleUploadedFile:
    import segno

    out = io.BytesIO()
    segno.make(FAKE_PAYMENT_LINK, error="m").save(out, kind="png", scale=10, border=4)
    return SimpleUploadedFile("wx.png", out.getvalue(), content_type="image/png")


def _reconcile(round_: Round, supplier: Supplier, people: dict, made: dict[str, int]) -> None:
    if Statement.objects.filter(supplier=supplier, filename=STATEMENT_NAME).exists():
        return
    orders = list(
        Order.objects.filter(round=round_, state=Order.State.PLACED)
        .select_related("household")
        .order_by("pk")
    )
    if len(orders) < 6:
        return
    resident, staff = people.get("resident"), people.get("community_staff")
    own = [o for o in orders if resident is not None and o.household_id in _households(resident)]
    others = [o for o in orders if o not in own]
    if own:
        services.payment_report(order=own[0], by=resident, reference="8812")
    waived, overpaid, unpaid = others[0], others[1], others[-3:]
    if staff is not None and not Waiver.objects.filter(order=waived).exists():
        services.waiver_grant(
            order=waived, by=staff, amount=waived.amount_due, reason="独居老人，社区保供补贴"
        )
        made["waiver"] = 1
    paid = [o for o in others[2:] if o not in unpaid]
    when = round_.cutoff_at + dt.timedelta(hours=1)
    rows = []
    for index, order in enumerate(paid):
        # Most write the pickup code in the note; some only the building and room.
        remark = order.pickup_code if index % 5 else f"{order.household.address} 保供"
        rows.append((when, order.amount_due, PAYERS[index % len(PAYERS)], remark, index))
    if own:
        rows.append((when, own[0].amount_due, "居民", "", 8812))
    rows.append((when, overpaid.amount_due + Decimal("12.00"), "孙**", "多付了", 9001))
    rows.append((when, Decimal("20.00"), "钱**", "红包", 9002))
    # Part of an order paid: the code matches, the amount does not; 武商 has to look.
    rows.append((when, Decimal("50.00"), "周**", unpaid[0].pickup_code, 9003))
    result = statements.statement_import(
        supplier=supplier, data=_statement_csv(rows), filename=STATEMENT_NAME,
        by=people["supplier"],
    )  # fmt: skip
    made["statement"] = 1
    # 武商 finds the overpayment in the review list and matches it by pickup code.
    line = result.statement.lines.filter(reference__endswith="9001").first()
    if line is not None and line.match_state != line.Match.MATCHED:
        statements.statement_line_assign(line=line, order=overpaid, by=people["supplier"])
        services.refund_issue(
            order=overpaid, by=people["supplier"], reason=Refund.Reason.OVERPAID,
            note="多付12元，微信原路退回",
        )  # fmt: skip
        made["refund"] = 1
    # The stranger's transfer and the part payment stay for review; the deadline is past.
    made["dropped"] = services.round_payments_close(round_id=round_.pk)


def _statement_csv(rows: list[tuple]) -> bytes:
    """A WeChat Pay export, as its CSV looks (preamble, heading, one row per transfer)."""
    lines = [
        "微信支付账单明细",
        "微信昵称：[武商超市] 起始时间：[演示] 终止时间：[演示]",
        "",
        "交易时间,交易类型,交易对方,商品,收/支,金额(元),支付方式,当前状态,交易单号,备注",
    ]
    for when, amount, payer, remark, number in rows:
        time = timezone.localtime(when).strftime("%Y-%m-%d %H:%M:%S")
        reference = f"42000018{number:08d}"
        lines.append(f"{time},转账,{payer},{remark},收入,¥{amount},零钱,已收钱,{reference},/")
    return ("\n".join(lines) + "\n").encode("utf-8-sig")


def _households(user: User) -> set[int]:
    return set(user.grants.filter(household__isnull=False).values_list("household_id", flat=True))


def _waiting_round(
    reconciled: Round, supplier: Supplier, people: dict, made: dict[str, int]
) -> None:
    now = timezone.now()
    areas = list(reconciled.areas.all())
    offers = [
        OfferSpec(package, code)
        for code, package in zip(
            "AB", Package.objects.filter(supplier=supplier, is_active=True).order_by("pk")[:2],
            strict=False,
        )
    ]  # fmt: skip
    if not offers or not areas:
        return
    round_ = round_create(
        supplier=supplier,
        title=WAITING_TITLE,
        areas=areas,
        opens_at=now - dt.timedelta(days=2),
        cutoff_at=now - dt.timedelta(hours=20),
        payment_deadline=now + dt.timedelta(days=1),
        delivery_at=now + dt.timedelta(days=1, hours=6),
        offers=offers,
        by=None,
        delivery_note="各小区大门口，按楼栋错时领取",
    )
    round_transition(round_=round_, action="open", by=None)
    offer_id = round_.offers.order_by("position").values_list("pk", flat=True).first()
    staff, volunteer = people.get("community_staff"), people.get("volunteer")
    # The volunteer's building first, so some households can hand the volunteer cash.
    volunteer_paths = (
        [p for p in volunteer.grants.values_list("area__path", flat=True) if p]
        if volunteer is not None
        else []
    )
    under = Q(pk__in=[])
    for area in areas:
        under |= Q(building__path__startswith=area.path)
    households = sorted(
        Household.objects.filter(under)
        .exclude(orders__placed_at__gt=now - dt.timedelta(days=4))
        .select_related("building")
        .order_by("pk")[: WAITING_ORDERS * 4],
        key=lambda h: (not any(h.building.path.startswith(p) for p in volunteer_paths), h.pk),
    )
    when = now - dt.timedelta(days=1, hours=12)
    placed = []
    for household in households:
        if len(placed) >= WAITING_ORDERS:
            break
        try:
            placed.append(
                order_place(
                    round_=round_, household=household, lines={offer_id: 1},
                    channel=Order.Channel.PROXY, by=staff, now=when,
                )
            )  # fmt: skip
        except DomainError:
            continue
    round_transition(round_=round_, action="close", by=None, reason="截单时间已到")
    made["waiting"] = len(placed)
    for index, order in enumerate(placed):
        order = Order.objects.select_related("round", "household__building", "compound").get(
            pk=order.pk
        )
        payer = PAYERS[index % len(PAYERS)]
        # Cash to the volunteer waits for confirmation; the volunteer has only their building.
        with contextlib.suppress(DomainError):
            if index % 3 == 0 and volunteer is not None:
                services.payment_record(
                    order=order,
                    by=volunteer,
                    amount=order.amount_due,
                    method=Payment.Method.CASH,
                    payer_name=payer,
                )
            elif index % 3 == 1 and staff is not None:
                services.payment_record(
                    order=order,
                    by=staff,
                    amount=order.amount_due,
                    method=Payment.Method.MANUAL,
                    payer_name=payer,
                )
