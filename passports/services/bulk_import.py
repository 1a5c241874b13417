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
import json
from collections.abc import Iterable, Iterator, Sequence
from functools import partial
from itertools import repeat
from typing import Any

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import IntegrityError, connections, transaction
from django.db.models import Model, Q
from django.db.models.base import ModelState
from django.utils import timezone

from core import collector, json_limits
from core.bulk import (
    bulk_insert,
    copy_columns,
    copy_escape,
    copy_text,
    execute_arrays,
    field_copy_texts,
    next_keys,
)
from passports import categories, gs1
from passports.models import Product
from passports.services.csv_files import unguarded
from passports.services.issuance import first_passports_request
from passports.services.products import (
    ATTRIBUTES_PREFIX,
    PRODUCT_FIELDS,
    country_code,
    product_build,
)
from wallet.tenancy.authority import Actor, authorise
from wallet.tenancy.legal_models import Mandate
from wallet.tenancy.models import ApiToken, Organisation

PRODUCT_COLUMNS = PRODUCT_FIELDS  # plus one column per attribute key of the row's category
REQUIRED_COLUMNS = ("gtin", "name", "category")
FORMATS = ("csv", "json")
BATCH_SIZE = 1000  # rows per uniqueness query and per INSERT
MAX_ERRORS = 500  # a file this wrong is not worth reading to the end
MAX_FILE_BYTES = 50 * 1024 * 1024
_STORED_KEY = "A product with this GTIN, lot and serial already exists."


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


@collector.paused()  # a file's rows, alive until checked (core/collector.py)
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


@collector.paused()  # a file's rows, alive until stored (core/collector.py)
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
            if isinstance(products, _Columns):
                created = products.store()
            else:
                created = bulk_insert(Product, products)
            if issue and created:
                first_passports_request(products=created, actor=actor, reason="bulk import")
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


def _read_rows(data: bytes | str, format: str) -> list[dict[str, Any]] | _Table:
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


def _csv_rows(text: str) -> _Table:
    header = text.split("\n", 1)[0]
    # The header holds only names, so its most frequent separator is the file's separator.
    delimiter = max(",;\t", key=header.count)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    columns = [name.strip() for name in next(reader, None) or []]
    _check_columns(columns)
    records = list(filter(None, reader))  # an empty line (no cells) is no row
    if records and max(map(len, records)) > len(columns):
        number = next(number for number, record in enumerate(records, start=1)
                      if len(record) > len(columns))
        raise ImportFailed([_error(number, "",
                                   "The row has more cells than the header has columns.")])
    return _Table(columns, records)


class _Table:
    """A CSV file's column names and its rows' cells as read (before `unguarded`): checked
    column by column (_RowChecker.table), or as `rows()` row by row."""

    def __init__(self, columns: list[str], records: list[list[str]]):
        self.columns, self.records = columns, records

    def rows(self) -> list[dict[str, Any]]:
        """Each row as csv.DictReader gives it (a cell the row lacks is None), unguarded."""
        columns = self.columns
        rows = []
        for record in self.records:
            row = {column: unguarded(value) for column, value in zip(columns, record, strict=False)}
            row.update(dict.fromkeys(columns[len(record):]))
            rows.append(row)
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


def _validate(organisation: Organisation, rows: list[dict[str, Any]] | _Table
              ) -> tuple[list[Product] | _Columns, list[dict]]:
    checker = _RowChecker(organisation)
    if isinstance(rows, _Table):
        columns = checker.table(rows)
        if columns is not None:  # every row passed every check
            found = _existing_keys(columns.keys)
            if not found:
                return columns, []
            number = dict(zip(columns.keys, columns.numbers, strict=True))
            return columns, [_error(number[key], "gtin", _STORED_KEY) for key in
                             sorted(found, key=number.__getitem__)]
        rows = rows.rows()  # a check failed: row by row, for every error in its words
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
        product = checker.product(fields)
        if product is None:  # a check failed: the reference path says which, in its words
            try:
                product = product_build(organisation=organisation, validate_unique=False,
                                        passed=passed, **fields)
            except ValidationError as invalid:
                errors += [_error(number, _column_of(key), message)
                           for key, messages in invalid.message_dict.items()
                           for message in messages]
                continue
        key = (product.gtin, product.lot, product.serial)
        if key in seen:
            errors.append(_error(number, "gtin", f"The same GTIN, lot and serial as row "
                                                 f"{seen[key]}."))
            continue
        seen[key] = number
        products.append(product)
    # Keys already stored are errors like any other: listed with them, in row order.
    errors += [_error(seen[key], "gtin", _STORED_KEY) for key in _existing_keys(seen)]
    errors.sort(key=lambda error: error["row"])
    return products, errors


