"""Who may do what in the requisition chain, as data (views, navigation and tests read it)."""

from __future__ import annotations

from baogong.accounts.models import Role
from baogong.accounts.scoping import Scope
from baogong.areas.models import Area

# Community (village) staff raise requisitions for their community.
RAISE_ROLES = frozenset({Role.COMMUNITY_STAFF})
# The street office's supply group reviews, consolidates and sends requests on.
STREET_ROLES = frozenset({Role.STREET_STAFF})
# The commerce bureau approves requests, issues allocation orders and settles.
BUREAU_ROLES = frozenset({Role.BUREAU_STAFF})
# The receiving team where the goods arrive keeps the receipt and distribution ledgers.
RECEIVE_ROLES = frozenset({Role.STREET_STAFF, Role.COMMUNITY_STAFF})
# Settlement: the bureau and the paying street office (谁使用、谁结算).
SETTLE_ROLES = frozenset({Role.BUREAU_STAFF, Role.STREET_STAFF})
# Who sees the chain within their subtree.
VIEW_ROLES = frozenset(
    {Role.DISTRICT_ADMIN, Role.STREET_STAFF, Role.COMMUNITY_STAFF, Role.BUREAU_STAFF}
)


def reaches(scope: Scope, roles: frozenset[str], area: Area) -> bool:
    """Whether one of the user's grants with `roles` covers `area` (the node or above it)."""
    return scope.superuser or any(area.path.startswith(p) for p in scope.paths_for(roles))
