"""Platform API plumbing: bearer tokens, domain errors as JSON, idempotent writes.

Tokens: `secrets.token_urlsafe(32)`, shown once by `manage.py create_api_client`;
only their SHA-256 is stored, so a token is found by an indexed lookup of its
hash and never compared character by character against a secret.

Idempotency (the `Idempotency-Key` header): the key row is inserted in the same
transaction as the write it guards and holds that write's response. Two
identical requests at the same moment race on the unique (client, key) index:
on PostgreSQL the second INSERT waits until the first transaction ends, then
fails, and the second request reads the committed row and replays its response,
so the write runs once. If the first request fails with an unexpected error
(a 500), its transaction rolls back with the key, and a retry runs afresh.
On SQLite write transactions are serialised (IMMEDIATE), which gives the same.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from collections.abc import Callable
from typing import Any

from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from ninja.security.http import HttpAuthBase

from baogong.core.errors import Conflict, DomainError, InvalidInput, NotAllowed, NotFound
from baogong.orders.errors import EmptyOrder, OrderRefused, UnknownOffer
from baogong.orders.models import ApiClient, IdempotencyKey
from baogong.supply.models import Supplier

TOKEN_BYTES = 32
KEY_MAX_LENGTH = 100  # IdempotencyKey.key
PENDING = 0  # status_code of a key row whose write has not finished (seen by no one else)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@transaction.atomic
def api_client_create(*, supplier: Supplier, name: str) -> tuple[ApiClient, str]:
    """Create a client and return it with its token; the token is not kept anywhere."""
    token = secrets.token_urlsafe(TOKEN_BYTES)
    client = ApiClient.objects.create(
        supplier=supplier,
        name=name.strip()[:100],
        token_hash=hash_token(token),
        token_prefix=token[:8],
    )
    return client, token


def api_client_revoke(client: ApiClient) -> ApiClient:
    """Revoke a client's token: its next request gets a 401. Revoking twice does nothing."""
    ApiClient.objects.filter(pk=client.pk, revoked_at__isnull=True).update(
        revoked_at=timezone.now()
    )
    client.refresh_from_db(fields=["revoked_at"])
    return client


class TokenAuth(HttpAuthBase):
    """`Authorization: Bearer <token>` → the ApiClient, or None (a 401)."""

    openapi_scheme = "bearer"

    def __call__(self, request: HttpRequest) -> ApiClient | None:
        # Not ninja's HttpBearer: that one logs a malformed header, token and all, in DEBUG.
        scheme, _space, token = request.headers.get("Authorization", "").partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token or len(token) > 200:
            return None
        digest = hash_token(token)
        try:
            client = ApiClient.objects.get(
                token_hash=digest, revoked_at__isnull=True, supplier__is_active=True
            )
        except ApiClient.DoesNotExist:
            return None
        return client if hmac.compare_digest(client.token_hash, digest) else None


# --- errors ----------------------------------------------------------------------------


class KeyReused(InvalidInput):
    code = "idempotency_key_reused"
    default_message = _(
        "This Idempotency-Key was already used for a different request; use a new key."
    )


class BadKey(InvalidInput):
    code = "invalid_idempotency_key"
    default_message = _(
        "The Idempotency-Key header must be 1 to %(length)s visible ASCII characters."
    )


def error_status(error: DomainError) -> int:
    """The HTTP status of a domain error: refusals of a well-formed request are 409."""
    if isinstance(error, NotAllowed):
        return 403
    if isinstance(error, NotFound):
        return 404
    if isinstance(error, InvalidInput | UnknownOffer | EmptyOrder):
        return 422
    if isinstance(error, OrderRefused | Conflict):
        return 409
    return 400


def error_body(error: DomainError) -> dict[str, str]:
    return {"code": error.code, "detail": error.message}


# --- idempotency -----------------------------------------------------------------------

Outcome = tuple[int, dict[str, Any]]


def request_fingerprint(request: HttpRequest, payload: Any) -> str:
    """Hash of what makes two requests the same: method, path and the parsed body."""
    canonical = json.dumps(
        [request.method, request.path, payload],
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
        default=str,
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def _run(action: Callable[[], Outcome]) -> Outcome:
    try:
        return action()
    except DomainError as error:
        # The service's own atomic block has rolled its writes back; the refusal is
        # an outcome like any other and is what a retry with this key gets back.
        return error_status(error), error_body(error)


def idempotent(
    client: ApiClient,
    *,
    key: str | None,
    fingerprint: str,
    action: Callable[[], Outcome],
) -> Outcome:
    """Run `action` once per (client, key) and return its (status, body) every time.

    Without a key the action simply runs. With a key used before: the same request
    gets the stored response; a different request gets KeyReused (422). The key row
    and the action's writes commit together; the race is explained in the module
    docstring.
    """
    if key is None:
        with transaction.atomic():
            return _run(action)
    if not (0 < len(key) <= KEY_MAX_LENGTH and key.isascii() and key.isprintable()):
        raise BadKey(length=KEY_MAX_LENGTH)
    with transaction.atomic():
        try:
            # Waits on the unique index while an identical request is in flight.
            with transaction.atomic():
                stored = IdempotencyKey.objects.create(
                    client=client,
                    key=key,
                    request_hash=fingerprint,
                    status_code=PENDING,
                    response={},
                )
        except IntegrityError:
            stored = IdempotencyKey.objects.get(client=client, key=key)
            if not hmac.compare_digest(stored.request_hash, fingerprint):
                raise KeyReused() from None
            if stored.status_code == PENDING:  # never committed so; a hand-edited row
                raise Conflict() from None
            return stored.status_code, stored.response
        status, body = _run(action)
        stored.status_code, stored.response = status, body
        stored.save(update_fields=["status_code", "response"])
        return status, body
