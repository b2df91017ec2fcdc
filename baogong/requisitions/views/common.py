"""Helpers the requisition pages share: scoped lookups, POST parsing, refusals on the page."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.http import HttpRequest

from baogong.accounts.scoping import Scope
from baogong.core.errors import NotAllowed, NotFound
from baogong.requisitions.access import VIEW_ROLES


def visible(qs: QuerySet, pk: Any) -> Any:
    """The row of a scoped queryset, else NotFound (an outsider learns nothing of it)."""
    try:
        return qs.get(pk=pk)
    except (qs.model.DoesNotExist, ValueError, TypeError):
        raise NotFound() from None


def require_viewer(scope: Scope) -> None:
    if not (scope.has_any(VIEW_ROLES) or scope.supplier_ids):
        raise NotAllowed()


def field(request: HttpRequest, name: str, default: str = "") -> str:
    return request.POST.get(name, default).strip()
