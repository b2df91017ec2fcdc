from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction

from baogong.core.errors import Conflict, InvalidInput, NotAllowed
from baogong.requisitions import ledger
from baogong.requisitions.ledger import PriceSpec, ReceiptSpec
from baogong.requisitions.models import (
    AllocationOrder,
    DistributionEntry,
    Receipt,
    ReceiptLine,
    Settlement,
    Stock,
)

D = Decimal


def specs(order, **by_item):
    return {line.pk: by_item[line.item] for line in order.lines.all() if line.item in by_item}


def test_receipt_records_shortage_damage_and_rejection_with_reason(chain):
    order = chain.confirmed()
    lines = specs(
        order,
        大米=ReceiptSpec(delivered="18", damaged="1", rejected="1", reason="两袋破损受潮"),
        食用油=ReceiptSpec(delivered="10"),
    )
    receipt = ledger.receipt_record(order=order, lines=lines, by=chain.street_staff)
    rice = receipt.lines.get(allocation_line__item="大米")
    assert (rice.accepted, rice.shortage) == (D("16.00"), D("2.00"))
    assert Stock.objects.get(receipt_line=rice).on_hand == D("16.00")
    order.refresh_from_db()
    assert order.state == AllocationOrder.State.RECEIVED
    assert receipt.received_by == chain.street_staff


@pytest.mark.parametrize(
    ("spec", "text"),
    [
        (ReceiptSpec(delivered="15"), "reason for the shortage"),
        (ReceiptSpec(delivered="20", damaged="2"), "reason for the shortage"),
        (ReceiptSpec(delivered="25"), "give a reason to take more"),
        (ReceiptSpec(delivered="5", damaged="4", rejected="2", reason="x"), "cannot exceed"),
        (ReceiptSpec(delivered="-1"), "0 or more"),
        (ReceiptSpec(delivered="20", unit="kg"), "counted in kg but ordered in 袋"),
    ],
)
def test_receipt_refuses_bad_input_and_writes_nothing(chain, spec, text):
    order = chain.confirmed()
    with pytest.raises(InvalidInput, match=text):
        ledger.receipt_record(order=order, lines=specs(order, 大米=spec), by=chain.street_staff)
    assert not Receipt.objects.exists() and not Stock.objects.exists()


def test_over_receipt_with_an_explicit_reason_is_kept(chain):
    order = chain.confirmed()
    receipt = ledger.receipt_record(
        order=order,
        lines=specs(
            order, 大米=ReceiptSpec(delivered="22", over_receipt_reason="企业多送两袋备用")
        ),
        by=chain.street_staff,
    )
    assert receipt.lines.get().accepted == D("22.00")


def test_over_receipt_counts_earlier_deliveries(chain):
    order = chain.confirmed()
    ledger.receipt_record(
        order=order,
        lines=specs(order, 大米=ReceiptSpec(delivered="12", reason="分两批送")),
        by=chain.street_staff,
    )
    with pytest.raises(InvalidInput, match=r"more than the 20\.00 confirmed"):
        ledger.receipt_record(
            order=order, lines=specs(order, 大米=ReceiptSpec(delivered="9")), by=chain.street_staff
        )
    second = ledger.receipt_record(
        order=order, lines=specs(order, 大米=ReceiptSpec(delivered="8")), by=chain.street_staff
    )
    assert second.lines.get().shortage == D("0.00")


def test_receipt_retry_with_the_same_key_is_recorded_once(chain):
    order = chain.confirmed()
    lines = specs(order, 食用油=ReceiptSpec(delivered="10"))
    first = ledger.receipt_record(order=order, lines=lines, by=chain.street_staff, request_key="k1")
    again = ledger.receipt_record(order=order, lines=lines, by=chain.street_staff, request_key="k1")
    assert first.pk == again.pk and ReceiptLine.objects.count() == 1


def test_receipt_needs_a_confirmed_order_and_the_receiving_team(chain):
    order = chain.allocation()
    with pytest.raises(Conflict):
        ledger.receipt_record(order=order, lines={}, by=chain.street_staff)
    chain.confirmed(order)
    for who in ("other_street_staff", "community_staff", "bureau", "supplier_user"):
        with pytest.raises(NotAllowed):
            ledger.receipt_record(order=order, lines={}, by=getattr(chain, who))


def street_stock(chain, item="大米"):
    return Stock.objects.get(holder=chain.tree.street_a, receipt_line__allocation_line__item=item)


def test_distribution_moves_stock_down_and_ends_at_households(chain):
    chain.received()
    tree = chain.tree
    ledger.distribute(
        stock=street_stock(chain), quantity="8", to_area=tree.community_a, by=chain.street_staff
    )
    community_stock = Stock.objects.get(holder=tree.community_a)
    assert (community_stock.received, community_stock.on_hand) == (D("8.00"), D("8.00"))
    entry = ledger.distribute(
        stock=community_stock, quantity="1", to_household=tree.household_a, by=chain.community_staff
    )
    resident = tree.household_a.residents.first()
    ledger.distribute(
        stock=community_stock, quantity="2", to_resident=resident, by=chain.community_staff
    )
    community_stock.refresh_from_db()
    assert (community_stock.distributed, community_stock.on_hand) == (D("3.00"), D("5.00"))
    assert street_stock(chain).on_hand == D("12.00")
    assert entry.unit == "袋" and entry.history.first().history_user == chain.community_staff