class _RowChecker:
    """product_build's checks for the rows of one file, each check's outcome kept per value.

    A row passes when every check product_build makes passes: its GTIN normalised and
    checked, its country found, its category known, its attributes cleaned for that category
    (categories.clean_attributes, itself remembering each cell's outcome), and then each model
    field's own `clean` (Model.clean_fields: to_python, blank, max_length, validators) on the
    values product_build sets, the organisation excepted as product_build excepts it. Each of
    those depends on the value alone (and the field), so a value met before is not checked
    again; the attributes' field (JSON) is checked on every row. The Product is then the one
    product_build makes, field by field. A row where any check fails gets None: the caller runs
    product_build itself, for its errors in its words (tests/passports/test_bulk_fast_paths.py
    compares both on 1,000 generated rows of every category)."""

    _TEXT = ("gtin", "lot", "serial", "name", "description", "facility_name", "facility_id",
             "country_of_production")

    def __init__(self, organisation: Organisation):
        self.organisation = organisation
        self.fields = [field for field in Product._meta.concrete_fields
                       if field.name != "organisation" and not field.generated]
        self.outcomes: dict[tuple[str, Any], tuple[bool, Any]] = {}
        # What Product(organisation=organisation) holds before the row's values are set.
        template = Product(organisation=organisation)
        self.template = {name: value for name, value in template.__dict__.items()
                         if name != "_state"}
        self.template.pop("attributes")  # a row's own dict, never one shared
        self.example = template  # the instance Field.clean is given (it checks values alone)
        self.json = Product._meta.get_field("attributes")

    def _new(self, values: dict[str, Any]) -> Product:
        """Product(organisation=..., **values), made as Django makes a model instance when it
        unpickles one (Model.__reduce__): the instance's attributes set at once instead of
        one descriptor call per field (__init__ cost more than the row's checks). `values`
        holds every field __init__ would set besides the template's."""
        product = Product.__new__(Product)
        state = ModelState()
        state.fields_cache["organisation"] = self.organisation
        product.__dict__.update(self.template, **values, _state=state)
        return product

    def _text(self, name: str, raw: str) -> tuple[bool, str]:
        """(passed, normalised) for the text of product field `name`, as _assign sets it."""
        key = ("text:" + name, raw)
        known = self.outcomes.get(key)
        if known is None:
            value = (raw or "").strip()
            try:
                if name == "gtin":
                    value = gs1.normalise_gtin(value)
                elif name == "country_of_production" and value:
                    value = country_code(value)
                known = (True, value)
            except ValidationError:
                known = (False, None)
            self.outcomes[key] = known
        return known

    def _field(self, field, raw: Any) -> tuple[bool, Any]:
        """(passed, cleaned) of Model.clean_fields for one field's value (not blank)."""
        key = (field.name, type(raw), raw)
        known = self.outcomes.get(key)
        if known is None:
            try:
                known = (True, field.clean(raw, self.example))
            except ValidationError:
                known = (False, None)
            self.outcomes[key] = known
        return known

    def table(self, table: _Table) -> _Columns | None:
        """The rows of `table` as columns, when every row passes every check `product` makes:
        the same checks, column by column: each distinct value of a column once (a file
        repeats most), and per row only what depends on the row (its category's required
        attributes, its GS1 key not repeated). None when any check fails: the caller then goes
        row by row, for each error in its words."""
        if Product.clean is not Model.clean or self.json.validators:
            return None  # a rule across a row's fields: row by row
        width = len(table.columns)
        records = table.records
        if not records or min(map(len, records)) < width:
            return None  # a row without some cells: row by row
        numbers = list(range(1, len(records) + 1))
        if not all(map(any, records)):  # a row of empty cells is skipped, as _validate skips
            numbers = [number for number, record in zip(numbers, records, strict=True)
                       if any(record)]
            records = [record for record in records if any(record)]
        count = len(records)
        cells = {name: _unguarded(column) for name, column in
                 zip(table.columns, zip(*records, strict=True), strict=True)}
        columns = _Columns(self.organisation, self.template, count, numbers)
        for field in self.fields:
            name = field.name
            if name in self._TEXT:
                column = cells.get(name) or ("",) * count
                values = {}
                for raw in set(column):
                    passed, value = self._text(name, raw)
                    if passed:
                        passed, value = self._value(field, value)
                    if not passed:
                        return None
                    values[raw] = value
                columns.add(field, column, values)
            elif name == "category":
                column = cells.get(name) or ("",) * count
                definitions, values, versions = {}, {}, {}
                for raw in set(column):
                    try:
                        definitions[raw] = categories.get(raw)
                    except categories.UnknownCategory:
                        return None
                    passed, values[raw] = self._value(field, raw)
                    passed_version, versions[raw] = self._value(
                        Product._meta.get_field("category_version"), definitions[raw].version)
                    if not (passed and passed_version):
                        return None
                columns.add(field, column, values)
                columns.add(Product._meta.get_field("category_version"), column, versions)
                if not self._attributes(columns, cells, column, definitions):
                    return None
            elif name == "production_date":
                column = cells.get(name) or ("",) * count
                values = {}
                for raw in set(column):
                    passed, values[raw] = self._value(field, raw or None)
                    if not passed:
                        return None
                columns.add(field, column, values)
            elif name not in ("category_version", "attributes"):  # as the template has it
                if not self._value(field, self.template[field.attname])[0]:
                    return None
        columns.keys = list(zip(columns.values["gtin"], columns.values["lot"],
                                columns.values["serial"], strict=True))
        if len(set(columns.keys)) != count:
            return None  # a key repeated: row by row, to name the rows
        return columns

    def _value(self, field, raw: Any) -> tuple[bool, Any]:
        if field.blank and raw in field.empty_values:
            return True, raw
        return self._field(field, raw)

    def _attributes(self, columns: _Columns, cells: dict[str, Sequence[str]],
                    category_column: Sequence[str], definitions: dict) -> bool:
        """Each row's attributes, as clean_attributes makes them, column by column per
        category: False when a value fails, a key is not the category's, or a required one is
        blank. The JSON field's check (json.dumps) is made on each distinct value, and the
        JSON text of each row is made from those texts (the dumps of a dict is theirs)."""
        count = columns.count
        keys = [name for name in cells if name not in PRODUCT_COLUMNS]
        attributes: list = [None] * count
        texts: list = [None] * count
        groups = ({raw: range(count) for raw in definitions} if len(definitions) == 1 else
                  _positions(category_column))
        dumps = partial(json.dumps, cls=self.json.encoder)
        for raw, rows in groups.items():
            definition = definitions[raw]
            present, blanks = [], False
            for key in definition.keys:  # category order, as clean_attributes orders them
                if key not in cells or key in PRODUCT_COLUMNS:  # a product column: not given
                    if key in definition.required_keys:
                        return False
                    continue
                column = cells[key]
                if len(groups) > 1:
                    column = [column[row] for row in rows]
                distinct = set(column)
                given = [value for value in distinct if value.strip()]
                if len(given) < len(distinct):  # blank cells: not given
                    if key in definition.required_keys:
                        return False
                    blanks = True
                if not given:
                    continue
                cleaned = categories.passed_cells(definition, key, given)
                if cleaned is None:
                    return False
                try:  # COPY's escapes per text: they hold no line break, maybe a backslash
                    text = {value: copy_escape(f"{dumps(key)}: {dumps(result)}")
                            for value, result in cleaned.items()}
                except (TypeError, ValueError):
                    return False
                present.append((key, column, cleaned, text, len(distinct) == 1))
            for key in keys:  # any other column with a value: clean_attributes refuses it
                if key not in definition and any(
                        cells[key][row].strip() for row in rows):
                    return False
            names = [key for key, *_ in present]
            values = [_per_cell(cleaned, column, same) for _, column, cleaned, _, same in present]
            parts = [_per_cell(text, column, same) for _, column, _, text, same in present]
            if blanks:  # a blank cell's value and text are None: left out
                made = [{name: value for name, value in zip(names, row, strict=True)
                         if value is not None} for row in zip(*values, strict=True)]
                joined = ["{" + ", ".join(filter(None, row)) + "}"
                          for row in zip(*parts, strict=True)]
            else:
                made = [dict(zip(names, row, strict=True)) for row in zip(*values, strict=True)]
                joined = ["{" + ", ".join(row) + "}" for row in zip(*parts, strict=True)]
            if not present:
                made, joined = [{} for _ in rows], ["{}"] * len(rows)
            if len(groups) == 1:
                attributes, texts = made, joined
            else:
                for row, made_row, text in zip(rows, made, joined, strict=True):
                    attributes[row], texts[row] = made_row, text
        columns.values["attributes"] = attributes
        columns.attribute_texts = texts
        return True

    def product(self, fields: dict[str, Any]) -> Product | None:
        values = {}
        for name in self._TEXT:
            passed, values[name] = self._text(name, fields[name])
            if not passed:
                return None
        try:
            definition = categories.get(fields["category"])
            values["attributes"] = categories.clean_attributes(definition,
                                                               fields["attributes"] or {})
        except (categories.UnknownCategory, categories.InvalidAttributes):
            return None
        values["category"] = fields["category"]
        values["category_version"] = definition.version
        values["production_date"] = fields["production_date"] or None
        product = self._new(values)
        # Model.clean_fields, each outcome kept per field and value (the JSON field excepted).
        for field in self.fields:
            raw = getattr(product, field.attname)
            if field.blank and raw in field.empty_values:
                continue
            if isinstance(raw, dict):
                try:
                    setattr(product, field.attname, field.clean(raw, product))
                except ValidationError:
                    return None
                continue
            passed, value = self._field(field, raw)
            if not passed:
                return None
            setattr(product, field.attname, value)
        try:
            product.clean()  # Model.clean_fields is followed by clean, as in full_clean
        except ValidationError:
            return None
        return product


