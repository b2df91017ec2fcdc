"""Chain and sheet lines matched to households and offers, previewed, then committed."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

import pytest
from django.utils import timezone, translation
from openpyxl import Workbook, load_workbook

from baogong.accounts.models import Role
from baogong.areas.models import Area
from baogong.core.errors import InvalidInput, NotAllowed
from baogong.orders import intake, services, sheet_intake
from baogong.orders.intake import Outcome, RowStatus
from baogong.orders.models import Offer, Order, OrderLine, Round
from tests.factories import HouseholdFactory, ResidentFactory, make_area


@pytest.fixture(autouse=True)
def english():
    """Assert on the English texts whatever translations exist."""
    with translation.override("en"):
        yield


@pytest.fixture
def flats(tree):
    """More flats in compound_a: 3号楼 1单元502 and 2单元503 beside household_a (2单元502),
    and B座1203 in a building without entrances."""
    b_seat = make_area(Area.Kind.BUILDING, tree.compound_a, "B座")
    return {
        "3-2-502": tree.household_a,
        "3-1-502": HouseholdFactory(
            building=tree.building_a, unit="1", room="502", phone="13900000001"
        ),
        "3-2-503": HouseholdFactory(
            building=tree.building_a, unit="2", room="503", phone="13900000002"
        ),
        "B-1203": HouseholdFactory(building=b_seat, unit="", room="1203", phone="13900000003"),
    }


@pytest.fixture
def wide_round(tree, supplier, packages):
    """An open round for both compounds (same addresses in each: 3号楼2单元502)."""
    now = timezone.now()
    round_ = services.round_create(
        supplier=supplier,
        title="两个小区",
        areas=[tree.compound_a, tree.compound_b],
        opens_at=now - dt.timedelta(hours=1),
        cutoff_at=now + dt.timedelta(days=1),
        offers=[services.OfferSpec(packages[0], "A"), services.OfferSpec(packages[1], "B")],
        by=None,
    )
    return services.round_transition(round_=round_, action="open", by=None)


def preview(round_, text, by=None):
    return intake.chain_preview(round_, text, by=by)


def by_line(result) -> dict[int, intake.IntakeRow]:
    return {row.number: row for row in result.rows}


def offer(round_, code) -> Offer:
    return Offer.objects.get(round=round_, code=code)


def snapshot(round_):
    """Everything a commit could change."""
    return (
        sorted(
            Order.objects.filter(round=round_).values_list(
                "pk", "household_id", "state", "amount_due", "updated_at", "channel"
            )
        ),
        sorted(
            OrderLine.objects.filter(order__round=round_).values_list("pk", "offer_id", "quantity")
        ),
        sorted(Offer.objects.filter(round=round_).values_list("pk", "sold")),
        Order.history.count(),
        Round.objects.get(pk=round_.pk).orders_count,
    )


# --- matching -------------------------------------------------------------------------------


def test_matched_lines_carry_household_lines_and_amount(open_round, flats):
    result = preview(open_round, "1. 3号楼2单元502 张阿姨 A套餐×2\n2、B座1203 赵 两份B")
    first, second = result.rows
    assert first.status == RowStatus.MATCHED and first.household.pk == flats["3-2-502"].pk
    assert first.lines == {offer(open_round, "A").pk: 2}
    assert first.amount == Decimal("176.00")
    assert second.household.pk == flats["B-1203"].pk
    assert second.status == RowStatus.UNMATCHED  # B is limited to one per household
    assert second.codes == ["over_limit"]
    assert "At most 1" in second.reason
    assert result.keepable_count == 1


@pytest.mark.parametrize("written", ["3号楼2单元502", "3-2-502", "3#2-502", "三号楼二单元502"])
def test_address_forms_find_the_household(open_round, flats, written):
    (row,) = preview(open_round, f"{written} A").rows
    assert row.status == RowStatus.MATCHED
    assert row.household.pk == flats["3-2-502"].pk


def test_an_address_without_entrance_matches_when_only_one_flat_has_that_room(open_round, flats):
    (row,) = preview(open_round, "3栋503 A").rows
    assert row.household.pk == flats["3-2-503"].pk
    (row,) = preview(open_round, "B座1203 A").rows
    assert row.household.pk == flats["B-1203"].pk


def test_an_ambiguous_address_is_rejected_with_the_candidates(open_round, flats):
    (row,) = preview(open_round, "3栋502 A").rows
    assert row.status == RowStatus.UNMATCHED
    assert row.codes == ["ambiguous"]
    assert "3号楼1单元502" in row.reason and "3号楼2单元502" in row.reason


def test_the_phone_tells_apart_an_ambiguous_address(open_round, flats):
    (row,) = preview(open_round, "3栋502 13900000001 A").rows
    assert row.status == RowStatus.MATCHED
    assert row.household.pk == flats["3-1-502"].pk


def test_a_resident_phone_also_identifies_the_household(open_round, flats):
    ResidentFactory(household=flats["3-1-502"], name="刘", phone="13700000009")
    (row,) = preview(open_round, "3栋502 刘 137 0000 0009 A").rows
    assert row.household.pk == flats["3-1-502"].pk


def test_same_address_in_two_compounds_is_ambiguous_until_phone_or_compound_name(wide_round, tree):
    tree.household_b.phone = "13600000006"
    tree.household_b.save()
    ambiguous, by_phone, by_name = preview(
        wide_round, "3-2-502 A\n3-2-502 13600000006 A\n小区a 3-2-502 B"
    ).rows
    assert ambiguous.codes == ["ambiguous"]
    assert "小区a" in ambiguous.reason and "小区b" in ambiguous.reason
    assert by_phone.household.pk == tree.household_b.pk
    assert by_name.household.pk == tree.household_a.pk


def test_a_phone_alone_finds_the_household(open_round, flats):
    (row,) = preview(open_round, "5. 王五 13900000002 A").rows
    assert row.status == RowStatus.MATCHED
    assert row.household.pk == flats["3-2-503"].pk


def test_reasons_for_lines_that_match_nothing(open_round, tree, flats):
    tree.household_b.phone = "13600000006"
    tree.household_b.save()
    rows = by_line(
        preview(
            open_round,
            "1. 9号楼1单元101 A\n2. 周 A\n3. 13600000006 A\n4. 3-2-502 C套餐\n"
            "5. 3-2-503 A*0\n6. 3-1-502 张",
        )
    )
    assert rows[1].codes == ["no_household"] and "9号楼1单元101" in rows[1].reason
    assert rows[2].codes == ["no_address"]
    assert rows[3].codes == ["not_in_round"]
    assert rows[4].codes == ["unknown_package"] and "C套餐" in rows[4].reason
    assert rows[5].codes == ["bad_quantity"]
    assert rows[6].codes == ["no_package"]
    assert all(row.status == RowStatus.UNMATCHED and not row.keepable for row in rows.values())


def test_households_outside_the_users_area_are_not_matched(wide_round, tree, user_with_role):
    liaison = user_with_role(Role.LIAISON, tree.compound_a)
    tree.household_b.phone = "13600000006"
    tree.household_b.save()
    mine, theirs = preview(wide_round, "3-2-502 小区a A\n3-2-502 13600000006 A", by=liaison).rows
    assert mine.status == RowStatus.MATCHED
    assert theirs.codes == ["outside_scope"]


def test_chatter_and_header_are_ignored_not_rejected(open_round, flats):
    result = preview(open_round, "#接龙\n第1期 A套餐 88元\n1. 3-2-502 A\n2. +1\n谢谢团长")
    assert result.counts == {"ignored": 4, "matched": 1}
    assert [row.number for row in result.shown_rows] == [3]


# --- duplicates and existing orders ---------------------------------------------------------


def test_the_later_line_for_a_household_is_kept(open_round, flats):
    rows = by_line(preview(open_round, "1. 3-2-502 A\n2. 3-2-503 B\n3. 3号楼2单元502 A×2"))
    assert rows[1].status == RowStatus.DUPLICATE and not rows[1].keepable
    assert "line 3" in rows[1].reason
    assert rows[3].status == RowStatus.MATCHED and rows[3].lines == {offer(open_round, "A").pk: 2}
    assert rows[2].status == RowStatus.MATCHED


def test_an_existing_order_is_shown_and_replaced_only_if_different(open_round, flats):
    services.order_place(
        round_=open_round,
        household=flats["3-2-502"],
        lines={offer(open_round, "A").pk: 1},
        channel=Order.Channel.SELF,
        by=None,
    )
    same, different = preview(open_round, "3-2-502 A\n3-2-503 B").rows
    assert same.status == RowStatus.ORDERED and same.same_as_existing and not same.keepable
    assert same.existing.pickup_code
    assert different.status == RowStatus.MATCHED
    (changed,) = preview(open_round, "3-2-502 A×2").rows
    assert changed.status == RowStatus.ORDERED and changed.keepable
    assert changed.codes == ["ordered_changed"] and "A×1" in changed.reason


# --- commit ----------------------------------------------------------------------------------

CHAIN = "#接龙\n1. 3号楼2单元502 张 A套餐×2\n2、3-2-503 李 两份A\n3. B座1203 赵 B\n4. 谢谢"


def test_commit_places_one_order_per_household_through_the_service(
    open_round, flats, user_with_role
):
    liaison = user_with_role(Role.LIAISON, flats["3-2-502"].compound)
    report = intake.intake_commit(
        preview(open_round, CHAIN, by=liaison), keep=None, channel=Order.Channel.CHAIN, by=liaison
    )
    assert report.counts == {"created": 3}
    orders = Order.objects.filter(round=open_round)
    assert orders.count() == 3
    assert set(orders.values_list("channel", "entered_by")) == {(Order.Channel.CHAIN, liaison.pk)}
    assert offer(open_round, "A").sold == 4 and offer(open_round, "B").sold == 1


def test_the_same_chain_twice_changes_nothing(open_round, flats):
    first = intake.intake_commit(
        preview(open_round, CHAIN), keep=None, channel=Order.Channel.CHAIN, by=None
    )
    assert first.counts == {"created": 3}
    before = snapshot(open_round)
    again = preview(open_round, CHAIN)
    assert again.keepable_count == 0
    second = intake.intake_commit(again, keep=None, channel=Order.Channel.CHAIN, by=None)
    assert second.counts == {"unchanged": 3}
    assert snapshot(open_round) == before


def test_committing_a_stale_preview_twice_is_still_a_no_op(open_round, flats):
    stale = preview(open_round, CHAIN)
    intake.intake_commit(stale, keep=None, channel=Order.Channel.CHAIN, by=None)
    before = snapshot(open_round)
    report = intake.intake_commit(stale, keep=None, channel=Order.Channel.CHAIN, by=None)
    assert report.counts == {"unchanged": 3}
    assert snapshot(open_round) == before


def test_a_changed_line_updates_the_order(open_round, flats):
    intake.intake_commit(preview(open_round, CHAIN), keep=None, channel="chain", by=None)
    report = intake.intake_commit(
        preview(open_round, CHAIN.replace("两份A", "一份A")), keep=None, channel="chain", by=None
    )
    assert report.counts == {"updated": 1, "unchanged": 2}
    order = Order.objects.get(round=open_round, household=flats["3-2-503"])
    assert list(order.lines.values_list("quantity", flat=True)) == [1]
    assert offer(open_round, "A").sold == 3


def test_unticked_rows_are_dropped(open_round, flats):
    result = preview(open_round, CHAIN)
    report = intake.intake_commit(result, keep={2}, channel="chain", by=None)
    assert report.counts == {"created": 1, "dropped": 2}
    assert list(Order.objects.values_list("household_id", flat=True)) == [flats["3-2-502"].pk]


def test_a_sold_out_row_is_refused_and_the_others_are_saved(open_round, flats):
    Offer.objects.filter(round=open_round, code="A").update(stock_cap=3)
    report = intake.intake_commit(preview(open_round, CHAIN), keep=None, channel="chain", by=None)
    outcomes = {r.row.number: r for r in report.results}
    assert outcomes[2].outcome == Outcome.CREATED
    assert outcomes[3].outcome == Outcome.REFUSED
    assert "Sold out" in outcomes[3].message
    assert outcomes[4].outcome == Outcome.CREATED
    assert not Order.objects.filter(household=flats["3-2-503"]).exists()
    assert not OrderLine.objects.filter(order__household=flats["3-2-503"]).exists()
    assert offer(open_round, "A").sold == 2


def test_a_closed_round_refuses_every_row_and_writes_nothing(open_round, flats):
    result = preview(open_round, CHAIN)
    services.round_transition(round_=open_round, action="close", by=None)
    before = snapshot(open_round)
    report = intake.intake_commit(result, keep=None, channel="chain", by=None)
    assert report.counts == {"refused": 3}
    assert "not taking orders" in report.results[0].message
    assert snapshot(open_round) == before


def test_someone_elsewhere_cannot_commit(open_round, flats, tree, user_with_role):
    outsider = user_with_role(Role.LIAISON, tree.compound_b)
    assert not intake.may_take_orders(outsider, open_round)
    with pytest.raises(NotAllowed):
        intake.round_for_intake(outsider, open_round.pk)
    with pytest.raises(NotAllowed):
        intake.intake_commit(preview(open_round, CHAIN), keep=None, channel="chain", by=outsider)
    assert not Order.objects.exists()


def test_staff_above_or_below_the_round_areas_may_take_orders(wide_round, tree, user_with_role):
    assert intake.may_take_orders(user_with_role(Role.STREET_STAFF, tree.street_a), wide_round)
    assert intake.may_take_orders(user_with_role(Role.VOLUNTEER, tree.building_a), wide_round)
    assert not intake.may_take_orders(user_with_role(Role.BUREAU_STAFF, tree.district), wide_round)


def test_an_empty_or_huge_paste_is_refused(open_round, monkeypatch):
    with pytest.raises(InvalidInput):
        preview(open_round, "  \n ")
    monkeypatch.setattr(intake, "CHAIN_MAX_LINES", 3)
    with pytest.raises(InvalidInput) as refused:
        preview(open_round, "a\nb\nc\nd")
    assert "at most 3" in refused.value.message


def test_the_digest_ignores_line_endings():
    assert intake.text_digest("a\r\nb") == intake.text_digest("a\nb")


# --- spreadsheets ----------------------------------------------------------------------------


def xlsx(rows: list[list]) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def test_the_template_lists_the_households_and_a_column_per_offer(open_round, flats):
    sheet = load_workbook(io.BytesIO(sheet_intake.order_template(open_round, by=None))).worksheets[
        0
    ]
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0] == ("楼栋", "单元", "房号", "联系电话", "A 米面粮油套餐", "B 蔬菜套餐", "备注")
    assert ("3号楼", "2", "502") in [row[:3] for row in rows[1:]]
    assert len(rows) == 1 + 4


def test_a_filled_template_is_read_with_excel_row_numbers(open_round, flats):
    data = xlsx(
        [
            ["第1期订单"],
            ["楼栋", "单元", "房号", "联系电话", "A 米面粮油套餐", "B 蔬菜套餐", "备注"],
            ["3号楼", "2", "502", "", 2, None, "放门口"],
            ["3号楼", "2", "503", "", None, None, ""],
            ["B座", "", "1203", "13900000003", "一", "1", ""],
            [None, None, None, None, None, None, None],
            ["9号楼", "1", "101", "", 1, 0, ""],
        ]
    )
    result = sheet_intake.sheet_preview(open_round, data, by=None)
    rows = by_line(result)
    assert sorted(rows) == [3, 5, 7]
    assert rows[3].status == RowStatus.MATCHED and rows[3].source.note == "放门口"
    assert rows[5].lines == {offer(open_round, "A").pk: 1, offer(open_round, "B").pk: 1}
    assert rows[7].codes == ["no_household"]
    assert result.skipped == 1


def test_sheet_commit_is_idempotent(open_round, flats):
    data = xlsx([["地址", "A", "B"], ["3号楼2单元502", 1, 1], ["3-2-503", 2, ""]])
    first = intake.intake_commit(
        sheet_intake.sheet_preview(open_round, data, by=None), keep=None, channel="excel", by=None
    )
    assert first.counts == {"created": 2}
    assert set(Order.objects.values_list("channel", flat=True)) == {Order.Channel.EXCEL}
    before = snapshot(open_round)
    second = intake.intake_commit(
        sheet_intake.sheet_preview(open_round, data, by=None), keep=None, channel="excel", by=None
    )
    assert second.counts == {"unchanged": 2}
    assert snapshot(open_round) == before


def test_bad_cells_reject_the_row_with_a_reason(open_round, flats):
    data = xlsx(
        [["楼栋", "单元", "房号", "A"], ["3号楼", "2", "五零二", 1], ["3号楼", "2", "503", "很多"]]
    )
    bad_room, bad_quantity = sheet_intake.sheet_preview(open_round, data, by=None).rows
    assert bad_room.codes == ["bad_address"]
    assert bad_quantity.codes == ["bad_quantity"] and "很多" in bad_quantity.reason


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "empty"),
        (b"building,room\n3,502\n", "not a spreadsheet"),
        (b"PK\x03\x04 broken zip", "could not be read"),
        (xlsx([["hello"], ["world"]]), "No heading row"),
        (xlsx([["楼栋", "房号", "水果"], ["3号楼", "502", 1]]), "names no package"),
        (xlsx([["楼栋", "房号", "A"]]), "no orders under it"),
    ],
)
def test_whole_file_problems_are_explained(open_round, data, message):
    with pytest.raises(sheet_intake.SheetError) as refused:
        sheet_intake.sheet_lines(open_round, data)
    assert message in refused.value.message


def test_a_file_too_big_is_refused_before_reading(open_round, settings):
    settings.IMPORT_MAX_BYTES = 100
    with pytest.raises(sheet_intake.SheetError) as refused:
        sheet_intake.check_sheet_size(101)
    assert "100" in refused.value.message


def test_unknown_columns_are_reported(open_round, flats):
    data = xlsx([["地址", "A", "水果"], ["3-2-502", 1, 3]])
    result = sheet_intake.sheet_preview(open_round, data, by=None)
    assert result.notes and "水果" in result.notes[0]


def test_a_mistyped_address_is_matched_by_the_phone_with_a_remark(open_round, flats):
    (row,) = preview(open_round, "3-2-509 13900000002 A").rows
    assert row.status == RowStatus.MATCHED
    assert row.household.pk == flats["3-2-503"].pk
    assert "found by the phone number" in row.reason and row.keepable
