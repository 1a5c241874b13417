"""Writes on products: create and update, with GS1 keys normalised and category attributes
validated against the product's category file.

Field errors are raised as one django ValidationError whose keys are the product's field names,
and `attributes.<key>` for a category attribute (e.g. `attributes.ratedCapacity`), so an admin
form or an API can put each message next to its field."""

from __future__ import annotations

from datetime import date
from functools import lru_cache
from typing import Any

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import transaction
from django_countries import countries

from passports import categories, gs1
from passports.models import Product
from wallet.tenancy.models import Organisation

ATTRIBUTES_PREFIX = "attributes."
# A product's own fields, as forms and import files name them (the attributes come on top).
PRODUCT_FIELDS = ("gtin", "lot", "serial", "name", "description", "category", "facility_name",
                  "facility_id", "country_of_production", "production_date")
UPDATABLE_FIELDS = frozenset({*PRODUCT_FIELDS, "attributes"})
# Text fields whose model checks (length, GS1 characters, URL) depend on the value alone, and
# leave it as it is: see product_build's `passed`.
_TEXT_FIELDS = ("gtin", "lot", "serial", "name", "description", "category", "facility_name",
                "facility_id", "country_of_production")


def country_code(value: str) -> str:
    """The ISO 3166-1 alpha-2 code of `value`: a code (any case) or a country's English name
    ("Netherlands" → NL). Anything else is refused, never cut to two letters."""
    text = value.strip()
    code = _country_code(text)
    if code:
        return code
    raise ValidationError(f"“{text}” is not a country: use an ISO 3166-1 alpha-2 code such as "
                          f"NL or DE, or the country's English name.")


@lru_cache(maxsize=1024)
def _country_code(text: str) -> str:
    """The code of `text`, or "" (a pure look-up: a bulk import asks the same few again)."""
    if len(text) == 2 and text.upper() in countries:
        return text.upper()
    return (countries.by_name(text, insensitive=True) if len(text) > 2 else "") or ""


def attribute_error_key(key: str) -> str:
    """The ValidationError key of a category attribute: `attributes.<key>`."""
    return f"{ATTRIBUTES_PREFIX}{key}"


def product_attributes_clean(*, category: categories.Category,
                             attributes: dict[str, Any] | None) -> dict[str, Any]:
    """The attribute values normalised for `category` (numbers from text, dates as ISO text,
    category order); raises ValidationError keyed `attributes.<key>`."""
    try:
        return categories.clean_attributes(category, attributes or {})
    except categories.InvalidAttributes as invalid:
        raise ValidationError({
            (NON_FIELD_ERRORS if key == categories.NON_FIELD else attribute_error_key(key)):
                messages
            for key, messages in invalid.errors.items()
        }) from None


def product_build(*, organisation: Organisation, gtin: str, name: str, category: str,
                  lot: str = "", serial: str = "", description: str = "",
                  facility_name: str = "", facility_id: str = "",
                  country_of_production: str = "", production_date: date | str | None = None,
                  attributes: dict[str, Any] | None = None, category_version: int | None = None,
                  validate_unique: bool = True, passed: set | None = None) -> Product:
    """An unsaved, fully validated Product; raises ValidationError with every field error.

    Makes no query when `validate_unique` is False, so a bulk import can check the GS1 keys of
    a whole batch in one query instead. `passed`: a set the caller keeps across many products
    (a bulk import), where the text values that passed their model field's checks are noted,
    so a value met before (the same category, facility, name on every row) is not checked
    again: those checks depend on the value alone."""
    product = Product(organisation=organisation)
    _assign(product, gtin=gtin, name=name, category=category, lot=lot, serial=serial,
            description=description, facility_name=facility_name, facility_id=facility_id,
            country_of_production=country_of_production, production_date=production_date,
            attributes=attributes, category_version=category_version,
            validate_unique=validate_unique, passed=passed)
    return product


