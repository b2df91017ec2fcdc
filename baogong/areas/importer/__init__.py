"""Import the household register from a spreadsheet (.xlsx, .xls, .ods) or a CSV file.

`reading` finds the headings and checks each row without touching the database;
`service` matches the rows against the register and writes them.
"""

from __future__ import annotations

from baogong.areas.importer.reading import (
    CHANGE_LABELS,
    Outcome,
    ParsedRow,
    RegisterFileError,
    RegisterSheet,
    RowOutcome,
    fast_parse_address,
    field_for_heading,
    parse_rows,
    read_register,
)
from baogong.areas.importer.service import ImportReport, read_register_for, register_import

__all__ = [
    "CHANGE_LABELS",
    "ImportReport",
    "Outcome",
    "ParsedRow",
    "RegisterFileError",
    "RegisterSheet",
    "RowOutcome",
    "fast_parse_address",
    "field_for_heading",
    "parse_rows",
    "read_register",
    "read_register_for",
    "register_import",
]
