from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from baogong.accounts.models import Role
from baogong.accounts.scoping import (
    ACCOUNT_ADMIN_ROLES,
    BROWSE_ROLES,
    HOUSEHOLD_ROLES,
    PROXY_ROLES,
    REGISTER_ROLES,
    ROUND_ROLES,
    SPECIAL_CARE_ROLES,
    scope_for,
)
from baogong.monitoring.queries import MONITOR_ROLES
from baogong.notify.queries import CALL_LIST_ROLES, unread_label
from baogong.requisitions.access import VIEW_ROLES as REQUISITION_ROLES


def navigation(request: HttpRequest) -> dict[str, Any]:
    """The menu a user sees follows from their roles (the same tables the views check)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_items": []}
    scope = scope_for(user)
    items = []
    if scope.has_any(BROWSE_ROLES):
        items.append((reverse("areas:browse"), _("Areas")))
    if scope.has_any(HOUSEHOLD_ROLES):
        items.append((reverse("areas:household_search"), _("Find a household")))
    if scope.has_any(REGISTER_ROLES):
        items.append((reverse("areas:import"), _("Import register")))
    if scope.has_any(ACCOUNT_ADMIN_ROLES | REGISTER_ROLES):
        items.append((reverse("accounts:list"), _("Accounts")))
    if scope.has_any(ROUND_ROLES | PROXY_ROLES) or scope.supplier_ids:
        items.append((reverse("orders:round_list"), _("Ordering rounds")))
    if scope.has_any(BROWSE_ROLES) or scope.supplier_ids:
        items.append((reverse("supply:supplier_list"), _("Suppliers")))
    # Payments: suppliers and round staff confirm payments, reconcile, see the money report.
    if scope.has_any(ROUND_ROLES) or scope.supplier_ids:
        items.append((reverse("payments:home"), _("Payments")))
    # Transport: suppliers' and street teams' fleets, and the staff who meet trucks at sites.
    if scope.has_any(ROUND_ROLES) or scope.supplier_ids:
        items.append((reverse("fulfilment:trip_list"), _("Trips and passes")))
    # Special care: staff who keep or watch the two lists, volunteers who make the calls.
    if scope.has_any(SPECIAL_CARE_ROLES):
        items.append((reverse("welfare:home"), _("Special care")))
    # Emergency requisitions: staff see the chain's overview, enterprises their allocation orders.
    if scope.has_any(REQUISITION_ROLES):
        items.append((reverse("requisitions:dashboard"), _("Supply requests")))
    elif scope.supplier_ids:
        items.append((reverse("requisitions:allocation_list"), _("Allocation orders")))
    # Free distributions: street and community staff plan them for their area.
    if scope.has_any(REGISTER_ROLES):
        items.append((reverse("distributions:list"), _("Free distributions")))
    # Market monitoring: staff who watch outlets' stock and prices; suppliers file reports.
    if scope.has_any(MONITOR_ROLES):
        items.append((reverse("monitoring:home"), _("Market monitoring")))
    elif scope.supplier_ids:
        items.append((reverse("monitoring:reporting"), _("Daily stock reports")))
    # Deliveries (last mile): gate receipt, handover and follow-up for round staff and volunteers.
    if scope.has_any(ROUND_ROLES | {Role.VOLUNTEER}):
        items.append((reverse("lastmile:delivery_list"), _("Deliveries")))
    # Volunteers: the register, shifts and passes for staff; door deliveries for volunteers.
    if scope.has_any(REGISTER_ROLES | {Role.LIAISON}):
        items.append((reverse("lastmile:volunteer_home"), _("Volunteers")))
    if scope.has_any(frozenset({Role.VOLUNTEER})):
        items.append((reverse("lastmile:my_door_tasks"), _("My door deliveries")))
    if scope.has_any(frozenset({Role.RESIDENT})):
        items.append((reverse("orders:shop"), _("Order supplies")))
        items.append((reverse("orders:my_orders"), _("My orders")))
        items.append((reverse("areas:my_household"), _("My household")))
    # Notifications: the count is in the text; one COUNT on the (recipient, read_at) index,
    # run only when a page shows the menu (htmx fragments do not).
    items.append((reverse("notify:inbox"), unread_label(user)))
    if scope.has_any(CALL_LIST_ROLES):
        items.append((reverse("notify:call_list"), _("Messages to pass on")))
    return {"nav_items": items, "scope": scope}
