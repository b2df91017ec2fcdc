from __future__ import annotations

from typing import TYPE_CHECKING

from django.db.models import Q, QuerySet

from baogong.accounts.models import RoleGrant
from baogong.accounts.scoping import scope_for
from baogong.accounts.services import GRANTABLE

if TYPE_CHECKING:
    from baogong.accounts.models import User

MANAGER_ROLES = frozenset(GRANTABLE)


def grants_managed_by(user: User) -> QuerySet[RoleGrant]:
    """Grants on nodes or households inside the subtrees where `user` may grant roles."""
    scope = scope_for(user)
    grants = RoleGrant.objects.select_related("user", "area", "household__building", "supplier")
    if scope.superuser:
        return grants.order_by("user__name", "pk")
    paths = scope.paths_for(MANAGER_ROLES)
    if not paths:
        return grants.none()
    q = Q()
    for path in paths:
        q |= Q(area__path__startswith=path) | Q(household__building__path__startswith=path)
    return grants.filter(q).exclude(user=user).order_by("user__name", "pk")
