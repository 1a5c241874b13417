"""The one CSV writer of the exports: the API's paged, streamed exports
(passports/services/exports.py) and the admin's exports of a selection
(passports/services/selection_exports.py) write their cells alike.

A cell: nothing is blank, true/false for a boolean, ISO 8601 for a date or time, JSON for a
list or an object, and text as it is, except that text starting like a spreadsheet formula
(=, +, -, @, a tab, a carriage return) gets a leading apostrophe (OWASP CSV injection): a
spreadsheet shows it as text. The bulk import (`unguarded`) takes the apostrophe off again, so
an exported product file imports as it was."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator
from datetime import date, datetime

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, date | datetime):
        return value.isoformat()
    if isinstance(value, list | dict):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, int | float):
        return str(value)  # a number, never a formula (-5 stays -5)
    text = str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def unguarded(text: str) -> str:
    """A cell as it was before `cell` kept it from being a formula."""
    return text[1:] if text[:1] == "'" and text[1:2] and text[1:].startswith(FORMULA_STARTS) \
        else text


def csv_chunks(columns: Iterable[str], rows: Iterable[dict], *,
               chunk_rows: int = 500) -> Iterator[str]:
    """A header line, then the rows (blank for a column a row lacks), `chunk_rows` rows per
    chunk of text."""
    columns = list(columns)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(columns)
    count = 0
    for row in rows:
        writer.writerow([cell(row.get(column)) for column in columns])
        count += 1
        if count % chunk_rows == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()
