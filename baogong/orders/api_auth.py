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
from functools import cache
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
        digest = bearer_digest(request)
        if digest is None:
            return None
        # Every API request runs this: plain SQL, as the ORM spends longer compiling it.
        with hot_cursor() as cursor:
            cursor.execute(_find_client_sql(), [digest])
            return _client(cursor.fetchone(), digest)


def bearer_digest(request: HttpRequest) -> str | None:
    """The SHA-256 of the request's bearer token, or None if it sends none (or a silly one)."""
    # Not ninja's HttpBearer: that one logs a malformed header, token and all, in DEBUG.
    scheme, _space, token = request.headers.get("Authorization", "").partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token or len(token) > 200:
        return None
    return hash_token(token)


@cache
def _client_sql() -> str:
    """`c`: the live client with this token hash (of an active supplier), as a CTE."""
    return (
        "WITH c AS (SELECT c.id, c.supplier_id, c.name, c.token_prefix, c.token_hash "  # noqa: S608
        f"FROM {ApiClient._meta.db_table} c JOIN {Supplier._meta.db_table} s "
        "ON s.id = c.supplier_id "
        "WHERE c.token_hash = %s AND c.revoked_at IS NULL AND s.is_active)"
    )


@cache
def _find_client_sql() -> str:
    return _client_sql() + " SELECT * FROM c"  # noqa: S608


def _client(row: tuple | None, digest: str) -> ApiClient | None:
    """The ApiClient of a `c` row (its first five columns), or None."""
    if row is None or not hmac.compare_digest(row[4], digest):
        return None
    client = ApiClient(
        id=row[0], supplier_id=row[1], name=row[2], token_prefix=row[3], token_hash=row[4]
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
# Gives a replayed response the key order of the first (a jsonb column sorts keys).
Shape = Callable[[Outcome], Outcome]


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


def record_response(status: int, body: dict[str, Any], *, stored: bool = False) -> None:
    """Store the response of the write in progress now rather than after it returns.

    Order placement calls this before it takes the stock and round rows, so those
    hot rows stay locked only until the commit, not also through this UPDATE. If
    the write is refused later, the transaction rolls back and the refusal is
    stored instead. Without an Idempotency-Key there is nothing to store.
    `stored`: the response is already in the key's row (written with the order,
    see placing.ResponseToStore), so nothing is left to write.
    """
    row = _pending.get()
    if row is None:
        return
    if stored:
        row.recorded = True
    else:
        row.record(status, body)


def pending_key_id() -> int | None:
    """The id of the key row of the write running in this request, if it has a key."""
    row = _pending.get()
    return None if row is None else row.pk


def _replay(
    client: ApiClient, *, key: str, fingerprint: str, shape: Shape | None = None
) -> Outcome:
    stored = IdempotencyKey.objects.get(client=client, key=key)
    if not hmac.compare_digest(stored.request_hash, fingerprint):
        raise KeyReused()
    if stored.status_code == PENDING:  # never committed so; a hand-edited row
        raise Conflict()
    outcome = stored.status_code, stored.response
    return outcome if shape is None else shape(outcome)


def idempotent(
    client: ApiClient,
    *,
    key: str | None,
    fingerprint: str,
    action: Callable[[], Outcome],
    shape: Shape | None = None,
) -> Outcome:
    """Run `action` once per (client, key) and return its (status, body) every time.

    Without a key the action simply runs. With a key used before: the same request
    gets the stored response; a different request gets KeyReused (422). The key row
    and the action's writes commit together; the race is explained in the module
    docstring. A refusal (a DomainError) rolls back everything the action wrote and
    is stored under the key in a transaction of its own. `shape` turns a stored
    response back into what the first response was (its keys in the same order).
    """
    if key is None:
        with transaction.atomic():
            try:
                return action()
            except DomainError as error:
                transaction.set_rollback(True)
                return error_status(error), error_body(error)
    _check_key(key)
    with transaction.atomic():
        key_id = _claim_key(client, key=key, fingerprint=fingerprint)
        outcome, refused = _run_claimed(
            client, key_id, key=key, fingerprint=fingerprint, action=action, shape=shape
        )
    return _store_refusal(client, key, fingerprint, outcome, shape) if refused else outcome


def idempotent_for_token(
    digest: str,
    *,
    key: str,
    fingerprint: str,
    action: Callable[[ApiClient, list[tuple]], Outcome],
    shape: Shape | None = None,
    read: tuple[str, list] = ("SELECT NULL", []),
) -> Outcome | None:
    """As `idempotent` with a key, for a client known only by its token's hash: the
    statement that finds the client also claims the key and runs the query `read`
    (sql, params), whose rows `action(client, rows)` gets: two round trips fewer on
    the order placement path. None when no live client has that token (nothing
    written)."""
    _check_key(key)
    with transaction.atomic():
        client, key_id, rows = _claim_key_by_token(
            digest, key=key, fingerprint=fingerprint, read=read
        )
        if client is None:
            return None
        outcome, refused = _run_claimed(
            client,
            key_id,
            key=key,
            fingerprint=fingerprint,
            action=lambda: action(client, rows),
            shape=shape,
        )
    return _store_refusal(client, key, fingerprint, outcome, shape) if refused else outcome


def _check_key(key: str) -> None:
    if not (0 < len(key) <= KEY_MAX_LENGTH and key.isascii() and key.isprintable()):
        raise BadKey(length=KEY_MAX_LENGTH)


def _run_claimed(
    client: ApiClient,
    key_id: int | None,
    *,
    key: str,
    fingerprint: str,
    action: Callable[[], Outcome],
    shape: Shape | None,
) -> tuple[Outcome, bool]:
    """Inside the key's transaction: replay (key_id None: the key existed), or run the
    action and store its response. Returns (outcome, refused): a refusal rolls the
    transaction back, to be stored by _store_refusal once it has ended."""
    if key_id is None:
        return _replay(client, key=key, fingerprint=fingerprint, shape=shape), False
    row = _KeyRow(key_id)
    token = _pending.set(row)
    try:
        status, body = action()
    except DomainError as error:
        transaction.set_rollback(True)  # the key row goes too; stored again by _store_refusal
        return (error_status(error), error_body(error)), True
    finally:
        _pending.reset(token)
    if not row.recorded:
        row.record(status, body)
    return (status, body), False


def _store_refusal(
    client: ApiClient, key: str, fingerprint: str, refusal: Outcome, shape: Shape | None
) -> Outcome:
    """Store a refusal that _run_claimed rolled back, under the key, in a transaction of its own."""
    with transaction.atomic():
        key_id = _claim_key(client, key=key, fingerprint=fingerprint)
        if key_id is None:  # an identical request got there in between
            return _replay(client, key=key, fingerprint=fingerprint, shape=shape)
        _KeyRow(key_id).record(*refusal)
    return refusal


def _key_row(client_id: int | None, key: str, fingerprint: str) -> IdempotencyKey:
    return IdempotencyKey(
        client_id=client_id,
        key=key,
        request_hash=fingerprint,
        status_code=PENDING,
        response={},
        created_at=timezone.now(),
    )


@cache
def _key_fields() -> list:
    return [f for f in IdempotencyKey._meta.concrete_fields if not f.primary_key]


def _claim_key(client: ApiClient, *, key: str, fingerprint: str) -> int | None:
    """Insert the key's row (PENDING); None if the key exists. Waits on the unique index
    while an identical request is in flight, until that request's transaction ends."""
    row = _key_row(client.pk, key, fingerprint)
    fields = _key_fields()
    with hot_cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {IdempotencyKey._meta.db_table} "  # noqa: S608
            f"({', '.join(f.column for f in fields)}) VALUES ({', '.join(['%s'] * len(fields))}) "
            "ON CONFLICT (client_id, key) DO NOTHING RETURNING id",
            [f.get_db_prep_save(getattr(row, f.attname), connection) for f in fields],
        )
        inserted = cursor.fetchone()
    return None if inserted is None else inserted[0]


