"""Product categories: versioned data files and the rules they imply.

Each category version is a JSON file next to this module, `<name>.v<version>.json` (battery,
textile, electronics, generic). A file is never edited once passports use it: a change is a new
version, so every issued passport keeps meaning what it meant. The files are read once and
cached; a malformed file raises `CategoryFileError` at load time, not in the middle of a request.

Values arrive as JSON numbers or as strings from forms and CSV files. `clean_attributes`
normalises them so the same input always gives the same credential: integral numbers become
`int`, other decimals `float` (jsonld.js reads 150.0 as an integer, pyld as a double, so an
integral float would canonicalise differently in the two), booleans `bool`, dates ISO strings.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

CATEGORY_DIR = Path(__file__).resolve().parent

# Annex XIII of Regulation (EU) 2023/1542, from the widest audience to the narrowest. Usable as
# Django `choices`.
ACCESS_GROUPS: tuple[tuple[str, str], ...] = (
    ("public", "Public"),
    ("legitimate_interest", "Persons with a legitimate interest"),
    (
        "legitimate_interest_commission",
        "Persons with a legitimate interest and the Commission",
    ),
    (
        "authorities",
        "Notified bodies, market surveillance authorities and the Commission",
    ),
)
ACCESS_GROUP_KEYS = tuple(key for key, _label in ACCESS_GROUPS)

VALUE_TYPES = ("string", "integer", "decimal", "boolean", "date", "month", "url", "enum")
NUMERIC_TYPES = ("integer", "decimal")

# The key of a non-field error in `validate_attributes` (Django's NON_FIELD_ERRORS).
NON_FIELD = "__all__"

_FILE_NAME = re.compile(r"^(?P<name>[a-z][a-z0-9_]*)\.v(?P<version>[1-9][0-9]*)\.json$")
# A JSON-LD term that needs no escaping and cannot be mistaken for a keyword, an IRI or a type
# (the types are capitalised).
_TERM = re.compile(r"^[a-z][A-Za-z0-9]*$")
# Terms that characteristics objects already use for JSON-LD itself.
_RESERVED_KEYS = {"id", "type"}
_REC20_CODE = re.compile(r"^[A-Z0-9]{2,3}$")
_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")
_TRUE = {"true", "yes", "1"}
_FALSE = {"false", "no", "0"}
MAX_TEXT_LENGTH = 10_000
MAX_URL_LENGTH = 2_000


class CategoryFileError(ValueError):
    """A category data file is malformed."""


class UnknownCategory(LookupError):
    pass


class InvalidAttributes(ValueError):
    """Attribute values that do not fit their category; `errors` maps each field to messages."""

    def __init__(self, errors: dict[str, list[str]]):
        self.errors = errors
        super().__init__(
            "; ".join(message for messages in errors.values() for message in messages)
        )


@dataclass(frozen=True)
class Attribute:
    key: str
    label: str
    type: str
    access: str
    required: bool = False
    unit: str | None = None  # UNECE Recommendation 20 code
    unit_text: str | None = None  # the unit in words when Rec 20 has no code
    min: int | float | None = None
    max: int | float | None = None
    choices: tuple[str, ...] | None = None
    pattern: str | None = None
    section: str | None = None
    source: str | None = None
    key_fact: bool = False

    @property
    def display_unit(self) -> str | None:
        return self.unit_text or self.unit


@dataclass(frozen=True)
class Category:
    name: str
    version: int
    label: str
    regulation: str
    attributes: tuple[Attribute, ...]
    _by_key: dict[str, Attribute] = field(init=False, repr=False, compare=False)
    keys: tuple[str, ...] = field(init=False, repr=False, compare=False)  # in file order
    required_keys: frozenset[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self):
        object.__setattr__(self, "_by_key", {item.key: item for item in self.attributes})
        object.__setattr__(self, "keys", tuple(self._by_key))
        object.__setattr__(self, "required_keys",
                           frozenset(item.key for item in self.attributes if item.required))

    def attribute(self, key: str) -> Attribute:
        return self._by_key[key]

    def __contains__(self, key: object) -> bool:
        return key in self._by_key


    @property
    def key_facts(self) -> tuple[Attribute, ...]:
        return tuple(item for item in self.attributes if item.key_fact)

    def in_group(self, access: str) -> tuple[Attribute, ...]:
        return tuple(item for item in self.attributes if item.access == access)


# Loading ---------------------------------------------------------------------------------------

_ATTRIBUTE_FIELDS = {
    "key", "label", "type", "access", "required", "unit", "unit_text", "min", "max", "choices",
    "pattern", "section", "source", "key_fact",
}


def _parse_attribute(raw: dict, where: str) -> Attribute:
    unknown = set(raw) - _ATTRIBUTE_FIELDS
    if unknown:
        raise CategoryFileError(f"{where}: unknown fields {sorted(unknown)}")
    missing = {"key", "label", "type", "access"} - set(raw)
    if missing:
        raise CategoryFileError(f"{where}: missing fields {sorted(missing)}")
    key = raw["key"]
    where = f"{where} {key!r}"
    if not isinstance(key, str) or not _TERM.match(key) or key in _RESERVED_KEYS:
        raise CategoryFileError(f"{where}: a key is a camelCase term of letters and digits")
    if raw["type"] not in VALUE_TYPES:
        raise CategoryFileError(f"{where}: type must be one of {', '.join(VALUE_TYPES)}")
    if raw["access"] not in ACCESS_GROUP_KEYS:
        raise CategoryFileError(f"{where}: access must be one of {', '.join(ACCESS_GROUP_KEYS)}")
    numeric = raw["type"] in NUMERIC_TYPES
    unit = raw.get("unit")
    if unit is not None and not (numeric and _REC20_CODE.match(unit)):
        raise CategoryFileError(f"{where}: a unit is a Rec 20 code on a number attribute")
    if raw.get("unit_text") and (unit or not numeric):
        raise CategoryFileError(f"{where}: unit_text is for number attributes without a code")
    if ("min" in raw or "max" in raw) and not numeric:
        raise CategoryFileError(f"{where}: min and max are for number attributes")
    if (raw["type"] == "enum") != bool(raw.get("choices")):
        raise CategoryFileError(f"{where}: enum attributes, and only they, have choices")
    if raw.get("pattern") is not None:
        if raw["type"] != "string":
            raise CategoryFileError(f"{where}: a pattern is for string attributes")
        re.compile(raw["pattern"])
    return Attribute(
        key=key,
        label=raw["label"],
        type=raw["type"],
        access=raw["access"],
        required=bool(raw.get("required", False)),
        unit=unit,
        unit_text=raw.get("unit_text"),
        min=raw.get("min"),
        max=raw.get("max"),
        choices=tuple(raw["choices"]) if raw.get("choices") else None,
        pattern=raw.get("pattern"),
        section=raw.get("section"),
        source=raw.get("source"),
        key_fact=bool(raw.get("key_fact", False)),
    )


def _parse_file(path: Path) -> Category:
    match = _FILE_NAME.match(path.name)
    raw = json.loads(path.read_text(encoding="utf-8"))
    if raw.get("category") != match["name"] or raw.get("version") != int(match["version"]):
        raise CategoryFileError(f"{path.name}: category and version must match the file name")
    attributes = tuple(
        _parse_attribute(item, f"{path.name} attribute {index}")
        for index, item in enumerate(raw["attributes"])
    )
    keys = [item.key for item in attributes]
    duplicates = sorted({key for key in keys if keys.count(key) > 1})
    if duplicates:
        raise CategoryFileError(f"{path.name}: duplicate keys {duplicates}")
    return Category(
        name=raw["category"],
        version=raw["version"],
        label=raw["label"],
        regulation=raw.get("regulation", ""),
        attributes=attributes,
    )


@cache
def _versions() -> dict[str, dict[int, Category]]:
    found: dict[str, dict[int, Category]] = {}
    for path in sorted(CATEGORY_DIR.glob("*.json")):
        if _FILE_NAME.match(path.name):
            category = _parse_file(path)
            found.setdefault(category.name, {})[category.version] = category
    return {name: dict(sorted(found[name].items())) for name in sorted(found)}


def categories() -> dict[str, Category]:
    """The latest version of every category, by name."""
    return {name: versions[max(versions)] for name, versions in _versions().items()}


def all_versions() -> tuple[Category, ...]:
    """Every version of every category (old passports keep their version's attributes)."""
    return tuple(category for versions in _versions().values() for category in versions.values())


def get(name: str, version: int | None = None) -> Category:
    """A category by name; the latest version unless `version` is given."""
    versions = _versions().get(name)
    if not versions:
        raise UnknownCategory(f"unknown product category {name!r}")
    if version is None:
        return versions[max(versions)]
    if version not in versions:
        raise UnknownCategory(f"product category {name!r} has no version {version}")
    return versions[version]


# Validation ------------------------------------------------------------------------------------

class _Invalid(Exception):
    pass


_EXPECTED = {
    "string": "text",
    "integer": "an integer",
    "decimal": "a decimal number",
    "boolean": "true or false",
    "date": "a date YYYY-MM-DD",
    "month": "a month YYYY-MM",
    "url": "an http or https URL",
    "enum": "one of the listed choices",
}


def _as_number(value: Any) -> Decimal:
    if isinstance(value, bool):  # bool is an int in Python, never a number here
        raise _Invalid
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise _Invalid
        return Decimal(repr(value))
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise _Invalid
        return value
    if isinstance(value, str) and _NUMBER.match(value.strip()):
        return Decimal(value.strip())
    raise _Invalid


def _number(number: Decimal) -> int | float:
    """Integral numbers as int, others as the nearest float (see the module docstring)."""
    if number == number.to_integral_value():
        return int(number)
    result = float(number)
    if not math.isfinite(result):
        raise _Invalid
    return result


def _clean_value(attribute: Attribute, value: Any) -> Any:
    """The normalised value, or _Invalid."""
    kind = attribute.type
    if kind in NUMERIC_TYPES:
        number = _as_number(value)
        if kind == "integer" and number != number.to_integral_value():
            raise _Invalid
        return _number(number)
    if kind == "boolean":
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
            return value.strip().lower() in _TRUE
        raise _Invalid
    if kind == "date" and isinstance(value, date) and not isinstance(value, datetime):
        return value.isoformat()
    if not isinstance(value, str):
        raise _Invalid
    text = value.strip()
    if kind == "date":
        if not _DATE.match(text):
            raise _Invalid
        try:
            date.fromisoformat(text)
        except ValueError as error:
            raise _Invalid from error
    elif kind == "month":
        if not _MONTH.match(text):
            raise _Invalid
    elif kind == "url":
        parts = urlsplit(text)
        if (parts.scheme not in ("http", "https") or not parts.hostname
                or any(char.isspace() for char in text) or len(text) > MAX_URL_LENGTH):
            raise _Invalid
    elif kind == "enum":
        if text not in attribute.choices:
            raise _Invalid
    elif len(text) > MAX_TEXT_LENGTH:
        raise _Invalid
    return text


def _describe(attribute: Attribute) -> str:
    return f"{attribute.label} ({attribute.key})"


def _check_attribute(attribute: Attribute, value: Any) -> tuple[Any, list[str]]:
    """(normalised value, error messages) for one present value. A scalar (text, as forms and
    CSV files give, or a number or boolean, as stored attributes and JSON give) is checked
    once per attribute and value: a bulk import repeats most cells, and issuing re-checks the
    stored attributes of every product. The check is a pure function of the two; the memo's
    key holds the value's type (True and 1 are equal in Python, not here) and, for a float,
    its repr (-0.0 and 0.0 are equal, but a message shows the repr)."""
    kind = type(value)
    if kind is str or kind is int or kind is bool:
        key = (id(attribute), kind, value)
    elif kind is float:
        key = (id(attribute), kind, repr(value))
    else:
        return _check_value(attribute, value)
    known = _CHECKED.get(key)
    if known is None or known[0] is not attribute:
        cleaned, errors = _check_value(attribute, value)
        if len(_CHECKED) >= _CHECKED_MAX:
            _CHECKED.clear()
        # The attribute itself is kept, so its id() is not reused while the entry lives.
        known = _CHECKED[key] = (attribute, cleaned, tuple(errors))
    return known[1], list(known[2])


_CHECKED: dict[tuple[int, type, Any], tuple[Attribute, Any, tuple[str, ...]]] = {}
_CHECKED_MAX = 65536


def _check_value(attribute: Attribute, value: Any) -> tuple[Any, list[str]]:
    name = _describe(attribute)
    if attribute.unit and isinstance(value, Mapping):
        # A UNTP Measure, as `to_characteristics` renders it and credentials carry it.
        if set(value) - {"value", "unit"} or "value" not in value:
            return None, [f"{name} must be a number or a Measure {{value, unit}}"]
        if value.get("unit", attribute.unit) != attribute.unit:
            return None, [f"{name} must be in unit {attribute.unit}, not {value['unit']!r}"]
        value = value["value"]
    try:
        cleaned = _clean_value(attribute, value)
    except _Invalid:
        expected = _EXPECTED[attribute.type]
        if attribute.type == "enum":
            expected = "one of " + ", ".join(attribute.choices)
        return None, [f"{name} must be {expected}, not {value!r}"]

    errors = []
    if attribute.min is not None and cleaned < attribute.min:
        errors.append(f"{name} must be at least {attribute.min}, not {cleaned}")
    if attribute.max is not None and cleaned > attribute.max:
        errors.append(f"{name} must be at most {attribute.max}, not {cleaned}")
    if attribute.pattern and not re.search(attribute.pattern, cleaned):
        errors.append(f"{name} must match {attribute.pattern}, not {cleaned!r}")
    return cleaned, errors


def _passed(category: Category, values: Mapping, partial: bool) -> dict | None:
    """`_clean`'s result for values that all pass, from the outcomes of cells met before; None
    when a value is new, fails, or is not a scalar (`_clean` then decides, and says why).

    Only passing outcomes are kept, per category version, attribute key, value type and value
    (a float's repr, see _check_attribute), so a row of values met before costs one look-up
    per cell instead of _clean's calls: a bulk import repeats most cells, and issuing re-checks
    the stored attributes of every product."""
    passed = _PASSED.get(id(category))
    if passed is None or passed[0] is not category:
        if len(_PASSED) >= 64:
            _PASSED.clear()
        passed = _PASSED[id(category)] = (category, {})
    known = passed[1]
    cleaned = {}
    for key, value in values.items():
        kind = type(value)
        if kind is str:
            if not value.strip():
                continue  # not given
            cell = (key, kind, value)
        elif kind is int or kind is bool:
            cell = (key, kind, value)
        elif kind is float:
            cell = (key, kind, repr(value))
        elif value is None:
            continue
        else:
            return None
        if cell not in known:
            if key not in category or key == "type":
                return None
            result, messages = _check_attribute(category.attribute(key), value)
            if messages:
                return None
            if len(known) >= _CHECKED_MAX:
                known.clear()
            known[cell] = result
        cleaned[key] = known[cell]
    if not partial and not category.required_keys <= cleaned.keys():
        return None
    return {key: cleaned[key] for key in category.keys if key in cleaned}


_PASSED: dict[int, tuple[Category, dict[tuple[str, type, Any], Any]]] = {}


def passed_cells(category: Category, key: str, values: Iterable[Any]) -> dict[Any, Any] | None:
    """`{value: normalised value}` for values of attribute `key` (scalars, none blank), when
    every one passes: what `clean_attributes` keeps of each, for callers that check a file
    column by column (each distinct value once). None when `key` is not the category's or
    any value fails (`clean_attributes` then says why, in its words)."""
    if key not in category or key == "type":
        return None
    attribute = category.attribute(key)
    cleaned = {}
    for value in values:
        result, messages = _check_attribute(attribute, value)
        if messages:
            return None
        cleaned[value] = result
    return cleaned


def _clean(category: Category, values: Any, partial: bool) -> tuple[dict, dict[str, list[str]]]:
    if not isinstance(values, Mapping):
        return {}, {NON_FIELD: ["attributes must be an object of key: value"]}
    cleaned = _passed(category, values, partial)
    if cleaned is not None:
        return cleaned, {}
    cleaned: dict[str, Any] = {}
    errors: dict[str, list[str]] = {}
    for key, value in values.items():
        if key == "type" and value in (["Characteristics"], "Characteristics"):
            continue  # a credential's characteristics object carries its JSON-LD type
        if key not in category:
            errors[key] = [
                f"unknown attribute {key!r} for category {category.name} v{category.version}"
            ]
            continue
        if value is None or (isinstance(value, str) and not value.strip()):
            continue  # an empty form field or CSV cell: not given
        result, messages = _check_attribute(category.attribute(key), value)
        if messages:
            errors[key] = messages
        else:
            cleaned[key] = result
    if not partial:
        for attribute in category.attributes:
            if attribute.required and attribute.key not in cleaned and attribute.key not in errors:
                errors[attribute.key] = [f"{_describe(attribute)} is required"]
    # Category order, so that the same values always render the same way.
    ordered = {key: cleaned[key] for key in category.keys if key in cleaned}
    return ordered, errors


def validate_attributes(
    category: Category, values: Mapping[str, Any], *, partial: bool = False
) -> dict[str, list[str]]:
    """Field-level errors, `{key: [message, ...]}`; empty when the values are valid.

    `partial=True` skips the required check (one access group's share, a partial update).
    None and blank strings count as not given. Measure objects `{value, unit}` are accepted for
    attributes with a unit, and `"type": ["Characteristics"]` is ignored, so the
    characteristics of a credential validate as they are.
    """
    return _clean(category, values, partial)[1]


def clean_attributes(
    category: Category, values: Mapping[str, Any], *, partial: bool = False
) -> dict[str, Any]:
    """The values normalised (see the module docstring), in category order; raises
    InvalidAttributes with the field errors of `validate_attributes`."""
    cleaned, errors = _clean(category, values, partial)
    if errors:
        raise InvalidAttributes(errors)
    return cleaned


def split_by_access(category: Category, values: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """`{access group: {key: value}}` for all four groups in ACCESS_GROUPS order (a group without
    values maps to {}). Values pass unchanged; an unknown key raises InvalidAttributes, since
    dropping it would lose data silently."""
    unknown = [key for key in values if key not in category]
    if unknown:
        raise InvalidAttributes(
            {key: [f"unknown attribute {key!r} for category {category.name}"] for key in unknown}
        )
    groups: dict[str, dict[str, Any]] = {group: {} for group in ACCESS_GROUP_KEYS}
    for attribute in category.attributes:
        if attribute.key in values:
            groups[attribute.access][attribute.key] = values[attribute.key]
    return groups


def to_characteristics(category: Category, values: Mapping[str, Any]) -> dict[str, Any]:
    """The attributes as a credential's `characteristics` carry them, in category order.

    Attributes with a Rec 20 unit become UNTP Measures `{"value": n, "unit": code}`; the rest are
    plain values (an attribute with only `unit_text` gives a bare number: its unit is in the
    category). The result has no `type`: the caller adds `"type": ["Characteristics"]`, and an
    empty result means the group has no data. Checks types but not required attributes, so it
    renders one access group's share as well as the whole; raises InvalidAttributes.
    """
    characteristics: dict[str, Any] = {}
    for key, value in clean_attributes(category, values, partial=True).items():
        unit = category.attribute(key).unit
        characteristics[key] = {"value": value, "unit": unit} if unit else value
    return characteristics
