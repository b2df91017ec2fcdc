"""Who may plan free distributions, and which ones a user reaches (views and tests read it)."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from baogong.accounts.scoping import REGISTER_ROLES, Scope
from baogong.core.errors import NotAllowed, NotFound
from baogong.distributions.models import Distribution

# Street and community staff plan for their area; district admins for the district.
PLAN_ROLES = REGISTER_ROLES


def distributions_for(scope: Scope, roles: frozenset[str] = PLAN_ROLES) -> QuerySet[Distribution]:
    """Distributions organised within the user's area for `roles`."""
    qs = Distribution.objects.select_related("organiser", "allocation_order")
    if scope.superuser:
        return qs
    paths = scope.paths_for(roles)
    if not paths:
        return qs.none()
    q = Q()
    for path in paths:
        q |= Q(organiser__path__startswith=path)
    return qs.filter(q)


def distribution_for(scope: Scope, pk, roles: frozenset[str] = PLAN_ROLES) -> Distribution:
    """The distribution if the user reaches it, else NotFound (an outsider learns nothing)."""
    try:
        return distributions_for(scope, roles).get(pk=pk)
    except (Distribution.DoesNotExist, ValueError, TypeError):
        raise NotFound() from None


def require_planner(scope: Scope) -> None:
    if not scope.has_any(PLAN_ROLES):
        raise NotAllowed()