def _unguarded(column: Sequence[str]) -> Sequence[str]:
    """`unguarded` of each cell of a column, each distinct value once."""
    changed = {value: text for value in set(column) if (text := unguarded(value)) != value}
    return column if not changed else [changed.get(value, value) for value in column]


def _per_cell(mapping: dict[str, Any], column: Sequence[str], same: bool) -> Iterable:
    """mapping.get(cell) for each cell of `column`; when every cell is the same (most attribute
    columns of a file), its one value repeated, without a look-up per cell."""
    if same:
        return repeat(mapping.get(column[0]), len(column))
    return map(mapping.get, column)


def _positions(column: Sequence[str]) -> dict[str, list[int]]:
    positions: dict[str, list[int]] = {}
    for position, value in enumerate(column):
        positions.setdefault(value, []).append(position)
    return positions


class _Columns:
    """A file's products when every row passed (_RowChecker.table), column by column: each
    field's values, from which the products are stored (COPY, without an instance per row on
    PostgreSQL) and made."""

    def __init__(self, organisation: Organisation, template: dict, count: int,
                 numbers: list[int]):
        self.organisation, self.template, self.count = organisation, template, count
        self.numbers = numbers  # each product's row in the file
        self.values: dict[str, list] = {}  # attname: each row's value
        self.distinct: list[tuple] = []  # (field, cells, {cell: value}) for the COPY texts
        self.attribute_texts: list[str] = []  # each row's attributes as JSON, COPY-escaped
        self.keys: list[tuple[str, str, str]] = []

    def __len__(self) -> int:
        return self.count

    def add(self, field, cells: Sequence[str], values: dict[str, Any]) -> None:
        self.distinct.append((field, cells, values))
        if len(values) == 1:
            self.values[field.attname] = [*values.values()] * self.count
        else:
            self.values[field.attname] = list(map(values.__getitem__, cells))

    def store(self) -> list[Product]:
        """Insert the products (in the caller's transaction), as bulk_insert inserts them."""
        connection = connections[Product.objects.db]
        if connection.vendor != "postgresql":
            return bulk_insert(Product, self.products())
        keys = next_keys(Product, self.count)
        now = timezone.now()  # auto_now_add and auto_now, as their pre_save set them
        texts: dict[str, Sequence[str] | str] = {
            "id": list(map(str, keys)), "organisation_id": str(self.organisation.pk),
            "created_at": copy_text(now), "updated_at": copy_text(now),
            "attributes": self.attribute_texts}
        for field, cells, values in self.distinct:
            text = dict(zip(values, field_copy_texts(field, values.values(), connection),
                            strict=True))
            texts[field.attname] = [*text.values()][0] if len(text) == 1 else \
                list(map(text.__getitem__, cells))
        copy_columns(Product, self.count, texts)
        return self.products(keys=keys, now=now, database=connection.alias)

    def products(self, *, keys: list | None = None, now=None,
                 database: str | None = None) -> list[Product]:
        """The Product of each row, made as _RowChecker._new makes one; saved ones if keys."""
        names = [*self.values, "id", "created_at", "updated_at"]
        columns = [*self.values.values(), keys or repeat(None, self.count),
                   repeat(now, self.count), repeat(now, self.count)]
        template, organisation = self.template, self.organisation
        products = []
        for row in zip(*columns, strict=True):
            product = Product.__new__(Product)
            state = ModelState()
            state.fields_cache["organisation"] = organisation
            if keys:
                state.adding, state.db = False, database
            product.__dict__.update(template)
            product.__dict__.update(zip(names, row, strict=True))
            product._state = state
            products.append(product)
        return products


def _batches(items: list, size: int) -> Iterator[list]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


def _existing_keys(keys: Iterable[tuple[str, str, str]]) -> list[tuple[str, str, str]]:
    """The keys among `keys` that are already stored: one query per batch (on PostgreSQL,
    one query for the file: the keys go as three arrays, matched whole in the database)."""
    connection = connections[Product.objects.db]
    if connection.vendor == "postgresql":
        keys = list(keys)
        if not keys:
            return []
        table = connection.ops.quote_name(Product._meta.db_table)
        return [tuple(key) for key in execute_arrays(
            connection,
            f"SELECT p.gtin, p.lot, p.serial FROM {table} p JOIN unnest("  # noqa: S608
            f"%b::text[], %b::text[], %b::text[]) AS k(gtin, lot, serial) "
            f"ON p.gtin = k.gtin AND p.lot = k.lot AND p.serial = k.serial",
            [list(column) for column in zip(*keys, strict=True)])]
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
