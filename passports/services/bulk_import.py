"""Importing products in bulk from CSV or JSON, all or nothing per file.

Every row is validated first, with the same rules as `product_create` (GS1 keys, category
attributes, model fields); errors are collected as `{"row", "column", "error"}` with 1-based data
rows (row 0 is the file or its header). Only a file without a single error is stored, in
batches with one uniqueness query and one INSERT per batch, so 10,000 rows take seconds.

CSV: one header row with the column names below plus one column per category attribute key;
cells are text and are converted per attribute type. Comma, semicolon or tab separated, UTF-8
(a BOM is fine). JSON: a list of objects with the same keys; values may be typed."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from typing import Any

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q

from core import json_limits
from core.bulk import bulk_insert
from passports import categories
from passports.models import Product
from passports.services.csv_files import unguarded
from passports.services.issuance import passports_request
from passports.services.products import ATTRIBUTES_PREFIX, PRODUCT_FIELDS, product_build
from wallet.tenancy.authority import Actor, authorise
from wallet.tenancy.legal_models import Mandate
from wallet.tenancy.models import ApiToken, Organisation

PRODUCT_COLUMNS = PRODUCT_FIELDS  # plus one column per attribute key of the row's category
REQUIRED_COLUMNS = ("gtin", "name", "category")
FORMATS = ("csv", "json")
BATCH_SIZE = 1000  # rows per uniqueness query and per INSERT
MAX_ERRORS = 500  # a file this wrong is not worth reading to the end
MAX_FILE_BYTES = 50 * 1024 * 1024


class ImportFailed(Exception):
    """The file was refused; nothing was stored. `errors`: [{"row", "column", "error"}]."""

    def __init__(self, errors: list[dict]):
        self.errors = errors
        super().__init__(f"{len(errors)} error(s) in the import file")


def import_format(filename: str) -> str:
    """`csv` or `json`, from a file name's extension."""
    extension = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    if extension not in FORMATS:
        raise ImportFailed([_error(0, "", "Upload a .csv or .json file.")])
    return extension


def products_check(*, organisation: Organisation, data: bytes | str, format: str,
                   actor: Actor, issue: bool = False) -> int:
    """Validate `data` as products_import would (the same authorisation first), storing
    nothing: the number of products it would create, or ImportFailed with every error of the
    file (duplicates of stored products included)."""
    authorise(actor, organisation=organisation, scope=ApiToken.Scope.PRODUCTS_WRITE)
    if issue:
        authorise(actor, organisation=organisation, scope=Mandate.Scope.PASSPORTS_ISSUE)
    products, errors = _validate(organisation, _read_rows(data, format))
    if errors:
        raise ImportFailed(errors)
    return len(products)


def import_template(category: categories.Category) -> str:
    """A CSV file to start from: the header of every column a product of `category` may have
    (the product's own, then the category's attribute keys), and `category` filled in on the
    first row."""
    columns = [*PRODUCT_COLUMNS, *category.keys]
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(columns)
    writer.writerow(["" if column != "category" else category.name for column in columns])
    return out.getvalue()


