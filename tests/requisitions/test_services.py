from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from baogong.core.errors import Conflict, InvalidInput, NotAllowed
from baogong.requisitions import services
from baogong.requisitions.models import (
    AllocationOrder,
    ApprovalStep,
    RequestSource,
    Requisition,
    RequisitionLine,
    StreetRequest,
)
from baogong.requisitions.services import Decision, LineSpec

D = Decimal


def test_requisition_create_draft_then_submit(chain):
    requisition = chain.requisition(submit=False)
    assert requisition.state == Requisition.State.DRAFT
    assert requisition.number.startswith(f"SQ-{timezone.localdate().year}-")
    services.requisition_submit(requisition=requisition, by=chain.community_staff)
    requisition.refresh_from_db()
    assert requisition.state == Requisition.State.SUBMITTED
    assert requisition.submitted_at is not None
    assert requisition.history.count() == 2
    assert requisition.history.first().history_user == chain.community_staff


@pytest.mark.parametrize("quantity", ["0", "-3", "abc", "", "1.234", "inf"])
def test_requisition_refuses_bad_quantities_and_writes_nothing(chain, quantity):
    with pytest.raises(InvalidInput, match="Line 1: the quantity"):
        chain.requisition(LineSpec(item="大米", quantity=quantity, unit="袋"))
    assert not Requisition.objects.exists() and not RequisitionLine.objects.exists()


def test_requisition_names_every_bad_line(chain):
    with pytest.raises(InvalidInput) as error:
        chain.requisition(
            LineSpec(item="", quantity="1", unit="袋"),
            LineSpec(item="油", quantity="2", unit=""),
            LineSpec(item="bad", quantity="x", unit="kg", urgency="whenever"),
        )
    message = error.value.message
    assert "Line 1: name the item" in message
    assert "Line 2: give the unit" in message
    assert "Line 3: the quantity" in message and "Line 3: unknown urgency" in message


@pytest.mark.parametrize(
    "who", ["street_staff", "other_community_staff", "bureau", "supplier_user"]
)
def test_only_the_communitys_staff_raise_and_submit(chain, who):
    with pytest.raises(NotAllowed):
        services.requisition_create(
            community=chain.tree.community_a,
            lines=[LineSpec(item="米", quantity="1", unit="袋")],
            by=getattr(chain, who),
        )
    draft = chain.requisition(submit=False)
    with pytest.raises(NotAllowed):
        services.requisition_submit(requisition=draft, by=getattr(chain, who))


def test_submit_twice_is_a_conflict(chain):
    requisition = chain.requisition()
    with pytest.raises(Conflict):
        services.requisition_submit(requisition=requisition, by=chain.community_staff)


def test_street_review_approves_reduces_and_rejects_with_reasons(chain):
    requisition = chain.requisition(
        LineSpec(item="大米", quantity="20", unit="袋"),
        LineSpec(item="油", quantity="10", unit="桶"),
        LineSpec(item="口罩", quantity="5", unit="盒"),
    )
    rice, oil, masks = requisition.lines.order_by("pk")
    services.requisition_review(
        requisition=requisition,
        decisions={
            rice.pk: Decision("approve"),
            oil.pk: Decision("reduce", "6", "库存紧张"),
            masks.pk: Decision("reject", reason="另有渠道"),
        },
        by=chain.street_staff,
    )
    requisition.refresh_from_db()
    assert requisition.state == Requisition.State.REVIEWED
    assert [line.street_quantity for line in requisition.lines.order_by("pk")] == [
        D("20.00"),
        D("6.00"),
        D("0.00"),
    ]
    steps = ApprovalStep.objects.filter(level="street").order_by("pk")
    assert [s.decision for s in steps] == ["approve", "reduce", "reject"]
    assert steps[1].reason == "库存紧张" and steps[1].decided_by == chain.street_staff


@pytest.mark.parametrize(
    ("decision", "text"),
    [
        (Decision("reduce", "6"), "give a reason for reducing"),
        (Decision("reduce", "20", "x"), "a reduced quantity must be"),
        (Decision("reduce", "0", "x"), "a reduced quantity must be"),
        (Decision("reject"), "give a reason for rejecting"),
        (None, "decide this line"),
    ],
)
def test_street_review_refuses_incomplete_decisions(chain, decision, text):
    requisition = chain.requisition(LineSpec(item="大米", quantity="20", unit="袋"))
    line = requisition.lines.get()
    decisions = {line.pk: decision} if decision else {}
    with pytest.raises(InvalidInput, match=text):
        services.requisition_review(
            requisition=requisition, decisions=decisions, by=chain.street_staff
        )
    assert not ApprovalStep.objects.exists()
    requisition.refresh_from_db()
    assert requisition.state == Requisition.State.SUBMITTED


