from __future__ import annotations

import io
from decimal import Decimal

import pytest
from openpyxl import Workbook

from baogong.core.errors import NotAllowed, NotFound
from baogong.orders.models import Order
from baogong.payments import services, statements
from baogong.payments.models import Payment, Statement, StatementLine
from baogong.payments.statement_file import StatementFileError, read_statement

PREAMBLE = "微信支付账单明细\n起始时间：[2022-04-01 00:00:00] 终止时间：[2022-04-07 23:59:59]\n\n"
HEADING = "交易时间,交易类型,交易对方,商品,收/支,金额(元),交易单号,备注\n"


def csv_file(*rows: str) -> bytes:
    return (PREAMBLE + HEADING + "".join(r + "\n" for r in rows)).encode("utf-8-sig")


def row(
    time="2022-04-05 10:00:00", payer="王**", amount="¥88.00", ref="", remark="", direction="收入"
) -> str:
    return f"{time},转账,{payer},转账,{direction},{amount},{ref},{remark}"


def state_of(order: Order) -> str:
    return Order.objects.get(pk=order.pk).payment_state


def lines(statement: Statement) -> list[tuple[int, str]]:
    return list(statement.lines.order_by("row_number").values_list("row_number", "match_state"))


def test_read_statement_finds_the_heading_and_reports_bad_rows_by_number():
    parsed = read_statement(
        csv_file(
            row(ref="4200001"),
            row(time="yesterday", ref="4200002"),
            row(amount="-88.00", ref="4200003"),
            row(amount="0", ref="4200004"),
            row(amount="12.345", ref="4200005"),
            row(direction="支出", ref="4200006"),
            row(amount="", ref="4200007"),
            ",,,,,,,",
        )
    )
    assert [r.row_number for r in parsed.rows] == [5]
    assert parsed.rows[0].amount == Decimal("88.00")
    assert parsed.rows[0].paid_at.utcoffset().total_seconds() == 8 * 3600
    reasons = dict(parsed.rejected)
    assert sorted(reasons) == [6, 7, 8, 9, 10, 11]
    assert "yesterday" in reasons[6]
    assert reasons[7] == "the amount must be more than zero"
    assert reasons[9] == "the amount has more than two decimal places"
    assert reasons[10] == "an outgoing payment, not money received"
    assert reasons[11] == "the amount is missing"


def test_read_statement_refuses_a_file_without_heading():
    with pytest.raises(StatementFileError):
        read_statement("名字,电话\n张三,170\n".encode())
    with pytest.raises(StatementFileError):
        read_statement(b"")


def test_read_statement_reads_excel():
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["支付宝交易明细"])
    sheet.append(["时间", "金额", "付款人", "备注"])
    sheet.append(["2022-04-05 09:30", 39.9, "李四", "3号楼502"])
    sheet.append(["2022-04-05 09:31", "三十元", "王五", ""])
    sheet.append([None, 10, "赵六", ""])
    buffer = io.BytesIO()
    workbook.save(buffer)
    parsed = read_statement(buffer.getvalue())
    assert [(r.row_number, r.amount, r.payer) for r in parsed.rows] == [
        (3, Decimal("39.90"), "李四")
    ]
    assert parsed.rejected == [(4, "“三十元” is not an amount"), (5, "the time is missing")]


def test_import_matches_by_amount_and_pickup_code(money):
    a, b, c, d = money.orders
    data = csv_file(
        row(ref="4200001", remark=f"取货码{a.pickup_code}"),
        row(ref="4200002", remark=b.pickup_code.lower(), amount="50.00"),  # code, wrong amount
        row(ref="4200003", remark="3号楼"),  # amount only: nobody to tell apart
        row(ref="4200004", remark="bad", amount="x"),
    )
    result = statements.statement_import(
        supplier=money.supplier, data=data, filename="微信.csv", by=money.supplier_user
    )
    assert result.created
    assert lines(result.statement) == [(5, "matched"), (6, "ambiguous"), (7, "unmatched")]
    assert result.counts["rejected"] == 1
    assert result.statement.rejected_rows[0][0] == 8
    assert state_of(a) == Order.PaymentState.PAID
    payment = Payment.objects.get(order=a)
    assert (payment.method, payment.provider_reference, payment.state) == (
        "statement",
        "4200001",
        "confirmed",
    )
    assert payment.history.latest().history_user == money.supplier_user
    assert state_of(b) == state_of(c) == state_of(d) == Order.PaymentState.UNPAID


def test_import_confirms_the_residents_report_by_last_digits_or_name(money):
    a, b = money.orders[:2]
    report_a = services.payment_report(order=a, by=money.resident_of(0), reference="8812")
    report_b = services.payment_report(order=b, by=money.resident_of(1), payer_name="李秀兰")
    data = csv_file(row(ref="10000428812"), row(ref="4200009", payer="李秀兰"))
    statements.statement_import(
        supplier=money.supplier, data=data, filename="s.csv", by=money.supplier_user
    )
    for report in (report_a, report_b):
        report.refresh_from_db()
        assert report.state == Payment.State.CONFIRMED
    assert Payment.objects.count() == 2
    assert state_of(a) == state_of(b) == Order.PaymentState.PAID


