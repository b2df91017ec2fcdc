"""The statements of order placement, kept few and cheap (services.order_place runs them).

Placing an order is the one write that arrives hundreds of times a second at a
round's opening, so its reads and writes are plain SQL: the Django ORM spends
more Python compiling these small queries than the database spends running
them. Column lists come from the models' `_meta`, so a field added to Order or
OrderLine later (with its default) is written here too, and values go through
each field's `get_db_prep_save`, so SQLite and PostgreSQL get what the ORM
would send them.

A new order takes two writing statements on PostgreSQL, each round trip costing
more than the work in it:

- round_facts: the round, the paths of the areas it serves and its offers in one
  statement, without a lock (the round's state is re-checked under a lock on its
  row by take_hot_rows, which ends every placement, see services.order_place);
- insert_order: the household's row locked (its compound and cadence read with it),
  then, unless the household already has an order in this round, the new order,
  its history row and its lines; a pickup code already taken in the round redrawn
  through ON CONFLICT instead of a savepoint; for the API, the idempotency key's
  response in the same statement (ResponseToStore);
- orders_of, for an order that exists already: the household's order in this round
  and its latest live order in the cadence window, read after the lock;
- take_hot_rows: the offers' stock, the round's open state (and count, with a
  capacity) and, for a new order, the cadence rule, in one statement. The cadence
  is checked after the order is written, in a later statement than the lock: every
  other order of the household has either committed by then or waits for the lock.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from typing import Any

from django.db import DEFAULT_DB_ALIAS, IntegrityError, connection, connections
from django.db.backends.utils import CursorDebugWrapper, CursorWrapper
from django.db.models import Model
from django.utils.dateparse import parse_datetime

from baogong.areas.models import Area, Household
from baogong.orders.models import IdempotencyKey, Offer, Order, OrderLine, Round, RoundArea
from baogong.orders.pickup import new_pickup_code

# Table and column names in the SQL below come from the models' _meta (hence the S608
# markers); every value is a query parameter.
CENT = Decimal("0.01")
PICKUP_CODE_ATTEMPTS = 5
PREPARE_THRESHOLD = 1  # runs of a statement on a connection before it is prepared


def _aware(value: dt.datetime | str | None) -> dt.datetime | None:
    """A datetime column as an aware UTC datetime (SQLite gives naive UTC, or text)."""
    if isinstance(value, str):
        value = parse_datetime(value)
    if value is not None and value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value


def _money(value: Decimal | float | int | str) -> Decimal:
    """A decimal column as Decimal with 2 places (SQLite may hand back a float)."""
    if not isinstance(value, Decimal):
        value = Decimal(str(value))
    return value.quantize(CENT)


def _postgres() -> bool:
    return connection.vendor == "postgresql"


class _KeptCursor(CursorWrapper):
    """A cursor wrapper whose `with` block leaves the cursor open for the next statement."""

    def __exit__(self, *exc_info: object) -> None:
        pass


class _KeptDebugCursor(CursorDebugWrapper):
    def __exit__(self, *exc_info: object) -> None:
        pass


def hot_cursor() -> CursorWrapper:
    """A cursor for the statements every order runs.

    On PostgreSQL it binds parameters on the server, so psycopg prepares each
    statement once per connection (on its second run) and PostgreSQL no longer
    parses and plans it for every order: that was about half of the database's CPU
    per order. Django leaves prepared statements off (for transaction-pooling
    proxies such as PgBouncer before 1.21); only these cursors turn them on, and
    Django's own cursors keep binding on the client, which never prepares.

    The cursor is made once per database connection and kept on it (a new psycopg
    cursor per statement cost more Python than running the statement); `with`
    leaves it open. The wrapper still logs queries when Django does (tests, DEBUG).
    """
    db = connections[DEFAULT_DB_ALIAS]  # the thread's own; `connection` proxies every access
    if db.vendor != "postgresql":
        return db.cursor()
    db.close_if_health_check_failed()
    db.ensure_connection()
    raw = db.connection
    kept = getattr(db, "_baogong_hot_cursor", None)
    if kept is None or kept.connection is not raw or kept.closed:
        from django.db.backends.postgresql.base import ServerBindingCursor

        if raw.prepare_threshold is None:
            raw.prepare_threshold = PREPARE_THRESHOLD
        kept = db._baogong_hot_cursor = ServerBindingCursor(raw)
    db.validate_thread_sharing()
    return (_KeptDebugCursor if db.queries_logged else _KeptCursor)(kept, db)


# --- the round -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class OfferFacts:
    """An offer of the round as placing reads it: a plain object, not a model instance
    (building six Offer instances per order cost more than reading their rows)."""

    pk: int
    code: str
    name: str
    price: Decimal
    stock_cap: int
    sold: int
    per_household_limit: int
    position: int

    @property
    def id(self) -> int:
        return self.pk


@dataclass(frozen=True, slots=True)
class RoundFacts:
    """What placing an order needs of a round, read in one statement."""

    pk: int
    supplier_id: int
    state: str
    opens_at: dt.datetime
    cutoff_at: dt.datetime
    capacity: int | None
    area_paths: tuple[str, ...]
    offers: dict[int, OfferFacts]  # by id, in the round's order (position, id)

    def offer_for_code(self, code: str) -> OfferFacts | None:
        code = code.strip().upper()
        return next((o for o in self.offers.values() if o.code == code), None)


@cache
def _round_sql(vendor: str) -> str:
    paths = "string_agg(a.path, ' ')" if vendor == "postgresql" else "group_concat(a.path, ' ')"
    round_areas, area = RoundArea._meta.db_table, Area._meta.db_table
    # The paths are aggregated once in a derived table, not once per offer row.
    return (
        "SELECT r.supplier_id, r.state, r.opens_at, r.cutoff_at, r.capacity, p.paths, "  # noqa: S608
        "o.id, o.code, o.name, o.price, o.stock_cap, o.sold, o.per_household_limit, o.position "
        f"FROM {Round._meta.db_table} r "
        f"CROSS JOIN (SELECT {paths} AS paths FROM {round_areas} ra "
        f"JOIN {area} a ON a.id = ra.area_id WHERE ra.round_id = %s) p "
        f"LEFT JOIN {Offer._meta.db_table} o ON o.round_id = r.id "
        "WHERE r.id = %s"
    )


def round_facts(round_id: int) -> RoundFacts | None:
    """The round with its area paths and offers, or None if there is no such round."""
    with hot_cursor() as cursor:
        cursor.execute(*round_query(round_id))
        return round_facts_of(round_id, cursor.fetchall())


def round_query(round_id: int) -> tuple[str, list[int]]:
    """The statement round_facts runs, for a caller that reads it as part of its own
    (the API's first statement, see api_auth.idempotent_for_token)."""
    return _round_sql(connection.vendor), [round_id, round_id]


def round_facts_of(round_id: int, rows: list[tuple]) -> RoundFacts | None:
    """RoundFacts from the rows of round_query (rows of NULLs, as an outer join gives
    when there is no such round, mean None)."""
    rows = [row for row in rows if row[0] is not None]
    if not rows:
        return None
    supplier_id, state, opens_at, cutoff_at, capacity, paths = rows[0][:6]
    offers = sorted(
        (
            OfferFacts(offer_id, code, name, _money(price), stock_cap, sold, limit, position)
            for *_round, offer_id, code, name, price, stock_cap, sold, limit, position in rows
            if offer_id is not None
        ),
        key=lambda o: (o.position, o.pk),
    )
    return RoundFacts(
        pk=round_id,
        supplier_id=supplier_id,
        state=state,
        opens_at=_aware(opens_at),
        cutoff_at=_aware(cutoff_at),
        capacity=capacity,
        area_paths=tuple((paths or "").split()),
        offers={o.pk: o for o in offers},
    )


# --- the household ---------------------------------------------------------------------


@cache
def _household_sql(vendor: str, *, by_compound: bool, paths: int, with_unit: bool) -> str:
    area, household = Area._meta.db_table, Household._meta.db_table
    if by_compound:
        compounds = "b.parent_id = %s"
    else:
        under = " OR ".join(["path LIKE %s"] * paths) or "FALSE"
        compounds = f"b.parent_id IN (SELECT id FROM {area} WHERE kind = %s AND ({under}))"  # noqa: S608
    return (
        "SELECT h.id, h.unit, h.room, h.phone, h.compound_id, h.building_id, "  # noqa: S608
        "b.name, b.path, b.parent_id, c.name, c.path, c.parent_id, c.cadence_days "
        f"FROM {area} b JOIN {household} h ON h.building_id = b.id "
        f"JOIN {area} c ON c.id = h.compound_id "
        f"WHERE b.kind = %s AND {compounds} AND h.room = %s"
        + (" AND h.unit = %s" if with_unit else "")
    )


def households_at(
    facts: RoundFacts,
    *,
    building: Callable[[str], bool],
    room: str,
    unit: str,
    compound_id: int | None,
) -> list[Household]:
    """Households with this room (and unit, if given) in the round's compounds, or in one,
    in a building whose name `building` accepts.

    Every building of those compounds is joined on the unique (building, unit, room)
    index, so this is one small indexed query; building names are compared in Python
    (3号楼, 3栋, 三号楼 are one building). Each household comes with its building and
    compound loaded, as the order response needs them.
    """
    params: list = [Area.Kind.BUILDING]
    if compound_id is not None:
        params.append(compound_id)
    else:
        params += [Area.Kind.COMPOUND, *(path + "%" for path in facts.area_paths)]
    params.append(room)
    if unit:
        params.append(unit)
    sql = _household_sql(
        connection.vendor,
        by_compound=compound_id is not None,
        paths=len(facts.area_paths),
        with_unit=bool(unit),
    )
    with hot_cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    found = []
    for row in sorted(row for row in rows if building(row[6])):
        pk, h_unit, h_room, phone, compound_pk, building_pk = row[:6]
        b_name, b_path, b_parent, c_name, c_path, c_parent, cadence = row[6:]
        household = Household(
            id=pk,
            unit=h_unit,
            room=h_room,
            phone=phone,
            compound_id=compound_pk,
            building_id=building_pk,
        )
        household.building = Area(
            id=building_pk, kind=Area.Kind.BUILDING, name=b_name, path=b_path, parent_id=b_parent
        )
        household.compound = Area(
            id=compound_pk,
            kind=Area.Kind.COMPOUND,
            name=c_name,
            path=c_path,
            parent_id=c_parent,
            cadence_days=cadence,
        )
        found.append(household)
    return found


def _lock_household(household_id: int) -> tuple[int, int | None]:
    """The household's compound id and cadence in days, read (SQLite: its IMMEDIATE
    transaction already serialises writers; PostgreSQL locks the row in insert_order)."""
    area, household = Area._meta.db_table, Household._meta.db_table
    sql = (
        f"SELECT h.compound_id, c.cadence_days FROM {household} h "  # noqa: S608
        f"JOIN {area} c ON c.id = h.compound_id WHERE h.id = %s"
    )
    with hot_cursor() as cursor:
        cursor.execute(sql, [household_id])
        row = cursor.fetchone()
    if row is None:
        raise Household.DoesNotExist()
    return row


def orders_of(
    *, household_id: int, round_id: int, compound_id: int, since: dt.datetime | None
) -> tuple[int | None, dt.datetime | None]:
    """The household's order in this round (its id) and, if `since` is given, when its
    latest live order of another round in this compound was placed after `since`."""
    table = Order._meta.db_table
    sql = f"SELECT id, round_id, placed_at FROM {table} WHERE household_id = %s AND (round_id = %s"  # noqa: S608
    params: list = [household_id, round_id]
    if since is not None:
        sql += " OR (compound_id = %s AND state = %s AND placed_at > %s)"
        placed_at = Order._meta.get_field("placed_at")
        params += [compound_id, Order.State.PLACED, placed_at.get_db_prep_save(since, connection)]
    with hot_cursor() as cursor:
        cursor.execute(sql + ")", params)
        rows = cursor.fetchall()
    this_round = next((pk for pk, rid, _at in rows if rid == round_id), None)
    others = [_aware(at) for _pk, rid, at in rows if rid != round_id]
    return this_round, max(others, default=None)


# --- writing a new order ---------------------------------------------------------------


def _columns(model: type[Model], skip: frozenset[str] = frozenset()) -> list:
    return [f for f in model._meta.concrete_fields if not f.primary_key and f.attname not in skip]


@dataclass(slots=True)
class ResponseToStore:
    """A write's idempotency-key row, filled by the statement that inserts the new order.

    The API sets this (response_to_store) around a placement: the key's response is
    then written in the same statement as the order, its history row and its lines,
    one round trip fewer per order. `body(order)` is the response for the order about
    to be inserted, without its id (known only once it is inserted, so the statement
    adds it); insert_order sets `stored` to the body as stored, id included.
    """

    key_id: int
    status: int
    body: Callable[[Order], dict[str, Any]]
    stored: dict[str, Any] | None = None


response_to_store: ContextVar[ResponseToStore | None] = ContextVar(
    "response_to_store", default=None
)


@dataclass(frozen=True)
class _OrderTables:
    """Tables and columns insert_order writes, read once from the models' _meta."""

    order: str
    order_fields: list
    history: str
    history_fields: list  # the history model's, minus history_id
    line: str
    line_fields: list  # OrderLine's, minus id and order_id


@cache
def _tables() -> _OrderTables:
    # Order.history builds a manager class on every access: read the model once.
    history = Order.history.model
    skip = {"history_id", "history_date", "history_type", "history_change_reason"}
    return _OrderTables(
        order=Order._meta.db_table,
        order_fields=_columns(Order),
        history=history._meta.db_table,
        history_fields=[f for f in history._meta.concrete_fields if f.attname not in skip],
        line=OrderLine._meta.db_table,
        line_fields=_columns(OrderLine, frozenset({"order_id"})),
    )


def _placeholders(count: int) -> str:
    return "(" + ", ".join(["%s"] * count) + ")"


@cache
def _insert_sql(vendor: str, lines: int, response: bool = False) -> tuple[str, str, str]:
    """The INSERTs of an order, its history row and `lines` lines.

    PostgreSQL: one statement. It locks the household's row (reading its compound and
    cadence), inserts the order with that compound, and its history row and lines
    selecting the new order's row, so an order that conflicts (a taken pickup code, or
    the household's order in this round) inserts none of them; then the last column
    says whether the household has an order in the round. With `response`, the statement
    also stores the idempotency key's response (ResponseToStore), the new order's id
    added to it. SQLite: three statements, the order's first.
    """
    t = _tables()
    history_columns = [f.column for f in t.history_fields] + ["history_date", "history_type"]
    line_columns = ["order_id"] + [f.column for f in t.line_fields]
    order_columns = ", ".join(f.column for f in t.order_fields)
    if vendor != "postgresql":
        order = (
            f"INSERT INTO {t.order} ({order_columns}) "  # noqa: S608
            f"VALUES {_placeholders(len(t.order_fields))} ON CONFLICT DO NOTHING RETURNING id"
        )
        history = (
            f"INSERT INTO {t.history} ({', '.join(history_columns)}) "  # noqa: S608
            f"VALUES {_placeholders(len(history_columns))}"
        )
        values = ", ".join([_placeholders(len(line_columns))] * lines)
        line = f"INSERT INTO {t.line} ({', '.join(line_columns)}) VALUES {values}"  # noqa: S608
        return order, history, line
    area, household = Area._meta.db_table, Household._meta.db_table
    own = {f.attname: f.column for f in Order._meta.concrete_fields}
    order_values = [
        "hh.compound_id" if f.attname == "compound_id" else f"%s::{f.cast_db_type(connection)}"
        for f in t.order_fields
    ]
    selected = [
        f"%s::{f.cast_db_type(connection)}"
        if f.attname == "history_user_id"
        else f"o.{own[f.attname]}"
        for f in t.history_fields
    ]
    row = "(" + ", ".join(f"%s::{f.cast_db_type(connection)}" for f in t.line_fields) + ")"
    names = ", ".join(f"v{n}" for n in range(len(t.line_fields)))
    statement = (
        f"WITH hh AS (SELECT h.id, h.compound_id, c.cadence_days FROM {household} h "  # noqa: S608
        f"JOIN {area} c ON c.id = h.compound_id WHERE h.id = %s FOR UPDATE OF h), "
        f"o AS (INSERT INTO {t.order} ({order_columns}) SELECT {', '.join(order_values)} "
        "FROM hh ON CONFLICT DO NOTHING RETURNING *), "
        f"h AS (INSERT INTO {t.history} ({', '.join(history_columns)}) "
        f"SELECT {', '.join(selected)}, o.created_at, '+' FROM o), "
        f"l AS (INSERT INTO {t.line} ({', '.join(line_columns)}) "
        f"SELECT o.id, {names} FROM o, (VALUES {', '.join([row] * lines)}) AS v ({names})) "
    )
    if response:
        statement += (
            f", k AS (UPDATE {IdempotencyKey._meta.db_table} k "  # noqa: S608
            "SET status_code = %s, response = %s::jsonb || jsonb_build_object('id', o.id) "
            "FROM o WHERE k.id = %s) "
        )
    # Which conflict it was is asked only when nothing was inserted (an edit, a taken
    # pickup code): CASE evaluates its branch lazily, so a new order never runs the probe.
    statement += (
        "SELECT hh.compound_id, hh.cadence_days, (SELECT id FROM o), "  # noqa: S608
        "CASE WHEN NOT EXISTS (SELECT 1 FROM o) THEN EXISTS "
        f"(SELECT 1 FROM {t.order} x WHERE x.round_id = %s AND x.household_id = hh.id) END "
        "FROM hh"
    )
    return statement, "", ""


@dataclass(frozen=True, slots=True)
class Inserted:
    """What insert_order did: `new` if it wrote the order (False: the household already
    has an order in this round, left as it is), and the household's compound and that
    compound's cadence in days, read under the household's lock."""

    new: bool
    compound_id: int
    cadence_days: int | None


def insert_order(order: Order, lines: list[OrderLine], *, history_user_id: int | None) -> Inserted:
    """Lock `order.household`'s row, then INSERT the order (pk and compound set on
    `order`), its history row ("+") and its lines, unless the household already has
    an order in the round.

    Every placement for a household, from any channel, takes this lock first, so the
    one-order-per-round and cadence rules see every earlier order of the household.
    A pickup code already used in the round is redrawn: ON CONFLICT inserts nothing,
    and the next attempt draws another code.
    """
    t = _tables()
    postgres = _postgres()
    store = response_to_store.get() if postgres else None
    first, history_sql, lines_sql = _insert_sql(connection.vendor, len(lines), store is not None)
    line_rows = [
        [f.get_db_prep_save(getattr(line, f.attname), connection) for f in t.line_fields]
        for line in lines
    ]
    if not postgres:
        order.compound_id, cadence_days = _lock_household(order.household_id)
    with hot_cursor() as cursor:
        for _attempt in range(PICKUP_CODE_ATTEMPTS):
            params = [
                f.get_db_prep_save(getattr(order, f.attname), connection)
                for f in t.order_fields
                if not (postgres and f.attname == "compound_id")  # the locked row's
            ]
            if postgres:
                params = [order.household_id, *params, history_user_id]
                params += [value for row in line_rows for value in row]
                if store is not None:
                    body = store.body(order)
                    params += [store.status, json.dumps(body, ensure_ascii=False), store.key_id]
                cursor.execute(first, [*params, order.round_id])
                found = cursor.fetchone()
                if found is None:
                    raise Household.DoesNotExist()
                order.compound_id, cadence_days, inserted, exists = found
            else:
                cursor.execute(first, params)
                inserted = (cursor.fetchone() or (None,))[0]
                exists = inserted is None and _has_order(cursor, order)
            if inserted is not None:
                break
            if exists:
                return Inserted(False, order.compound_id, cadence_days)
            order.pickup_code = new_pickup_code()
        else:
            raise IntegrityError("could not draw a free pickup code")
        order.pk = inserted
        if store is not None:
            store.stored = {**body, "id": order.pk}
        order._state.adding, order._state.db = False, connection.alias
        for line in lines:
            line.order = order
        if not history_sql:
            return Inserted(True, order.compound_id, cadence_days)
        own = {"id": order.pk, "history_user_id": history_user_id}
        created = Order._meta.get_field("created_at").get_db_prep_save(order.created_at, connection)
        cursor.execute(
            history_sql,
            [
                f.get_db_prep_save(
                    own[f.attname] if f.attname in own else getattr(order, f.attname), connection
                )
                for f in t.history_fields
            ]
            + [created, "+"],
        )
        cursor.execute(lines_sql, [value for row in line_rows for value in (order.pk, *row)])
    return Inserted(True, order.compound_id, cadence_days)


def _has_order(cursor: CursorWrapper, order: Order) -> bool:
    """Whether order's household has an order in its round (SQLite, after a conflict)."""
    cursor.execute(
        f"SELECT 1 FROM {Order._meta.db_table} WHERE round_id = %s AND household_id = %s",  # noqa: S608
        [order.round_id, order.household_id],
    )
    return cursor.fetchone() is not None


# --- the hot rows, last in the transaction ---------------------------------------------


@dataclass(frozen=True, slots=True)
class HotRows:
    """What take_hot_rows found, each a reason to refuse the order when set:
    `previous` (a live order of the household in the cadence window: when it was
    placed), `short` (the offer that had too little stock), `orders_count` None (the
    round closed, or reached its capacity; else its count, see Round.orders_count).
    `sold_out`: an offer sold its last unit."""

    previous: dt.datetime | None = None
    short: int | None = None
    orders_count: int | None = 0
    sold_out: bool = False


@dataclass(frozen=True, slots=True)
class Cadence:
    """The cadence rule to check for a new order: no other live order of the household
    in `compound_id` placed after `since`."""

    household_id: int
    compound_id: int
    since: dt.datetime


def _cadence_sql() -> str:
    """When the household's latest live order of another round in the compound was
    placed, if after the window's start (parameters: _cadence_params)."""
    return (
        f"SELECT max(placed_at) AS at FROM {Order._meta.db_table} "  # noqa: S608
        "WHERE household_id = %s AND compound_id = %s AND state = %s AND round_id <> %s "
        "AND placed_at > %s"
    )


def _cadence_params(cadence: Cadence, round_id: int) -> list:
    since = Order._meta.get_field("placed_at").get_db_prep_save(cadence.since, connection)
    return [cadence.household_id, cadence.compound_id, Order.State.PLACED, round_id, since]


def take_hot_rows(
    *, round_id: int, deltas: dict[int, int], count: bool, cadence: Cadence | None
) -> HotRows:
    """Take the stock, re-check that the round is open and, with `cadence`, the cadence
    rule: one statement on PostgreSQL, the last of a placement.

    Stock changes are conditional UPDATEs, offers locked in id order (no deadlocks):
    the database, not Python, decides who gets the last unit. Then the round's row:
    the lock orders this placement against the round being closed (round_transition
    locks it FOR UPDATE), so an order racing the cut-off either commits before the
    round closes or is refused. With `count` (a new order in a round with a
    capacity) the round's orders_count is raised where below the capacity, which
    decides who gets the last place; that row lock is exclusive, so such orders
    commit one after another. Otherwise the round is read `FOR KEY SHARE`, which
    placements never conflict on and only `FOR UPDATE` waits for: without a
    capacity, placements do not queue on the round row (Round.orders_count stays 0,
    see the model). After a refusal the caller rolls back whatever was taken.
    """
    changes = sorted((offer_id, delta) for offer_id, delta in deltas.items() if delta)
    if not _postgres():
        return _take_hot_rows_serialised(round_id, changes, count=count, cadence=cadence)
    params: list = [value for change in changes for value in change]
    params += [round_id, Round.State.OPEN, *([len(changes)] if count else [])]
    if cadence is not None:
        params += _cadence_params(cadence, round_id)
    with hot_cursor() as cursor:
        cursor.execute(_hot_rows_sql(len(changes), count, cadence is not None), params)
        rows = cursor.fetchall()
    orders_count, previous = rows[0][0], rows[0][1]
    taken = {pk: sold >= cap for _count, _previous, pk, sold, cap in rows if pk is not None}
    short = next((pk for pk, _delta in changes if pk not in taken), None)
    return HotRows(
        previous=previous,
        short=short,
        orders_count=orders_count,
        sold_out=short is None and any(taken.values()),
    )


@cache
def _hot_rows_sql(offers: int, count: bool, cadence: bool) -> str:
    """take_hot_rows on PostgreSQL.

    Several offers' rows are locked first, in id order, by the materialised CTE, then
    updated where the stock allows: a reduction always, an increase only up to the
    cap; an offer missing from the result had too little. The round's condition
    reads the stock's result, so the offers are taken before the round, as a
    cancellation takes them.
    """
    offer, round_ = Offer._meta.db_table, Round._meta.db_table
    values = ", ".join(["(%s::bigint, %s::integer)"] * offers)
    if not offers:
        ctes = ["s (id, sold, stock_cap) AS (SELECT NULL::bigint, 0, 0 WHERE FALSE)"]
    else:
        ctes = [f"v (id, d) AS (VALUES {values})"]
        locked = ""
        if offers > 1:  # one row alone cannot deadlock: its UPDATE locks it
            ctes.append(
                f"locked AS MATERIALIZED (SELECT o.id FROM {offer} o "  # noqa: S608
                "WHERE o.id IN (SELECT id FROM v) ORDER BY o.id FOR NO KEY UPDATE)"
            )
            locked = "AND o.id IN (SELECT id FROM locked) "
        ctes.append(
            f"s AS (UPDATE {offer} o SET sold = o.sold + v.d FROM v "  # noqa: S608
            f"WHERE o.id = v.id {locked}"
            "AND (v.d < 0 OR o.sold + v.d <= o.stock_cap) RETURNING o.id, o.sold, o.stock_cap)"
        )
    if count:  # all the stock taken (%s: the number of offers) and a place left
        ctes.append(
            f"r AS (UPDATE {round_} SET orders_count = orders_count + 1 "  # noqa: S608
            "WHERE id = %s AND state = %s AND orders_count < capacity "
            "AND (SELECT count(*) FROM s) = %s RETURNING orders_count)"
        )
    else:
        ctes.append(
            f"r AS (SELECT orders_count FROM {round_} WHERE id = %s AND state = %s "  # noqa: S608
            "AND (SELECT count(*) FROM s) >= 0 FOR KEY SHARE)"
        )
    previous = "NULL::timestamptz"
    if cadence:
        ctes.append(f"p AS ({_cadence_sql()})")
        previous = "(SELECT at FROM p)"
    return (
        f"WITH {', '.join(ctes)} "  # noqa: S608
        f"SELECT (SELECT orders_count FROM r), {previous}, s.id, s.sold, s.stock_cap "
        "FROM (SELECT 1) one LEFT JOIN s ON TRUE"
    )


def _take_hot_rows_serialised(
    round_id: int, changes: list[tuple[int, int]], *, count: bool, cadence: Cadence | None
) -> HotRows:
    """take_hot_rows on SQLite, where the IMMEDIATE transaction serialises writers: one
    statement per step, stopping at the first refusal."""
    with hot_cursor() as cursor:
        if cadence is not None:
            cursor.execute(_cadence_sql(), _cadence_params(cadence, round_id))
            previous = _aware(cursor.fetchone()[0])
            if previous is not None:
                return HotRows(previous=previous)
        short, sold_out = take_stock(dict(changes))
        if short is not None:
            return HotRows(short=short)
        table = Round._meta.db_table
        if count:
            cursor.execute(
                f"UPDATE {table} SET orders_count = orders_count + 1 "  # noqa: S608
                "WHERE id = %s AND state = %s AND orders_count < capacity RETURNING orders_count",
                [round_id, Round.State.OPEN],
            )
        else:
            cursor.execute(
                f"SELECT orders_count FROM {table} WHERE id = %s AND state = %s",  # noqa: S608
                [round_id, Round.State.OPEN],
            )
        row = cursor.fetchone()
        return HotRows(orders_count=None if row is None else row[0], sold_out=sold_out)


def take_stock(deltas: dict[int, int]) -> tuple[int | None, bool]:
    """Apply stock changes with conditional UPDATEs, in offer-id order (no deadlocks).

    Returns (the offer id that had too little stock, or None; whether an offer is now
    sold out). A cancellation gives its stock back through this; a placement takes it
    through take_hot_rows. After a shortage the caller refuses the order, which rolls
    back whatever else was taken.
    """
    changes = sorted((offer_id, delta) for offer_id, delta in deltas.items() if delta)
    table = Offer._meta.db_table
    sold_out = False
    with hot_cursor() as cursor:
        for offer_id, delta in changes:
            if delta > 0:
                cursor.execute(
                    f"UPDATE {table} SET sold = sold + %s WHERE id = %s AND sold + %s <= stock_cap "  # noqa: S608
                    "RETURNING sold, stock_cap",
                    [delta, offer_id, delta],
                )
                row = cursor.fetchone()
                if row is None:
                    return offer_id, sold_out
                sold_out = sold_out or row[0] >= row[1]
            else:
                cursor.execute(
                    f"UPDATE {table} SET sold = sold + %s WHERE id = %s",  # noqa: S608
                    [delta, offer_id],
                )
    return None, sold_out
