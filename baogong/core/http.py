"""Small helpers every app's views share: domain errors as HTTP answers, htmx detection,
one-time form keys."""

from __future__ import annotations

import functools
import uuid
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


def form_key(request: HttpRequest) -> str | None:
    """The posted form's one-time key (the hidden input `request_key`): a service given it
    writes a double-submitted or retried form once."""
    key = request.POST.get("request_key", "").strip()
    return key[:40] if key else None


def new_form_key(request: HttpRequest) -> str:
    """The key to render into a form: the posted one when the form is shown again with
    its errors (a corrected resubmission is still the same form), else a fresh one."""
    return form_key(request) or uuid.uuid4().hex
