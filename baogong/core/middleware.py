"""Browser-only middleware, skipped for API requests that authenticate with a token.

An API client sending `Authorization: Bearer <token>` and no session cookie has
no session, CSRF token, flash messages, login attempts or password to change:
sessions, CSRF, messages, simple_history's request context and the
password-change redirect would only cost it time (about a tenth of a millisecond
each, on the request every order placement makes). Each such middleware is
listed in settings.MIDDLEWARE through `browser_only(...)`; browsers (and the
session-authenticated API routes, such as special care, which send the session
cookie and no bearer token) still run every one of them, unchanged. Axes stays
as it is: its own check wants its dotted path in MIDDLEWARE, and for a request
that did not log in it costs one getattr.

A token request gets an anonymous `request.user`, as the authentication
middleware would have given it without a session; order history rows take their
user from `_history_user`, never from the request context.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.http import HttpRequest, HttpResponse
from django.urls import get_resolver
from django.utils.module_loading import import_string

_ATTR = "_baogong_token_api"


def is_token_api(request: HttpRequest) -> bool:
    """A token-authenticated API request (no session cookie), decided once per request."""
    decided = getattr(request, _ATTR, None)
    if decided is None:
        decided = (
            request.path_info.startswith("/api/")
            and request.headers.get("Authorization", "")[:7].lower() == "bearer "
            and settings.SESSION_COOKIE_NAME not in request.COOKIES
        )
        setattr(request, _ATTR, decided)
    return decided


_HOOKS = ("process_view", "process_exception", "process_template_response")


def _skipping(base: type, hook: str) -> Callable:
    def method(self, request: HttpRequest, *args):
        if is_token_api(request):
            return args[-1] if hook == "process_template_response" else None
        return getattr(base, hook)(self, request, *args)

    method.__name__ = hook
    return method


def _as_class(factory: Callable) -> type:
    class FunctionMiddleware:
        def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
            self.get_response = get_response
            self.inner = factory(get_response)

        def __call__(self, request: HttpRequest) -> HttpResponse:
            return self.inner(request)

    FunctionMiddleware.__name__ = factory.__name__
    return FunctionMiddleware


def browser_only(dotted_path: str) -> type:
    """A subclass of the middleware at `dotted_path` that token API requests bypass.

    A subclass, so Django's checks (admin.E408-E410) still find the middleware they
    require; Django collects process_view and the like from the instance, so those
    hooks are bypassed too.
    """
    base = import_string(dotted_path)
    if not isinstance(base, type):  # a function middleware (simple_history's)
        base = _as_class(base)

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if is_token_api(request):
            if not hasattr(request, "user"):
                request.user = AnonymousUser()
            return self.get_response(request)
        return base.__call__(self, request)

    namespace = {"__call__": __call__, "__module__": __name__, "__doc__": base.__doc__}
    namespace.update({hook: _skipping(base, hook) for hook in _HOOKS if hasattr(base, hook)})
    return type(base)(base.__name__, (base,), namespace)


# settings.MIDDLEWARE names these in place of the originals.
SessionMiddleware = browser_only("django.contrib.sessions.middleware.SessionMiddleware")
CsrfViewMiddleware = browser_only("django.middleware.csrf.CsrfViewMiddleware")
AuthenticationMiddleware = browser_only("django.contrib.auth.middleware.AuthenticationMiddleware")
MessageMiddleware = browser_only("django.contrib.messages.middleware.MessageMiddleware")
HistoryRequestMiddleware = browser_only("simple_history.middleware.HistoryRequestMiddleware")
PasswordChangeRequiredMiddleware = browser_only(
    "baogong.accounts.middleware.PasswordChangeRequiredMiddleware"
)


# --- answering the busiest token API route without the full stack ----------------------

FastView = Callable[..., HttpResponse | None]
_FAST_ROUTES: dict[tuple[str, str], tuple[re.Pattern[str], FastView]] = {}


def fast_route(method: str, pattern: str) -> Callable[[FastView], FastView]:
    """Register `view(request, **groups)` for token API requests whose path fully matches
    `pattern` (a regex of the whole path, `/api/...`): see TokenApiFastPath.

    The view returns an HttpResponse, or None to hand the request on to the full stack
    (URL resolution and django-ninja), which then answers it as it always does; so it
    returns None for anything unusual before it has written anything.
    """

    def register(view: FastView) -> FastView:
        _FAST_ROUTES[(method, pattern)] = (re.compile(pattern), view)
        return view

    return register


class TokenApiFastPath:
    """Answer a token API request on a fast_route without resolving its URL or running
    the middleware after this one and django-ninja's request and response machinery.

    Placing an order is the request a round's opening brings by the hundred per second;
    Django's URL resolution over every route and ninja's parameter models and response
    validation cost a tenth of its CPU. Listed near the end of settings.MIDDLEWARE, so
    the middleware before it (security headers, locale, ...) still runs for it; only
    axes, which has nothing to do for a request that does not log in, is skipped.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        # Load the URLconf now: the API modules register their fast routes on import.
        get_resolver().url_patterns  # noqa: B018

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if is_token_api(request):
            for (method, _pattern), (regex, view) in _FAST_ROUTES.items():
                if request.method == method and (match := regex.fullmatch(request.path_info)):
                    response = view(request, **match.groupdict())
                    if response is not None:
                        return response
                    break
        return self.get_response(request)