def test_rejecting_every_line_rejects_the_requisition(chain):
    requisition = chain.requisition(LineSpec(item="大米", quantity="20", unit="袋"))
    services.requisition_review(
        requisition=requisition,
        decisions={requisition.lines.get().pk: Decision("reject", reason="重复申请")},
        by=chain.street_staff,
    )
    requisition.refresh_from_db()
    assert requisition.state == Requisition.State.REJECTED


@pytest.mark.parametrize("who", ["community_staff", "other_street_staff", "bureau"])
def test_only_the_street_office_reviews(chain, who):
    requisition = chain.requisition()
    with pytest.raises(NotAllowed):
        services.requisition_review(requisition=requisition, decisions={}, by=getattr(chain, who))


def test_consolidation_adds_up_lines_and_keeps_their_sources(chain, tree, user_with_role):
    from baogong.accounts.models import Role
    from tests.factories import make_area

    second = make_area("community", tree.street_a, "社区a2")
    second_staff = user_with_role(Role.COMMUNITY_STAFF, second)
    first = chain.reviewed()
    other = services.requisition_create(
        community=second,
        lines=[LineSpec(item="大米", spec="5kg装", quantity="7", unit="袋")],
        by=second_staff,
        submit=True,
    )
    chain.reviewed(other)
    request = services.street_request_create(
        street=tree.street_a, requisitions=[first, other], by=chain.street_staff
    )
    rice = request.lines.get(item="大米")
    assert rice.quantity == D("27.00")
    sources = {s.requisition_line.requisition_id: s.quantity for s in rice.source_rows.all()}
    assert sources == {first.pk: D("20.00"), other.pk: D("7.00")}
    assert set(Requisition.objects.values_list("state", flat=True)) == {"consolidated"}


def test_consolidation_refuses_units_that_do_not_match(chain, tree):
    first = chain.reviewed(chain.requisition(LineSpec(item="大米", quantity="20", unit="袋")))
    second = chain.reviewed(chain.requisition(LineSpec(item="大米", quantity="50", unit="kg")))
    with pytest.raises(InvalidInput, match="different units"):
        services.street_request_create(
            street=tree.street_a, requisitions=[first, second], by=chain.street_staff
        )
    assert not StreetRequest.objects.exists() and not RequestSource.objects.exists()


def test_consolidation_refuses_unreviewed_and_other_streets_requests(chain, tree):
    unreviewed = chain.requisition()
    with pytest.raises(Conflict):
        services.street_request_create(
            street=tree.street_a, requisitions=[unreviewed], by=chain.street_staff
        )
    with pytest.raises(NotAllowed):
        services.street_request_create(
            street=tree.street_a, requisitions=[chain.reviewed()], by=chain.other_street_staff
        )


def test_a_requisition_is_consolidated_once(chain, tree):
    reviewed = chain.reviewed()
    services.street_request_create(
        street=tree.street_a, requisitions=[reviewed], by=chain.street_staff
    )
    with pytest.raises(Conflict):
        services.street_request_create(
            street=tree.street_a, requisitions=[reviewed], by=chain.street_staff
        )


def test_bureau_decides_and_only_the_bureau(chain):
    request = chain.submitted_request()
    rice, oil = request.lines.order_by("pk")
    for who in ("street_staff", "community_staff"):
        with pytest.raises(NotAllowed):
            services.street_request_decide(request=request, decisions={}, by=getattr(chain, who))
    services.street_request_decide(
        request=request,
        decisions={rice.pk: Decision("reduce", "15", "先保障急需"), oil.pk: Decision("approve")},
        by=chain.bureau,
    )
    request.refresh_from_db()
    rice.refresh_from_db()
    assert request.state == StreetRequest.State.APPROVED
    assert rice.bureau_quantity == D("15.00")
    assert ApprovalStep.objects.filter(level="bureau").count() == 2