@transaction.atomic
def product_create(*, organisation: Organisation, gtin: str, name: str, category: str,
                   lot: str = "", serial: str = "", description: str = "",
                   facility_name: str = "", facility_id: str = "",
                   country_of_production: str = "", production_date: date | None = None,
                   attributes: dict[str, Any] | None = None) -> Product:
    """A new product of `organisation`, described by the latest version of its category."""
    product = product_build(
        organisation=organisation, gtin=gtin, name=name, category=category, lot=lot,
        serial=serial, description=description, facility_name=facility_name,
        facility_id=facility_id, country_of_production=country_of_production,
        production_date=production_date, attributes=attributes)
    product.save()
    return product


@transaction.atomic
def product_update(*, product: Product, **fields: Any) -> Product:
    """Change some fields of `product` (any of UPDATABLE_FIELDS). The attributes are validated
    against the product's category version, or the latest version when the category changes.
    Issued passports keep their data: a new passport version carries the change."""
    unknown = set(fields) - UPDATABLE_FIELDS
    if unknown:
        raise TypeError(f"product_update() cannot change {', '.join(sorted(unknown))}")
    current = {name: getattr(product, name) for name in UPDATABLE_FIELDS}
    current_version = product.category_version
    category_changed = fields.get("category", product.category) != product.category
    try:
        _assign(product, **{**current, **fields},
                category_version=None if category_changed else current_version,
                validate_unique=True)
    except ValidationError:
        # The caller's instance keeps describing the stored row.
        for name, value in current.items():
            setattr(product, name, value)
        product.category_version = current_version
        raise
    product.save()
    return product


def _assign(product: Product, *, gtin, name, category, lot, serial, description, facility_name,
            facility_id, country_of_production, production_date, attributes,
            category_version: int | None, validate_unique: bool,
            passed: set | None = None) -> None:
    """Set the normalised values on `product` and validate them all, collecting every error."""
    errors: dict[str, list[str]] = {}
    text = {field: (value or "").strip() for field, value in {
        "gtin": gtin, "lot": lot, "serial": serial, "name": name, "description": description,
        "facility_name": facility_name, "facility_id": facility_id,
        "country_of_production": country_of_production}.items()}

    try:
        text["gtin"] = gs1.normalise_gtin(text["gtin"])
    except ValidationError as invalid:
        errors["gtin"] = invalid.messages
    if text["country_of_production"]:
        try:
            text["country_of_production"] = country_code(text["country_of_production"])
        except ValidationError as invalid:
            errors["country_of_production"] = invalid.messages

    definition = None
    try:
        definition = categories.get(category, category_version)
    except categories.UnknownCategory as unknown:
        errors["category"] = [str(unknown)]
    cleaned_attributes = attributes or {}
    if definition is not None:
        try:
            cleaned_attributes = product_attributes_clean(category=definition,
                                                          attributes=attributes)
        except ValidationError as invalid:
            errors.update(invalid.message_dict)

    for field, value in text.items():
        setattr(product, field, value)
    product.category = category
    product.category_version = definition.version if definition else (category_version or 1)
    product.production_date = production_date or None
    product.attributes = cleaned_attributes

    # The organisation is a saved instance given by the caller: checking that it exists would
    # cost a query per product. Fields that already failed are not checked twice, nor text
    # values that passed before (see product_build).
    exclude = {"organisation", *errors}
    if passed is not None:
        exclude.update(name for name in _TEXT_FIELDS if (name, getattr(product, name)) in passed)
    try:
        product.full_clean(exclude=exclude, validate_unique=validate_unique,
                           validate_constraints=validate_unique)
    except ValidationError as invalid:
        for field, messages in invalid.message_dict.items():
            errors.setdefault(field, []).extend(messages)
    if passed is not None:
        passed.update((name, getattr(product, name)) for name in _TEXT_FIELDS
                      if name not in errors)
    if product.organisation_id is None:
        errors.setdefault("organisation", []).append("A product belongs to an organisation.")
    if errors:
        raise ValidationError(errors)
