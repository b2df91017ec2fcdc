"""Special-care records for staff and volunteers' apps (session sign-in, never API tokens).

Supplier and platform tokens cannot reach these endpoints at all; a signed-in
user gets only what queries.visible_cares allows, and every read is logged
like a page view.
"""

from __future__ import annotations

import datetime as dt

from django.http import HttpRequest
from django.utils import timezone
from ninja import Router, Schema
from ninja.security import django_auth

from baogong.accounts.scoping import scope_for
from baogong.welfare import queries

router = Router(auth=django_auth, tags=["special care"])


class NeedOut(Schema):
    id: int
    category: str
    item: str
    quantity: int
    state: str


class CareOut(Schema):
    id: int
    name: str
    phone: str
    compound: str
    address: str
    categories: list[str]
    mobility: str
    medicines: str
    language: str
    hearing: str
    emergency_name: str
    emergency_phone: str
    due_on: dt.date
    days_overdue: int
    open_needs: list[NeedOut]


class Error(Schema):
    code: str
    detail: str


def _out(care, today: dt.date) -> dict:
    household = care.household
    return {
        "id": care.pk,
        "name": care.resident.name,
        "phone": care.resident.phone or household.phone,
        "compound": household.compound.name,
        "address": household.address,
        "categories": care.categories,
        "mobility": care.mobility,
        "medicines": care.medicines,
        "language": care.language,
        "hearing": care.hearing,
        "emergency_name": care.emergency_name,
        "emergency_phone": care.emergency_phone,
        "due_on": care.due_on,
        "days_overdue": max((today - care.due_on).days, 0),
        "open_needs": [
            {
                "id": n.pk,
                "category": n.category,
                "item": n.item,
                "quantity": n.quantity,
                "state": n.state,
            }
            for n in care.needs.filter(state__in=queries.OPEN_NEED_STATES)
        ],
    }


@router.get("/welfare/calls", response={200: list[CareOut], 401: Error})
def welfare_calls(request: HttpRequest) -> list[dict]:
    """The signed-in volunteer's calls due today and overdue, in round-of-calls order."""
    scope = scope_for(request.user)
    today = timezone.localdate()
    rows = queries.call_list(queries.volunteer_cares(scope), today=today)
    queries.log_reads(request.user, [row.care for row in rows], view="api_calls")
    return [_out(row.care, today) for row in rows]


@router.get("/welfare/care/{care_id}", response={200: CareOut, 401: Error, 404: Error})
def welfare_care(request: HttpRequest, care_id: int) -> dict:
    """One special-care record, if the signed-in user may read it (the read is logged)."""
    care = queries.care_for(scope_for(request.user), care_id, view="api_detail")
    return _out(care, timezone.localdate())
