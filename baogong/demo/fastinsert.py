"""Insert generated rows as plain tuples, skipping Django's per-instance work.

`bulk_create` spends about 100 µs per row building and compiling model
instances, which made a 100,000-household city take over half a minute on
SQLite. The generator already knows every value, so `RowInserter` sends
tuples straight to the driver (`executemany` on SQLite, COPY on PostgreSQL)
and fills the columns it was not given (timestamps, defaults of fields added
later) once per table. History rows are copied by the database itself with
one INSERT … SELECT per table.

Used only for freshly generated rows inside the caller's transaction: no
signals are sent, no validation runs; the database constraints still hold.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import date, datetime
from itertools import islice
from typing import Any

from django.db import connections, models, router

BATCH_SIZE = 5000


class RowInserter:
    """Insert tuples of values for `fields` (attnames, e.g. "building_id") into `model`'s table.

    Every other concrete column gets, in every row, `when` if it is an
    auto_now/auto_now_add timestamp, else the field's default; the primary key
    is left to the database.
    """

    def __init__(self, model: type[models.Model], fields: Sequence[str], *, when: datetime) -> None:
        meta = model._meta
        self.connection = connections[router.db_for_write(model)]
        by_attname = {f.attname: f for f in meta.concrete_fields}
        unknown = [name for name in fields if name not in by_attname]
        if unknown:
            raise ValueError(f"{meta.label} has no columns {unknown}")
        constants: dict[str, Any] = {}
        for field in meta.concrete_fields:
            if field.attname in fields or field is meta.pk:
                continue
            if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
                value: Any = when
            elif field.has_default() or not field.null:
                value = field.get_default()
            else:
                value = None
            constants[field.attname] = field.get_db_prep_save(value, self.connection)
        self.constants = tuple(constants.values())
        # Dates are the only values the generator hands over that the drivers
        # do not store the way Django does (SQLite keeps them as ISO text).
        self.adapters: list[Callable[[Any], Any] | None] = [
            self._adapter(by_attname[name]) for name in fields
        ]
        self.needs_adapting = any(self.adapters)
        quote = self.connection.ops.quote_name
        self.table = meta.db_table
        self.columns = [by_attname[name].column for name in fields] + [
            by_attname[name].column for name in constants
        ]
        self.sql = "INSERT INTO {} ({}) VALUES ({})".format(  # noqa: S608 - names from model meta
            quote(self.table),
            ", ".join(map(quote, self.columns)),
            ", ".join(["%s"] * len(self.columns)),
        )

    def _adapter(self, field: models.Field) -> Callable[[Any], Any] | None:
        ops = self.connection.ops
        if isinstance(field, models.DateTimeField):
            return lambda value: None if value is None else ops.adapt_datetimefield_value(value)
        if isinstance(field, models.DateField):
            return lambda value: None if value is None else ops.adapt_datefield_value(value)
        return None

    def insert(self, rows: Iterable[tuple[Any, ...]]) -> int:
        """Insert `rows`; return how many were written."""
        if self.connection.vendor == "postgresql":
            return self._copy(rows)
        written = 0
        iterator = iter(rows)
        with self.connection.cursor() as cursor:
            while batch := list(islice(iterator, BATCH_SIZE)):
                cursor.executemany(self.sql, [self._complete(row) for row in batch])
                written += len(batch)
        return written

    def _copy(self, rows: Iterable[tuple[Any, ...]]) -> int:
        # psycopg's executemany still waits on the server row by row (about
        # 2,000 rows/s here); COPY streams them, some 30 times faster.
        from psycopg import sql  # only on PostgreSQL; SQLite installs need not have it

        statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
            sql.Identifier(self.table), sql.SQL(", ").join(map(sql.Identifier, self.columns))
        )
        written = 0
        self.connection.ensure_connection()
        # Django's cursor wraps psycopg's; copy() is only on the psycopg cursor.
        with self.connection.cursor() as cursor, cursor.cursor.copy(statement) as copy:
            for row in rows:
                copy.write_row(row + self.constants)
                written += 1
        return written

    def _complete(self, row: tuple[Any, ...]) -> tuple[Any, ...]:
        if self.needs_adapting:
            row = tuple(
                value if adapt is None or not isinstance(value, date) else adapt(value)
                for value, adapt in zip(row, self.adapters, strict=True)
            )
        return row + self.constants


def copy_to_history(
    model: type[models.Model],
    where: str,
    params: Sequence[Any],
    *,
    when: datetime,
    user_id: int | None,
    reason: str,
) -> int:
    """Write a creation history row ("+") for each row of `model` matching `where`.

    `where` is an SQL condition on the model's table (aliased "t"), e.g. rows
    under a new district; it must come from code, never from input. One
    INSERT … SELECT, so the rows never travel to Python and back.
    """
    history_model = model.history.model  # type: ignore[attr-defined]
    connection = connections[router.db_for_write(model)]
    quote = connection.ops.quote_name
    tracked = list(history_model.tracked_fields)
    source_columns = [model._meta.get_field(field.name).column for field in tracked]
    target_columns = [field.column for field in tracked] + [
        "history_date",
        "history_change_reason",
        "history_type",
        "history_user_id",
    ]
    sql = "INSERT INTO {} ({}) SELECT {}, %s, %s, %s, %s FROM {} t WHERE {}".format(  # noqa: S608
        quote(history_model._meta.db_table),
        ", ".join(map(quote, target_columns)),
        ", ".join(f"t.{quote(column)}" for column in source_columns),
        quote(model._meta.db_table),
        where,
    )
    with connection.cursor() as cursor:
        cursor.execute(
            sql, [connection.ops.adapt_datetimefield_value(when), reason, "+", user_id, *params]
        )
        return cursor.rowcount
