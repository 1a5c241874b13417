"""The admin's export actions: the products and passports a staff member selected, as CSV and
JSON. (The API's paged, streamed exports of everything are passports/services/exports.py.)

A product export is in the bulk import's format (the product's columns, then one column per
attribute key of the exported categories), so an exported file imports again as it is. A
passport export lists each version with its state, reason and addresses."""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import date, datetime

from passports import categories
from passports.models import Passport, Product
from passports.services.bulk_import import PRODUCT_COLUMNS
from passports.services.csv_files import csv_chunks

FORMATS = {"csv": "text/csv; charset=utf-8", "json": "application/json"}
PASSPORT_COLUMNS = ("id", "gtin", "lot", "serial", "product", "version", "state", "state_reason",
                    "issued_at", "credential", "public_page")


def _text(value) -> str | int | float | bool | None:
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    return value


def _attribute_columns(products: list[Product]) -> list[str]:
    """The attribute keys of the products' categories, in their category files' order."""
    columns: dict[str, None] = {}
    for name, version in sorted({(p.category, p.category_version) for p in products}):
        try:
            keys = categories.get(name, version).keys
        except categories.UnknownCategory:
            keys = ()
        columns.update(dict.fromkeys(keys))
    for product in products:  # anything stored beyond the category file, last
        columns.update(dict.fromkeys(product.attributes or {}))
    return [key for key in columns if key not in PRODUCT_COLUMNS]


def product_rows(products: Iterable[Product]) -> tuple[list[str], list[dict]]:
    products = list(products)
    columns = [*PRODUCT_COLUMNS, *_attribute_columns(products)]
    rows = [{**{name: _text(getattr(product, name)) for name in PRODUCT_COLUMNS},
             **{key: value for key, value in (product.attributes or {}).items()}}
            for product in products]
    return columns, rows


def passport_rows(passports: Iterable[Passport]) -> tuple[list[str], list[dict]]:
    rows = [{"id": str(passport.pk), "gtin": passport.product.gtin, "lot": passport.product.lot,
             "serial": passport.product.serial, "product": passport.product.name,
             "version": passport.version, "state": passport.state,
             "state_reason": passport.state_reason, "issued_at": _text(passport.issued_at),
             "credential": passport.credential_url, "public_page": passport.product.digital_link}
            for passport in passports]
    return list(PASSPORT_COLUMNS), rows


def render(columns: list[str], rows: list[dict], format: str) -> str:
    """CSV (passports/services/csv_files.py: a header, one row each, blank for what a row
    lacks, lists and objects as JSON, a cell starting like a formula kept text) or JSON (a
    list of objects, typed values, nothing blank left out)."""
    if format == "json":
        return json.dumps([{key: value for key, value in row.items()
                            if value not in ("", None)} for row in rows],
                          ensure_ascii=False, indent=1)
    if format != "csv":
        raise ValueError(f"Unknown export format {format!r}; use csv or json.")
    return "".join(csv_chunks(columns, rows))
