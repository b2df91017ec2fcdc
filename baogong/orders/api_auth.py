"""Platform API plumbing: bearer tokens, domain errors as JSON, idempotent writes.

Tokens: `secrets.token_urlsafe(32)`, shown once by `manage.py create_api_client`;
only their SHA-256 is stored, so a token is found by an indexed lookup of its
hash and never compared character by character against a secret.

Idempotency (the `Idempotency-Key` header): the key row is inserted in the same
transaction as the write it guards and holds that write's response. Two
identical requests at the same moment race on the unique (client, key) index:
on PostgreSQL the second INSERT … ON CONFLICT DO NOTHING waits until the first
transaction ends, then inserts nothing, and the second request reads the
committed row and replays its response, so the write runs once (ON CONFLICT
rather than a caught IntegrityError: no savepoint per request). If the first
request fails with an unexpected error (a 500), its transaction rolls back with
the key, and a retry runs afresh.
On SQLite write transactions are serialised (IMMEDIATE), which gives the same.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from collections.abc import Callable
from contextvars import ContextVar
from typing import Any

from django.db import connection, transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from ninja.security.http import HttpAuthBase

from baogong.core.errors import Conflict, DomainError, InvalidInput, NotAllowed, NotFound
from baogong.orders.errors import EmptyOrder, OrderRefused, UnknownOffer
from baogong.orders.models import ApiClient, IdempotencyKey
from baogong.orders.placing import hot_cursor
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
        # Every API request runs this: plain SQL, as the ORM spends longer compiling it.
        with hot_cursor() as cursor:
            cursor.execute(
                "SELECT c.id, c.supplier_id, c.name, c.token_prefix, c.token_hash "  # noqa: S608
                f"FROM {ApiClient._meta.db_table} c JOIN {Supplier._meta.db_table} s "
                "ON s.id = c.supplier_id "
                "WHERE c.token_hash = %s AND c.revoked_at IS NULL AND s.is_active",
                [digest],
            )
            row = cursor.fetchone()
        if row is None or not hmac.compare_digest(row[4], digest):
            return None
        pk, supplier_id, name, prefix, token_hash = row
        client = ApiClient(
            id=pk, supplier_id=supplier_id, name=name, token_prefix=prefix, token_hash=token_hash
        )
        client._state.adding, client._state.db = False, connection.alias
        return client


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


# The key row of the write running in this request (see record_response).
_pending: ContextVar[_KeyRow | None] = ContextVar("idempotency_key_row", default=None)


class _KeyRow:
    def __init__(self, pk: int) -> None:
        self.pk, self.recorded = pk, False

    def record(self, status: int, body: dict[str, Any]) -> None:
        response = IdempotencyKey._meta.get_field("response")
        with hot_cursor() as cursor:
            cursor.execute(
                f"UPDATE {IdempotencyKey._meta.db_table} "  # noqa: S608
                "SET status_code = %s, response = %s WHERE id = %s",
                [status, response.get_db_prep_save(body, connection), self.pk],
            )
        self.recorded = True


def record_response(status: int, body: dict[str, Any]) -> None:
    """Store the response of the write in progress now rather than after it returns.

    Order placement calls this before it takes the stock and round rows, so those
    hot rows stay locked only until the commit, not also through this UPDATE. If
    the write is refused later, the transaction rolls back and the refusal is
    stored instead. Without an Idempotency-Key there is nothing to store.
    """
    row = _pending.get()
    if row is not None:
        row.record(status, body)


def _replay(client: ApiClient, *, key: str, fingerprint: str) -> Outcome:
    stored = IdempotencyKey.objects.get(client=client, key=key)
    if not hmac.compare_digest(stored.request_hash, fingerprint):
        raise KeyReused()
    if stored.status_code == PENDING:  # never committed so; a hand-edited row
        raise Conflict()
    return stored.status_code, stored.response


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
    docstring. A refusal (a DomainError) rolls back everything the action wrote and
    is stored under the key in a transaction of its own.
    """
    if key is None:
        with transaction.atomic():
            try:
                return action()
            except DomainError as error:
                transaction.set_rollback(True)
                return error_status(error), error_body(error)
    if not (0 < len(key) <= KEY_MAX_LENGTH and key.isascii() and key.isprintable()):
        raise BadKey(length=KEY_MAX_LENGTH)
    with transaction.atomic():
        key_id = _claim_key(client, key=key, fingerprint=fingerprint)
        if key_id is None:
            return _replay(client, key=key, fingerprint=fingerprint)
        row = _KeyRow(key_id)
        token = _pending.set(row)
        try:
            status, body = action()
        except DomainError as error:
            refusal = error_status(error), error_body(error)
            transaction.set_rollback(True)  # the key row goes too; stored again below
        else:
            if not row.recorded:
                row.record(status, body)
            return status, body
        finally:
            _pending.reset(token)
    with transaction.atomic():
        key_id = _claim_key(client, key=key, fingerprint=fingerprint)
        if key_id is None:  # an identical request got there in between
            return _replay(client, key=key, fingerprint=fingerprint)
        _KeyRow(key_id).record(*refusal)
    return refusal


def _claim_key(client: ApiClient, *, key: str, fingerprint: str) -> int | None:
    """Insert the key's row (PENDING); None if the key exists. Waits on the unique index
    while an identical request is in flight, until that request's transaction ends."""
    row = IdempotencyKey(
        client_id=client.pk,
        key=key,
        request_hash=fingerprint,
        status_code=PENDING,
        response={},
        created_at=timezone.now(),
    )
    fields = [f for f in IdempotencyKey._meta.concrete_fields if not f.primary_key]
    with hot_cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {IdempotencyKey._meta.db_table} "  # noqa: S608
            f"({', '.join(f.column for f in fields)}) VALUES ({', '.join(['%s'] * len(fields))}) "
            "ON CONFLICT (client_id, key) DO NOTHING RETURNING id",
            [f.get_db_prep_save(getattr(row, f.attname), connection) for f in fields],
        )
        inserted = cursor.fetchone()
    return None if inserted is None else inserted[0]
