"""The HTTP API: one NinjaAPI, each app's Router mounted here (OpenAPI at /api/docs).

Clients authenticate with `Authorization: Bearer <token>` (see
baogong/orders/api_auth.py); no session cookie is read, so CSRF does not apply.
Every error is JSON `{"code", "detail"}`: domain errors are mapped once here.
"""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.renderers import JSONRenderer

from baogong.core.errors import DomainError
from baogong.monitoring.api import router as monitoring_router
from baogong.orders.api import router as orders_router
from baogong.orders.api_auth import error_body, error_status
from baogong.orders.schemas import Ping
from baogong.requisitions.api import router as requisitions_router
from baogong.welfare.api import router as welfare_router


class Utf8JSON(JSONRenderer):
    """Chinese names and addresses as themselves, not \\u escapes (a third of the bytes)."""

    json_dumps_params = {"ensure_ascii": False}


api = NinjaAPI(
    renderer=Utf8JSON(),
    title="Baogong API",
    version="1",
    urls_namespace="api",
    description=(
        "For suppliers' and platforms' systems. Authenticate with `Authorization: Bearer "
        "<token>` (from `manage.py create_api_client`). Every POST needs an `Idempotency-Key` "
        "header (PUT and DELETE accept one): a retry with the same key and body gets the "
        'first response again and never a second order. Errors are `{"code", "detail"}`; '
        "409 means a well-formed request was refused (sold_out, cadence, round_not_open, "
        "over_limit, round_full, not_in_round_area), 422 means the request itself is wrong "
        "(invalid_input, household_not_found, ambiguous_address, unknown_offer, "
        "idempotency_key_reused)."
    ),
)


@api.get("/ping", response=Ping, auth=None, tags=["health"])
def ping(request: HttpRequest) -> Ping:
    """A trivial answer, for health checks and as the benchmark's baseline."""
    return Ping()


api.add_router("/", orders_router)
api.add_router("/", monitoring_router)
api.add_router("/", requisitions_router)
api.add_router("/", welfare_router)


def _error(request: HttpRequest, status: int, code: str, detail: str, **extra) -> HttpResponse:
    return api.create_response(request, {"code": code, "detail": detail, **extra}, status=status)


@api.exception_handler(DomainError)
def _domain_error(request: HttpRequest, error: DomainError) -> HttpResponse:
    return api.create_response(request, error_body(error), status=error_status(error))


@api.exception_handler(AuthenticationError)
def _unauthorized(request: HttpRequest, error: AuthenticationError) -> HttpResponse:
    response = _error(
        request,
        401,
        "unauthorized",
        _("Send a valid API token: Authorization: Bearer <token>."),
    )
    response["WWW-Authenticate"] = "Bearer"
    return response


@api.exception_handler(ValidationError)
def _invalid(request: HttpRequest, error: ValidationError) -> HttpResponse:
    return _error(
        request,
        422,
        "invalid_input",
        _("The request is not valid; see errors."),
        errors=error.errors,
    )


@api.exception_handler(Http404)
def _not_found(request: HttpRequest, error: Http404) -> HttpResponse:
    return _error(request, 404, "not_found", _("Not found."))


@api.exception_handler(HttpError)
def _http_error(request: HttpRequest, error: HttpError) -> HttpResponse:
    codes = {400: "bad_request", 405: "method_not_allowed", 429: "too_many_requests"}
    return _error(
        request, error.status_code, codes.get(error.status_code, "http_error"), str(error)
    )