def errors_csv(errors: list[dict]) -> str:
    """The errors of a refused file as CSV (row, column, error), to work through."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=["row", "column", "error"])
    writer.writeheader()
    writer.writerows(errors)
    return out.getvalue()


def products_import(*, organisation: Organisation, data: bytes | str, format: str,
                    actor: Actor, issue: bool = False) -> list[Product]:
    """Create one product of `organisation` per row of `data`, or none (ImportFailed).

    With `issue=True`, a passport is requested for every imported product (signed in the
    background, after commit); `actor` then needs the `passports:issue` mandate, checked
    before the file is read (NotAuthorised, nothing stored)."""
    authorise(actor, organisation=organisation, scope=ApiToken.Scope.PRODUCTS_WRITE)
    if issue:
        authorise(actor, organisation=organisation, scope=Mandate.Scope.PASSPORTS_ISSUE)
    rows = _read_rows(data, format)
    products, errors = _validate(organisation, rows)
    if errors:
        raise ImportFailed(errors)
    try:
        with transaction.atomic():
            created = bulk_insert(Product, products)
            if issue and created:
                passports_request(products=created, actor=actor, reason="bulk import",
                                  new_products=True)
    except IntegrityError:
        # Another import stored one of these keys since the check; the unique constraint
        # refused the whole transaction.
        raise ImportFailed([_error(0, "gtin", "A product with one of these GTIN, lot and serial "
                                              "keys was stored meanwhile; nothing was imported. "
                                              "Import again to see which.")]) from None
    return created


# Reading ---------------------------------------------------------------------------------------

def _error(row: int, column: str, message: str) -> dict:
    return {"row": row, "column": column, "error": message}


def _read_rows(data: bytes | str, format: str) -> list[dict[str, Any]]:
    if len(data) > MAX_FILE_BYTES:
        raise ImportFailed([_error(0, "", f"The file is larger than "
                                          f"{MAX_FILE_BYTES // (1024 * 1024)} MB.")])
    if isinstance(data, bytes):
        try:
            data = data.decode("utf-8-sig")
        except UnicodeDecodeError as undecodable:
            raise ImportFailed([_error(0, "", f"The file is not UTF-8 text "
                                              f"(byte {undecodable.start}).")]) from None
    if format == "csv":
        return _csv_rows(data)
    if format == "json":
        return _json_rows(data)
    raise ImportFailed([_error(0, "", f"Unknown format {format!r}; use csv or json.")])


def _csv_rows(text: str) -> list[dict[str, Any]]:
    header = text.split("\n", 1)[0]
    # The header holds only names, so its most frequent separator is the file's separator.
    delimiter = max(",;\t", key=header.count)
    reader = csv.DictReader(io.StringIO(text, newline=""), delimiter=delimiter)
    columns = [name.strip() for name in reader.fieldnames or []]
    _check_columns(columns)
    reader.fieldnames = columns
    rows = []
    for row in reader:
        if None in row:  # DictReader puts cells beyond the header under None
            raise ImportFailed([_error(len(rows) + 1, "",
                                       "The row has more cells than the header has columns.")])
        rows.append({column: unguarded(value) if isinstance(value, str) else value
                     for column, value in row.items()})
    return rows


def _json_rows(text: str) -> list[dict[str, Any]]:
    try:
        rows = json_limits.loads(text)
    except ValueError as malformed:  # JSONDecodeError, JSONTooDeep
        raise ImportFailed([_error(0, "", f"Malformed JSON: {malformed}")]) from None
    if not isinstance(rows, list):
        raise ImportFailed([_error(0, "", "The JSON file must be a list of objects.")])
    errors = [_error(number, "", "Each entry must be an object.")
              for number, row in enumerate(rows, start=1) if not isinstance(row, dict)]
    if errors:
        raise ImportFailed(errors[:MAX_ERRORS])
    _check_columns(sorted({key for row in rows for key in row}), rows_present=bool(rows))
    return rows


def _check_columns(columns: list[str], *, rows_present: bool = True) -> None:
    errors = [_error(0, name, f"Duplicate column {name!r}.")
              for name in sorted({name for name in columns if columns.count(name) > 1})]
    if rows_present:
        errors += [_error(0, name, f"Missing column {name!r}.")
                   for name in REQUIRED_COLUMNS if name not in columns]
    if errors:
        raise ImportFailed(errors)


# Validating ------------------------------------------------------------------------------------

def _product_fields(number: int, row: dict[str, Any]) -> tuple[dict[str, Any], list[dict]]:
    """(keyword arguments of product_build, errors) for one row."""
    fields: dict[str, Any] = {}
    errors = []
    for column in PRODUCT_COLUMNS:
        value = row.get(column)
        if value is None:
            value = ""
        elif isinstance(value, int) and not isinstance(value, bool):
            value = str(value)  # a GTIN or serial written as a JSON number
        elif not isinstance(value, str):
            errors.append(_error(number, column, f"Must be text, not {type(value).__name__}."))
        fields[column] = value
    fields["production_date"] = fields["production_date"] or None
    # Blank cells are "not given": in a CSV with several categories, each row leaves the other
    # categories' columns empty.
    fields["attributes"] = {key: value for key, value in row.items()
                            if key not in PRODUCT_COLUMNS and value not in ("", None)}
    return fields, errors


def _is_blank(row: dict[str, Any]) -> bool:
    """A row of empty cells, as spreadsheets leave at the end of an export."""
    return all(value in ("", None) for value in row.values())


def _column_of(error_key: str) -> str:
    if error_key == NON_FIELD_ERRORS:
        return ""
    return error_key.removeprefix(ATTRIBUTES_PREFIX)


def _validate(organisation: Organisation,
              rows: list[dict[str, Any]]) -> tuple[list[Product], list[dict]]:
    products: list[Product] = []
    errors: list[dict] = []
    seen: dict[tuple[str, str, str], int] = {}  # GS1 key -> the first row that has it
    passed: set = set()  # text values that passed their field's checks (product_build)
    for number, row in enumerate(rows, start=1):
        if len(errors) >= MAX_ERRORS:
            errors.append(_error(number, "", f"Stopped after {MAX_ERRORS} errors."))
            break
        if _is_blank(row):
            continue
        fields, row_errors = _product_fields(number, row)
        if row_errors:
            errors += row_errors
            continue
        try:
            product = product_build(organisation=organisation, validate_unique=False,
                                    passed=passed, **fields)
        except ValidationError as invalid:
            errors += [_error(number, _column_of(key), message)
                       for key, messages in invalid.message_dict.items() for message in messages]
            continue
        key = (product.gtin, product.lot, product.serial)
        if key in seen:
            errors.append(_error(number, "gtin", f"The same GTIN, lot and serial as row "
                                                 f"{seen[key]}."))
            continue
        seen[key] = number
        products.append(product)
    # Keys already stored are errors like any other: listed with them, in row order.
    errors += [_error(seen[key], "gtin", "A product with this GTIN, lot and serial already "
                                         "exists.") for key in _existing_keys(seen)]
    errors.sort(key=lambda error: error["row"])
    return products, errors


def _batches(items: list, size: int) -> Iterator[list]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


def _existing_keys(keys: Iterable[tuple[str, str, str]]) -> list[tuple[str, str, str]]:
    """The keys among `keys` that are already stored: one query per batch."""
    found = []
    for batch in _batches(list(keys), BATCH_SIZE):
        # Narrow by each column, then match whole keys here: one short query either way.
        candidates = Product.objects.filter(
            Q(gtin__in={gtin for gtin, _, _ in batch}),
            Q(lot__in={lot for _, lot, _ in batch}),
            Q(serial__in={serial for _, _, serial in batch}),
        ).values_list("gtin", "lot", "serial")
        wanted = set(batch)
        found += [key for key in candidates if key in wanted]
    return found
