"""Let other apps' pages link to special-care records only for those who may open them."""

from __future__ import annotations

from django import template

from baogong.accounts.scoping import scope_for
from baogong.welfare import queries

register = template.Library()


@register.filter
def keeps_special_care(user, household) -> bool:
    """Whether `user` is community staff over `household` (may open its special-care records)."""
    scope = scope_for(user)
    return scope.superuser or any(
        household.building.path.startswith(p) for p in scope.paths_for(queries.DETAIL_ROLES)
    )