def test_distribution_refuses_more_than_on_hand_and_bad_input(chain):
    chain.received()
    tree, stock = chain.tree, street_stock(chain)
    with pytest.raises(Conflict, match=r"Only 20\.00 袋 on hand"):
        ledger.distribute(
            stock=stock, quantity="21", to_area=tree.community_a, by=chain.street_staff
        )
    for bad in ("0", "-1", "x"):
        with pytest.raises(InvalidInput):
            ledger.distribute(
                stock=stock, quantity=bad, to_area=tree.community_a, by=chain.street_staff
            )
    with pytest.raises(InvalidInput, match="not kg"):
        ledger.distribute(
            stock=stock, quantity="1", unit="kg", to_area=tree.community_a, by=chain.street_staff
        )
    with pytest.raises(InvalidInput, match="somewhere within it"):
        ledger.distribute(
            stock=stock, quantity="1", to_household=tree.household_b, by=chain.street_staff
        )
    with pytest.raises(NotAllowed):
        ledger.distribute(
            stock=stock, quantity="1", to_area=tree.community_a, by=chain.other_street_staff
        )
    assert not DistributionEntry.objects.exists()
    assert street_stock(chain).on_hand == D("20.00")


def test_the_database_refuses_a_negative_stock(chain):
    chain.received()
    stock = street_stock(chain)
    with pytest.raises(IntegrityError), transaction.atomic():
        Stock.objects.filter(pk=stock.pk).update(on_hand=D("-1"), distributed=D("21"))


def test_settlement_prices_received_goods_and_counts_working_days(chain):
    order = chain.confirmed()
    ledger.receipt_record(
        order=order,
        lines=specs(
            order,
            大米=ReceiptSpec(delivered="18", reason="少送两袋"),
            食用油=ReceiptSpec(delivered="10"),
        ),
        by=chain.street_staff,
    )
    prices = specs(
        order,
        大米=PriceSpec("52.50", "区物价监测 2026-03-02"),
        食用油=PriceSpec("48.00", "区物价监测 2026-03-02"),
    )
    settlement = ledger.settlement_start(
        order=order, prices=prices, by=chain.bureau, started_on=dt.date(2026, 9, 25)
    )
    assert settlement.market_total == D("18") * D("52.50") + D("10") * D("48.00")
    assert settlement.order_total == D("28") * D("50.00")
    assert settlement.difference == D("25.00")
    # National Day and Mid-Autumn 2026: Sep 25 and Oct 1–7 off, Sep 20 and Oct 10 worked.
    assert settlement.due_on == dt.date(2026, 10, 22) and not settlement.due_provisional
    with pytest.raises(Conflict):
        ledger.settlement_start(order=order, prices=prices, by=chain.bureau)


def test_settlement_needs_prices_with_sources_and_the_right_people(chain):
    order = chain.received()
    line = order.lines.first()
    with pytest.raises(InvalidInput, match="where the market price comes from"):
        ledger.settlement_start(order=order, prices={line.pk: PriceSpec("1", "")}, by=chain.bureau)
    with pytest.raises(NotAllowed):
        ledger.settlement_start(order=order, prices={}, by=chain.community_staff)
    assert not Settlement.objects.exists()


def test_settlement_paid_by_the_using_unit_and_overdue_flag(chain, time_machine):
    order = chain.received()
    prices = {line.pk: PriceSpec("50", "询价") for line in order.lines.all()}
    settlement = ledger.settlement_start(
        order=order, prices=prices, by=chain.street_staff, started_on=dt.date(2026, 2, 10)
    )
    assert settlement.due_on == dt.date(2026, 3, 9)
    time_machine.move_to(dt.datetime(2026, 3, 9, 12, tzinfo=dt.UTC))
    assert not settlement.is_overdue
    time_machine.move_to(dt.datetime(2026, 3, 10, 12, tzinfo=dt.UTC))
    assert settlement.is_overdue
    with pytest.raises(NotAllowed):
        ledger.settlement_pay(
            settlement=settlement,
            paid_on=dt.date(2026, 3, 1),
            reference="x",
            by=chain.other_street_staff,
        )
    with pytest.raises(InvalidInput):
        ledger.settlement_pay(
            settlement=settlement, paid_on=dt.date(2026, 3, 1), reference=" ", by=chain.street_staff
        )
    ledger.settlement_pay(
        settlement=settlement,
        paid_on=dt.date(2026, 3, 1),
        reference="财付2026-88",
        by=chain.street_staff,
    )
    settlement.refresh_from_db()
    assert settlement.state == Settlement.State.PAID and not settlement.is_overdue


def test_provisional_due_dates_are_recomputed_when_the_calendar_learns_the_year(chain, monkeypatch):
    from io import StringIO

    from django.core.management import call_command

    from baogong.requisitions import workdays

    order = chain.received()
    prices = {line.pk: PriceSpec("50", "询价") for line in order.lines.all()}
    settlement = ledger.settlement_start(
        order=order, prices=prices, by=chain.bureau, started_on=dt.date(2026, 12, 21)
    )
    assert settlement.due_provisional and settlement.due_on == dt.date(2027, 1, 11)

    def knows_new_year(day):  # as if the package now had 2027: Jan 1 is a holiday
        if day == dt.date(2027, 1, 1):
            return False, True
        return day.weekday() < 5, True

    monkeypatch.setattr(workdays, "is_working_day", knows_new_year)
    out = StringIO()
    call_command("refresh_settlement_due_dates", stdout=out)
    settlement.refresh_from_db()
    assert "1 settlement" in out.getvalue()
    assert settlement.due_on == dt.date(2027, 1, 12) and not settlement.due_provisional
