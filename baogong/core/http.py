"""Small helpers every app's views share: domain errors as HTTP answers, htmx detection."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse

from baogong.core.errors import NotAllowed, NotFound


def domain_errors(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Answer NotFound with 404 and NotAllowed with 403."""

    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            return view(request, *args, **kwargs)
        except NotFound:
            raise Http404 from None
        except NotAllowed:
            raise PermissionDenied from None

    return wrapper


def is_htmx(request: HttpRequest) -> bool:
    """Whether htmx made this request (it then wants a partial template)."""
    return request.headers.get("HX-Request") == "true"
