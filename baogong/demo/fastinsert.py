"""Insert generated rows as plain tuples, skipping Django's per-instance work.

`bulk_create` spends about 100 µs per row building and compiling model
instances, which made a 100,000-household city take over half a minute on
SQLite. The generator already knows every value, so `RowInserter` hands
tuples to `core.bulk.insert_rows` (executemany on SQLite, COPY on PostgreSQL),
adding the columns it was not given (timestamps, defaults of fields added
later) once per table. History rows are copied by the database itself with
one INSERT … SELECT per table.

Used only for freshly generated rows inside the caller's transaction: no
signals are sent, no validation runs; the database constraints still hold.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from django.db import connections, models, router

from baogong.core.bulk import insert_rows


class RowInserter:
    """Insert tuples of values for `fields` (attnames, e.g. "building_id") into `model`'s table.

    Every other concrete column gets, in every row, `when` if it is an
    auto_now/auto_now_add timestamp, else the field's default; the primary key
    is left to the database.
    """

    def __init__(self, model: type[models.Model], fields: Sequence[str], *, when: datetime) -> None:
        meta = model._meta
        self.model = model
        self.using = router.db_for_write(model)
        known = {f.attname for f in meta.concrete_fields}
        unknown = [name for name in fields if name not in known]
        if unknown:
            raise ValueError(f"{meta.label} has no columns {unknown}")
        constants: dict[str, Any] = {}
        for field in meta.concrete_fields:
            if field.attname in fields or field is meta.pk:
                continue
            if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
                constants[field.attname] = when
            elif field.has_default() or not field.null:
                constants[field.attname] = field.get_default()
            else:
                constants[field.attname] = None
        self.columns = [*fields, *constants]
        self.constants = tuple(constants.values())

    def insert(self, rows: Iterable[tuple[Any, ...]]) -> int:
        """Insert `rows`; return how many were written."""
        return insert_rows(
            self.model, self.columns, (row + self.constants for row in rows), using=self.using
        )


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
