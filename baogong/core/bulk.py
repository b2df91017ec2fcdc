"""Insert many rows fast: PostgreSQL COPY, or bulk_create elsewhere.

Imports write tens of thousands of rows in one transaction. Row-by-row save()
manages about 2,700 rows/s, bulk_create about 18,000, COPY about 100,000, so on
PostgreSQL `insert_rows` streams the rows through psycopg's binary COPY; on
SQLite it uses executemany (like bulk_create, but keeping the timestamps given).
Rows are plain tuples in the order of `fields` (attnames, e.g. "building_id"),
which spares building a model instance per row.

Rows that reference each other (a resident and its new household) need their
primary keys before they are written: `allocate_ids` hands out keys from the
table's own sequence, so the keys never clash with rows written by others.
Both functions must run inside the caller's transaction.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Any

from django.db import connections, models

# Django's PostgreSQL column types -> psycopg type names for binary COPY.
_BINARY_TYPES = {
    "bigint": "int8", "integer": "int4", "smallint": "int2", "boolean": "bool",
    "varchar": "text", "text": "text", "date": "date",
    "timestamp with time zone": "timestamptz",
}


def allocate_ids(model: type[models.Model], count: int, *, using: str = "default") -> list[int]:
    """Reserve `count` primary keys of `model`'s table and return them in ascending order.

    PostgreSQL: nextval of the table's sequence over generate_series, so concurrent
    writers get disjoint keys. SQLite: the keys after the largest ever handed out,
    reserved by moving AUTOINCREMENT's counter (sqlite_sequence) past them; the
    caller's write transaction holds the database lock until it commits. Baogong
    runs on these two databases only.
    """
    if count <= 0:
        return []
    connection = connections[using]
    table = model._meta.db_table
    pk_column = model._meta.pk.column
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # Look the sequence up once: inside the generate_series query it would be
            # looked up again for every row, which makes the query five times slower.
            cursor.execute("SELECT pg_get_serial_sequence(%s, %s)",
                           [connection.ops.quote_name(table), pk_column])
            sequence = cursor.fetchone()[0]
            cursor.execute("SELECT nextval(%s::regclass) FROM generate_series(1, %s)",
                           [sequence, count])
            return sorted(row[0] for row in cursor.fetchall())
        if connection.vendor != "sqlite":
            raise NotImplementedError(f"allocate_ids on {connection.vendor}")
        quote = connection.ops.quote_name
        # Names come from model meta, not from input.
        cursor.execute(f"SELECT MAX({quote(pk_column)}) FROM {quote(table)}")  # noqa: S608
        highest = cursor.fetchone()[0] or 0
        cursor.execute("SELECT seq FROM sqlite_sequence WHERE name = %s", [table])
        row = cursor.fetchone()
        highest = max(highest, row[0] if row else 0)
        # Moving AUTOINCREMENT's counter past the block reserves it, as nextval does.
        if row:
            cursor.execute("UPDATE sqlite_sequence SET seq = %s WHERE name = %s",
                           [highest + count, table])
        else:
            cursor.execute("INSERT INTO sqlite_sequence (name, seq) VALUES (%s, %s)",
                           [table, highest + count])
    return list(range(highest + 1, highest + 1 + count))


def insert_rows(model: type[models.Model], fields: Sequence[str],
                rows: Iterable[Sequence[Any]], *, using: str = "default") -> int:
    """Insert `rows` (tuples of values for the attnames `fields`) into `model`'s table.

    Values must already be what the column stores (ids, not instances; aware
    datetimes). No signals are sent and no defaults are applied: give every
    NOT NULL column. Return the number of rows written.
    """
    if isinstance(rows, Sequence) and not rows:
        return 0  # spare the round trip of an empty COPY
    connection = connections[using]
    if connection.vendor == "postgresql":
        return _copy_rows(connection, model, fields, rows)
    return _insert_many(connection, model, fields, rows)


def _insert_many(connection: Any, model: type[models.Model], fields: Sequence[str],
                 rows: Iterable[Sequence[Any]]) -> int:
    """Insert with executemany: bulk_create would overwrite given auto_now timestamps."""
    meta = model._meta
    model_fields = [meta.get_field(_field_name(meta, name)) for name in fields]
    quote = connection.ops.quote_name
    statement = "INSERT INTO {} ({}) VALUES ({})".format(  # noqa: S608 - names from model meta
        quote(meta.db_table), ", ".join(quote(f.column) for f in model_fields),
        ", ".join(["%s"] * len(model_fields)))
    # Only dates and times need preparing; other values go to sqlite3 as they are.
    convert = [(i, c) for i, c in enumerate(_converter(f, connection) for f in model_fields)
               if c is not None]
    written = 0
    batch: list[Any] = []
    with connection.cursor() as cursor:
        for row in rows:
            prepared = list(row)  # a copy: the caller's row stays as it was
            for i, c in convert:
                prepared[i] = c(prepared[i])
            batch.append(prepared)
            if len(batch) == 5000:
                cursor.executemany(statement, batch)
                written, batch = written + len(batch), []
        if batch:
            cursor.executemany(statement, batch)
            written += len(batch)
    return written


def _converter(field: Any, connection: Any) -> Any:
    """How a value of `field` is prepared for the database; None when it is stored as is."""
    if field.get_internal_type() in ("CharField", "TextField", "BooleanField", "IntegerField",
                                     "BigIntegerField", "SmallIntegerField", "AutoField",
                                     "BigAutoField", "PositiveSmallIntegerField",
                                     "PositiveIntegerField", "ForeignKey"):
        return None
    cache: dict[Any, Any] = {}  # an import stamps every row with the same timestamp

    def convert(value: Any) -> Any:
        try:
            return cache[value]
        except KeyError:
            prepared = field.get_db_prep_save(value, connection)
            if len(cache) < 1000:
                cache[value] = prepared
            return prepared
        except TypeError:  # unhashable (JSON): no cache
            return field.get_db_prep_save(value, connection)

    return convert


def _copy_rows(connection: Any, model: type[models.Model], fields: Sequence[str],
               rows: Iterable[Sequence[Any]]) -> int:
    from psycopg import sql  # only on PostgreSQL; SQLite installs need not import it

    meta = model._meta
    model_fields = [meta.get_field(_field_name(meta, name)) for name in fields]
    types = [_BINARY_TYPES.get(re.sub(r"\(.*\)", "", f.db_type(connection) or ""))
             for f in model_fields]
    # Binary COPY is about three times faster than text, but needs each column's
    # exact type; a column of another type makes the whole COPY use text.
    binary = all(types)
    statement = sql.SQL("COPY {} ({}) FROM STDIN{}").format(
        sql.Identifier(meta.db_table),
        sql.SQL(", ").join(sql.Identifier(f.column) for f in model_fields),
        sql.SQL(" (FORMAT BINARY)" if binary else ""))
    written = 0
    connection.ensure_connection()
    # Django's cursor wraps psycopg's; COPY is only on the psycopg cursor.
    with connection.cursor() as cursor, cursor.cursor.copy(statement) as copy:
        if binary:
            copy.set_types(types)
        write_row = copy.write_row
        for row in rows:
            write_row(row)
            written += 1
    return written


def _field_name(meta: Any, attname: str) -> str:
    """Map an attname ("building_id") to its field name ("building")."""
    for field in meta.concrete_fields:
        if field.attname == attname:
            return field.name
    raise ValueError(f"{meta.label} has no column {attname!r}")