def test_allocation_issue_numbers_orders_and_respects_approved_quantities(chain):
    request = chain.approved_request()
    order = chain.allocation(request)
    assert order.number == "DB-2026-000001"
    assert order.payer == chain.tree.street_a
    assert order.lines.count() == 2
    request.refresh_from_db()
    assert request.state == StreetRequest.State.ALLOCATED
    line = request.lines.first()
    with pytest.raises(InvalidInput, match="approved and not yet allocated"):
        services.allocation_issue(
            request=request,
            supplier=chain.supplier,
            lines={line.pk: services.AllocationSpec("1", "10")},
            delivery_area=chain.tree.street_a,
            delivery_place="x",
            delivery_at=timezone.now(),
            contact_name="王",
            contact_phone="17000000000",
            by=chain.bureau,
            allocation_date=dt.date(2026, 3, 2),
        )
    assert AllocationOrder.objects.count() == 1


def test_allocation_issue_refuses_bad_input_and_outsiders(chain):
    request = chain.approved_request()
    line = request.lines.first()
    kwargs = {
        "request": request,
        "supplier": chain.supplier,
        "delivery_area": chain.tree.street_a,
        "delivery_place": "",
        "delivery_at": timezone.now(),
        "contact_name": "",
        "contact_phone": "",
    }
    with pytest.raises(InvalidInput) as error:
        services.allocation_issue(
            lines={line.pk: services.AllocationSpec("-1", "")}, by=chain.bureau, **kwargs
        )
    for text in ("delivery place", "contact name", "quantity must be above 0", "unit price"):
        assert text in error.value.message
    with pytest.raises(NotAllowed):
        services.allocation_issue(
            lines={line.pk: services.AllocationSpec("1", "1")}, by=chain.street_staff, **kwargs
        )
    with pytest.raises(InvalidInput, match="Deliver to the requesting street"):
        services.allocation_issue(
            lines={line.pk: services.AllocationSpec("1", "1")},
            by=chain.bureau,
            **{**kwargs, "delivery_area": chain.tree.community_b},
        )


def test_supplier_confirms_reports_shortfall_and_retry_is_harmless(chain):
    order = chain.allocation()
    rice, oil = order.lines.order_by("pk")
    with pytest.raises(InvalidInput, match="say why not all"):
        services.allocation_confirm(
            order=order,
            lines={rice.pk: services.Confirmation("10"), oil.pk: services.Confirmation("10")},
            by=chain.supplier_user,
        )
    lines = {rice.pk: services.Confirmation("12", "库存不足"), oil.pk: services.Confirmation("10")}
    services.allocation_confirm(order=order, lines=lines, by=chain.supplier_user)
    services.allocation_confirm(order=order, lines=lines, by=chain.supplier_user)
    order.refresh_from_db()
    rice.refresh_from_db()
    assert order.state == AllocationOrder.State.CONFIRMED
    assert rice.confirmed_quantity == D("12.00") and rice.shortfall_reason == "库存不足"
    with pytest.raises(Conflict):
        services.allocation_confirm(
            order=order,
            lines={rice.pk: services.Confirmation("11", "x"), oil.pk: services.Confirmation("10")},
            by=chain.supplier_user,
        )


def test_other_suppliers_and_staff_cannot_confirm(chain, user_with_role):
    from baogong.accounts.models import Role
    from baogong.supply.models import Supplier

    order = chain.allocation()
    rival = user_with_role(
        Role.SUPPLIER, Supplier.objects.create(name="别家", kind=Supplier.Kind.SUPERMARKET)
    )
    for user in (rival, chain.bureau, chain.street_staff):
        with pytest.raises(NotAllowed):
            services.allocation_confirm(order=order, lines={}, by=user)


def test_cancel_frees_the_lines(chain):
    order = chain.allocation()
    with pytest.raises(InvalidInput):
        services.allocation_cancel(order=order, by=chain.bureau, reason=" ")
    with pytest.raises(NotAllowed):
        services.allocation_cancel(order=order, by=chain.street_staff, reason="x")
    services.allocation_cancel(order=order, by=chain.bureau, reason="企业无货")
    order.refresh_from_db()
    assert order.state == AllocationOrder.State.CANCELLED
    again = chain.allocation(order.request)
    assert again.number == "DB-2026-000002"
