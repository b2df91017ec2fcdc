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
    scope_for,
)


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
    if scope.has_any(frozenset({Role.RESIDENT})):
        items.append((reverse("orders:shop"), _("Order supplies")))
        items.append((reverse("orders:my_orders"), _("My orders")))
        items.append((reverse("areas:my_household"), _("My household")))
    return {"nav_items": items, "scope": scope}