@cache
def _claim_by_token_sql(vendor: str, read: str) -> str:
    fields = _key_fields()
    values = [
        "c.id" if f.attname == "client_id" else f"%s::{f.cast_db_type(connection)}" for f in fields
    ]
    # On SQLite a data-modifying CTE is not possible: the claim is a second statement.
    claim = (
        f", k AS (INSERT INTO {IdempotencyKey._meta.db_table} "  # noqa: S608
        f"({', '.join(f.column for f in fields)}) SELECT {', '.join(values)} FROM c "
        "ON CONFLICT (client_id, key) DO NOTHING RETURNING id) "
        if vendor == "postgresql"
        else " "
    )
    key_id = "(SELECT id FROM k)" if vendor == "postgresql" else "NULL"
    return f"{_client_sql()}{claim}SELECT c.*, {key_id}, x.* FROM c LEFT JOIN ({read}) x ON TRUE"  # noqa: S608


def _claim_key_by_token(
    digest: str, *, key: str, fingerprint: str, read: tuple[str, list]
) -> tuple[ApiClient | None, int | None, list[tuple]]:
    """The live client with this token hash, its claim of the key (as _claim_key), and
    the rows of `read` (each row past the client's six columns), in one statement on
    PostgreSQL. (None, None, []) when no live client has the token."""
    row = _key_row(None, key, fingerprint)
    params = [digest]
    postgres = connection.vendor == "postgresql"
    if postgres:
        params += [
            f.get_db_prep_save(getattr(row, f.attname), connection)
            for f in _key_fields()
            if f.attname != "client_id"
        ]
    with hot_cursor() as cursor:
        cursor.execute(_claim_by_token_sql(connection.vendor, read[0]), params + list(read[1]))
        found = cursor.fetchall()
    client = _client(found[0] if found else None, digest)
    if client is None:
        return None, None, []
    rows = [row[6:] for row in found]
    if not postgres:
        return client, _claim_key(client, key=key, fingerprint=fingerprint), rows
    return client, found[0][5], rows