def test_several_candidates_are_ambiguous(money):
    for i in (0, 1):
        services.payment_report(order=money.orders[i], by=money.resident_of(i), payer_name="张伟")
    result = statements.statement_import(
        supplier=money.supplier,
        data=csv_file(row(ref="4200010", payer="张伟")),
        filename="s.csv",
        by=money.supplier_user,
    )
    assert lines(result.statement) == [(5, "ambiguous")]
    assert Payment.objects.filter(state="confirmed").count() == 0


def test_the_same_file_twice_and_overlapping_files_change_nothing(money):
    a = money.orders[0]
    first = csv_file(row(ref="4200001", remark=a.pickup_code), row(ref="4200002"))
    one = statements.statement_import(
        supplier=money.supplier, data=first, filename="1.csv", by=money.supplier_user
    )
    again = statements.statement_import(
        supplier=money.supplier, data=first, filename="1.csv", by=money.supplier_user
    )
    assert not again.created and again.statement == one.statement
    overlapping = csv_file(row(ref="4200002"), row(ref="4200003", remark="x"))
    two = statements.statement_import(
        supplier=money.supplier, data=overlapping, filename="2.csv", by=money.supplier_user
    )
    assert lines(two.statement) == [(6, "unmatched")]
    assert two.statement.rejected_rows == [[5, "already imported from an earlier statement"]]
    assert StatementLine.objects.count() == 3
    assert Payment.objects.count() == 1
    # Rows without a transaction id are told apart by time, amount, payer and remark.
    no_ref = csv_file(row(payer="赵"), row(payer="赵"), row(payer="钱"))
    three = statements.statement_import(
        supplier=money.supplier, data=no_ref, filename="3.csv", by=money.supplier_user
    )
    assert three.statement.lines.count() == 3


def test_matching_twice_changes_nothing(money):
    a = money.orders[0]
    data = csv_file(row(ref="4200001", remark=a.pickup_code), row(ref="4200002"))
    result = statements.statement_import(
        supplier=money.supplier, data=data, filename="1.csv", by=money.supplier_user
    )
    before = (
        list(StatementLine.objects.values_list("pk", "match_state", "payment_id")),
        list(Payment.objects.values_list("pk", "amount", "state")),
        StatementLine.history.count(),
        Payment.history.count(),
    )
    statements.statement_match(statement=result.statement, by=money.supplier_user)
    after = (
        list(StatementLine.objects.values_list("pk", "match_state", "payment_id")),
        list(Payment.objects.values_list("pk", "amount", "state")),
        StatementLine.history.count(),
        Payment.history.count(),
    )
    assert before == after


def test_other_suppliers_cannot_import_or_review_and_orders_stay_apart(money):
    with pytest.raises(NotAllowed):
        statements.statement_import(
            supplier=money.supplier,
            data=csv_file(row(ref="1")),
            filename="s.csv",
            by=money.other_supplier_user,
        )
    with pytest.raises(NotAllowed):
        statements.statement_import(
            supplier=money.supplier, data=csv_file(row(ref="1")), filename="s.csv", by=money.liaison
        )
    # The other supplier's statement never matches this supplier's orders.
    a = money.orders[0]
    result = statements.statement_import(
        supplier=money.other_supplier,
        data=csv_file(row(ref="1", remark=a.pickup_code)),
        filename="s.csv",
        by=money.other_supplier_user,
    )
    assert lines(result.statement) == [(5, "unmatched")]
    line = result.statement.lines.get()
    with pytest.raises(NotFound):
        statements.statement_line_assign(line=line, order=a, by=money.other_supplier_user)
    with pytest.raises(NotAllowed):
        statements.statement_line_ignore(line=line, by=money.supplier_user)
    assert not Payment.objects.exists()


def test_review_assign_and_ignore(money):
    b = money.orders[1]
    data = csv_file(row(ref="4200001", amount="80.00", remark="501的"), row(ref="4200002"))
    result = statements.statement_import(
        supplier=money.supplier, data=data, filename="s.csv", by=money.supplier_user
    )
    first, second = result.statement.lines.order_by("row_number")
    assert b in statements.line_suggestions(second)
    statements.statement_line_assign(line=first, order=b, by=money.supplier_user)
    first.refresh_from_db()
    assert first.match_state == "matched"
    assert first.payment.amount == Decimal("80.00")
    assert state_of(b) == Order.PaymentState.UNPAID  # 8.00 still owed
    statements.statement_line_ignore(line=second, by=money.supplier_user, note="退款")
    second.refresh_from_db()
    assert (second.match_state, second.note) == ("ignored", "退款")
    from baogong.core.errors import Conflict

    with pytest.raises(Conflict):
        statements.statement_line_ignore(line=first, by=money.supplier_user)


def test_the_households_flat_in_the_remark_is_a_reference(money):
    a = money.orders[1]
    address = a.household.address.replace("单元", "单元 ")
    result = statements.statement_import(
        supplier=money.supplier,
        data=csv_file(row(ref="7", remark=f"{address}付款")),
        filename="s.csv",
        by=money.supplier_user,
    )
    assert lines(result.statement) == [(5, "matched")]
    assert state_of(a) == Order.PaymentState.PAID
