"""Exports of an organisation's own data: its products, its passports and their events (the
state changes, PassportEvent), as CSV or JSON, streamed a chunk of rows at a time so a large
export neither loads every row at once nor waits for the last one to start answering.

Pages are keyset pages in primary-key order: `after` is the last key of the previous page, so
a row added while a client pages through is never read twice or skipped before the cursor.
`export(...)` gives the page's rows as text chunks and the key the next page starts after (None
on the last page). The API (passports/api/exports.py) serves them; the admin can reuse them
for its own export actions (`rows_of(kind, queryset)`)."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from django.core.serializers.json import DjangoJSONEncoder
from django.db.models import QuerySet

from passports.models import Passport, PassportEvent, Product
from passports.services.csv_files import csv_chunks
from wallet.tenancy.models import Organisation

FORMATS = {"csv": "text/csv; charset=utf-8", "json": "application/json"}
DEFAULT_LIMIT = 10_000
MAX_LIMIT = 100_000
CHUNK_ROWS = 500  # rows read from the database (and written out) at a time


class ExportError(ValueError):
    """A request for an export that cannot be made (unknown kind or format, a bad cursor)."""

    def __init__(self, message: str, *, code: str):
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class Kind:
    model: type
    columns: tuple[str, ...]  # the fields of each row, in order (CSV header and JSON keys)
    key_type: type  # the primary key's type, for the `after` cursor
    select_related: tuple[str, ...] = ()

    def queryset(self, organisation: Organisation) -> QuerySet:
        owner = {Product: "organisation", Passport: "product__organisation",
                 PassportEvent: "passport__product__organisation"}[self.model]
        return (self.model.objects.filter(**{owner: organisation})
                .select_related(*self.select_related).order_by("pk"))


KINDS = {
    "products": Kind(Product, ("id", "gtin", "lot", "serial", "name", "category",
                               "category_version", "country_of_production", "facility_name",
                               "production_date", "digital_link", "created_at", "updated_at"),
                     int),
    "passports": Kind(Passport, ("id", "product_id", "gtin", "lot", "serial", "version",
                                 "state", "state_reason", "credential_url", "superseded_by_id",
                                 "issued_at", "created_at", "updated_at"),
                      uuid.UUID, ("product",)),
    "events": Kind(PassportEvent, ("id", "passport_id", "product_id", "gtin", "serial",
                                   "action", "from_state", "to_state", "reason", "created_at"),
                   int, ("passport__product",)),
}


def row_of(kind: str, item) -> dict:
    """One exported row: the kind's columns, from the item or its product."""
    product = {"products": lambda: item, "passports": lambda: item.product,
               "events": lambda: item.passport.product}[kind]()
    values = {}
    for column in KINDS[kind].columns:
        if column in ("gtin", "lot", "serial") and kind != "products":
            values[column] = getattr(product, column)
        elif column == "product_id" and kind == "events":
            values[column] = product.pk
        else:
            values[column] = getattr(item, column)
    return values


def rows_of(kind: str, queryset: Iterable) -> Iterator[dict]:
    """The rows of `queryset`'s items (a QuerySet is read CHUNK_ROWS at a time)."""
    items = queryset.iterator(chunk_size=CHUNK_ROWS) if isinstance(queryset, QuerySet) \
        else queryset
    for item in items:
        yield row_of(kind, item)


def as_csv(kind: str, rows: Iterable[dict]) -> Iterator[str]:
    """A header line, then CHUNK_ROWS rows per chunk (passports/services/csv_files.py: a cell
    starting like a formula is kept text)."""
    return csv_chunks(KINDS[kind].columns, rows, chunk_rows=CHUNK_ROWS)


def as_json(rows: Iterable[dict]) -> Iterator[str]:
    """A JSON array, CHUNK_ROWS items per chunk."""
    encoder = DjangoJSONEncoder(ensure_ascii=False)
    yield "["
    chunk, first = [], True
    for row in rows:
        chunk.append(encoder.encode(row))
        if len(chunk) == CHUNK_ROWS:
            yield ("" if first else ",") + ",".join(chunk)
            chunk, first = [], False
    if chunk:
        yield ("" if first else ",") + ",".join(chunk)
    yield "]"


@dataclass(frozen=True)
class Export:
    chunks: Iterator[str]
    content_type: str
    next_after: str | None  # the cursor of the next page, None on the last


def export(*, organisation: Organisation, kind: str, fmt: str, after: str | None = None,
           limit: int | None = None) -> Export:
    """One page of `kind` of `organisation`'s own data in `fmt` (csv or json): at most `limit`
    rows (DEFAULT_LIMIT, at most MAX_LIMIT) after the key `after`. ExportError for a request
    that cannot be answered, before anything is read."""
    if kind not in KINDS:
        raise ExportError(f"Unknown export {kind!r}: one of {', '.join(KINDS)}.",
                          code="unknown_export")
    if fmt not in FORMATS:
        raise ExportError(f"Unknown format {fmt!r}: csv or json.", code="unknown_format")
    limit = DEFAULT_LIMIT if limit is None else limit
    if not 1 <= limit <= MAX_LIMIT:
        raise ExportError(f"limit is 1 to {MAX_LIMIT}.", code="invalid_limit")
    spec = KINDS[kind]
    queryset = spec.queryset(organisation)
    if after not in (None, ""):
        try:
            queryset = queryset.filter(pk__gt=spec.key_type(after))
        except ValueError:
            raise ExportError("after is the last id of the previous page.",
                              code="invalid_cursor") from None
    # The page's last key and whether a row follows it, in one query on the primary key.
    edge = list(queryset.values_list("pk", flat=True)[limit - 1:limit + 1])
    next_after = str(edge[0]) if len(edge) == 2 else None
    rows = rows_of(kind, queryset[:limit] if next_after is None
                   else queryset.filter(pk__lte=edge[0]))
    chunks = as_csv(kind, rows) if fmt == "csv" else as_json(rows)
    return Export(chunks=chunks, content_type=FORMATS[fmt], next_after=next_after)
