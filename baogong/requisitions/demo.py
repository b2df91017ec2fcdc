"""Demo requisitions at every stage of the chain, in the demo street and community.

The demo community staff (…0004) raise, the street staff (…0003) review and
consolidate, the bureau (…0007) approves, allocates and settles, and 武商's
contact (…0008) confirms — all through the same services as the pages. One
chain is settled and paid, one settlement is overdue. Idempotent: nothing is
added when the demo street already has requisitions.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.utils import timezone

from baogong.accounts.models import Role, RoleGrant, User
from baogong.areas.models import Area, Resident
from baogong.requisitions import ledger, prices, services
from baogong.requisitions.models import Requisition, Stock
from baogong.supply.models import Supplier


def S(
    item: str,
    spec: str,
    quantity: str,
    unit: str,
    reason: str = "",
    urgency: str = "normal",
    needs_note: str = "",
) -> services.LineSpec:
    return services.LineSpec(
        item=item,
        spec=spec,
        quantity=quantity,
        unit=unit,
        reason=reason,
        urgency=urgency,
        needs_note=needs_note,
    )


# What a community asks for in a lockdown week: staples first.
BASKETS = [
    [
        S("大米", "5kg/袋", "40", "袋", "封控小区居民断粮", "urgent", "独居老人12户"),
        S("食用油", "5L/桶", "20", "桶", "封控期间补充"),
    ],
    [S("鸡蛋", "30枚/盒", "60", "盒", "老人小孩营养"), S("挂面", "1kg/包", "80", "包")],
    [S("蔬菜包", "5kg/份", "120", "份", "三天未配送蔬菜", "critical")],
    [S("牛奶", "250ml×24/箱", "30", "箱", "孕妇、婴幼儿家庭")],
    [S("面粉", "5kg/袋", "25", "袋")],
    [S("大米", "10kg/袋", "30", "袋", "集中隔离点用"), S("矿泉水", "550ml×24/箱", "50", "箱")],
    [S("猪肉", "1kg/份", "100", "份", "供应紧张")],
    [S("方便面", "5连包", "60", "包")],
]
MARKET_PRICES = {
    "大米": "52.00",
    "食用油": "69.00",
    "鸡蛋": "26.00",
    "挂面": "6.50",
    "蔬菜包": "28.00",
    "牛奶": "58.00",
    "面粉": "24.00",
    "矿泉水": "22.00",
    "猪肉": "32.00",
    "方便面": "13.50",
}


def _user(phone: str) -> User | None:
    return User.objects.filter(phone=phone).first()


def demo_requisitions(district: Area, *, phones: dict[str, str], supplier_name: str) -> int:
    """Walk demo requisitions to each stage; return how many were made (0 when present)."""
    staff, street_staff = _user(phones["community"]), _user(phones["street"])
    bureau, supplier_user = _user(phones["bureau"]), _user(phones["supplier"])
    supplier = Supplier.objects.filter(name=supplier_name).first()
    if None in (staff, street_staff, bureau, supplier_user, supplier):
        return 0
    grant = (
        RoleGrant.objects.filter(
            user=staff, role=Role.COMMUNITY_STAFF, area__path__startswith=district.path
        )
        .select_related("area")
        .first()
    )
    if grant is None:
        return 0
    community, street = grant.area, grant.area.parent
    if Requisition.objects.filter(community__parent=street).exists():
        return 0
    # The demo community staff hold only their own community; the others in the street
    # are raised by the system (by=None), as if typed in from a phoned-in request.
    neighbours = list(street.children.exclude(pk=community.pk).order_by("name")[:2])
    today = timezone.localdate()

    def raise_(basket: int, where: Area = community) -> Requisition:
        return services.requisition_create(
            community=where,
            lines=BASKETS[basket],
            by=staff if where == community else None,
            submit=True,
        )

    def review(requisition: Requisition, reduce_first: bool = False) -> Requisition:
        decisions = {line.pk: services.Decision("approve") for line in requisition.lines.all()}
        if reduce_first:
            first = requisition.lines.first()
            decisions[first.pk] = services.Decision(
                "reduce",
                str((first.quantity * Decimal("0.8")).quantize(Decimal("1"))),
                "街道储备可先调剂一部分",
            )
        return services.requisition_review(
            requisition=requisition, decisions=decisions, by=street_staff
        )

    def request(*requisitions: Requisition, decide: bool = True):
        street_request = services.street_request_create(
            street=street, requisitions=list(requisitions), by=street_staff
        )
        services.street_request_submit(request=street_request, by=street_staff)
        if decide:
            services.street_request_decide(
                request=street_request,
                decisions={
                    line.pk: services.Decision("approve") for line in street_request.lines.all()
                },
                by=bureau,
            )
        return street_request

    def allocate(street_request, days_ago: int):
        day = today - dt.timedelta(days=days_ago)
        return services.allocation_issue(
            request=street_request,
            supplier=supplier,
            lines={
                line.pk: services.AllocationSpec(
                    line.bureau_quantity,
                    Decimal(MARKET_PRICES.get(line.item, "20")) - Decimal("1.00"),
                )
                for line in street_request.lines.all()
            },
            delivery_area=street,
            delivery_place=f"{street.name}办事处物资接驳点",
            delivery_at=timezone.now() + dt.timedelta(hours=4),
            contact_name="街道保供组",
            contact_phone="17010000003",
            by=bureau,
            allocation_date=day,
        )

    def confirm(order):
        return services.allocation_confirm(
            order=order,
            by=supplier_user,
            lines={line.pk: services.Confirmation(line.quantity) for line in order.lines.all()},
        )

    def receive(order, short: bool = False):
        specs = {}
        for number, line in enumerate(order.lines.all()):
            if short and number == 0:
                specs[line.pk] = ledger.ReceiptSpec(
                    delivered=line.quantity - 2, damaged="1", reason="少到2件，破损1件"
                )
            else:
                specs[line.pk] = ledger.ReceiptSpec(delivered=line.quantity)
        ledger.receipt_record(order=order, lines=specs, by=street_staff)

    def hand_out(order):
        for stock in Stock.objects.filter(receipt_line__receipt__order=order, holder=street):
            half = (stock.on_hand / 2).quantize(Decimal("1"))
            if half > 0:
                ledger.distribute(
                    stock=stock,
                    quantity=half,
                    to_area=community,
                    by=street_staff,
                    note="按社区需求分发",
                )
        households = list(
            Resident.objects.filter(
                household__building__path__startswith=community.path, special_group=True
            ).select_related("household__building")[:3]
        )
        for stock in Stock.objects.filter(receipt_line__receipt__order=order, holder=community):
            for resident in households:
                ledger.distribute(
                    stock=stock, quantity="1", to_resident=resident, by=staff, note="送货上门"
                )

    def settle(order, started_on: dt.date):
        district_area = street.parent
        price_specs = {}
        for line in order.lines.all():
            known = prices.market_price(line.item, line.unit, order.allocation_date, district_area)
            price_specs[line.pk] = (
                ledger.PriceSpec(*known)
                if known
                else ledger.PriceSpec(MARKET_PRICES.get(line.item, "20"), "商务局调拨当日询价记录")
            )
        return ledger.settlement_start(
            order=order, prices=price_specs, by=bureau, started_on=started_on
        )

    made = 0
    # 1–3: a draft, one waiting for the street office, one reviewed and not yet sent on.
    services.requisition_create(community=community, lines=BASKETS[7], by=staff)
    raise_(4, neighbours[0] if neighbours else community)
    review(raise_(3))
    made += 3
    # 4: at the bureau.  5: approved, no allocation yet.
    request(review(raise_(2)), decide=False)
    request(review(raise_(6)))
    made += 2
    # 6: allocation issued, waiting for 武商.  7: confirmed, goods on the way.
    allocate(request(review(raise_(1))), days_ago=1)
    confirm(allocate(request(review(raise_(5))), days_ago=1))
    made += 2
    # 8: received with a shortage and partly handed out.
    order = confirm(allocate(request(review(raise_(0), reduce_first=True)), days_ago=6))
    receive(order, short=True)
    hand_out(order)
    # 9: settled and paid.  10: settlement overdue.
    paid = confirm(allocate(request(review(raise_(1))), days_ago=40))
    receive(paid)
    hand_out(paid)
    settlement = settle(paid, today - dt.timedelta(days=35))
    ledger.settlement_pay(
        settlement=settlement,
        paid_on=today - dt.timedelta(days=20),
        reference="财政支付凭证 2026-0456",
        by=street_staff,
    )
    late = confirm(allocate(request(review(raise_(3))), days_ago=45))
    receive(late)
    settle(late, today - dt.timedelta(days=40))
    made += 3
    return made
