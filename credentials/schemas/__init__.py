"""Schema registry: JSON schemas by credential type, compiled once, formats checked, plus the
W3C VC Data Model 2.0 rules that the UNTP schemas leave out.

Each schema is compiled twice: by jsonschema-rs (Rust; a UNTP passport in ~0.1 ms instead of
1.5-2 ms) to decide whether a document conforms, and by jsonschema, the reference, which words
the errors of a document that does not. The Rust validator checks formats with jsonschema's
own format checkers (and ignores the formats jsonschema ignores), so both judge alike; a
document the Rust validator refuses is judged again by jsonschema, whose errors are the
answer (tests/credentials/test_schema_fast_path.py compares the two)."""

from __future__ import annotations

import json
from datetime import datetime
from functools import cache, lru_cache
from pathlib import Path

import jsonschema_rs
from jsonschema import Draft202012Validator

HERE = Path(__file__).resolve().parent
VC_V2 = "https://www.w3.org/ns/credentials/v2"
VC_V1 = "https://www.w3.org/2018/credentials/v1"


@cache
def manifest() -> dict[str, dict]:
    return json.loads((HERE / "manifest.json").read_text())["schemas"]


def _schema(name: str) -> dict:
    return json.loads((HERE / manifest()[name]["file"]).read_text())


@cache
def validator(name: str) -> Draft202012Validator:
    """The reference validator, with format checking (date-time, uri, ...)."""
    schema = _schema(name)
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)


@cache
def fast_validator(name: str) -> jsonschema_rs.Draft202012Validator:
    """The same schema compiled by jsonschema-rs, its formats checked by jsonschema's checkers:
    those jsonschema knows with the same functions, the others not at all (as jsonschema)."""
    checker = Draft202012Validator.FORMAT_CHECKER
    formats = {name: _conforms(checker, name) if name in checker.checkers else _anything
               for name in _formats(_schema(name))}
    return jsonschema_rs.Draft202012Validator(_schema(name), formats=formats,
                                              validate_formats=True)


def _conforms(checker, format_name: str):
    """The format's check, remembered per value: a pure function of the string, asked for
    the same context, vocabulary and issuer URIs in every passport."""
    remembered = lru_cache(maxsize=4096)(lambda value: checker.conforms(value, format_name))
    return lambda value: remembered(value) if isinstance(value, str) else checker.conforms(
        value, format_name)


def _anything(value) -> bool:
    return True


def _formats(schema) -> set[str]:
    """Every `format` a schema names, wherever it is."""
    found = set()
    if isinstance(schema, dict):
        if isinstance(schema.get("format"), str):
            found.add(schema["format"])
        for value in schema.values():
            found |= _formats(value)
    elif isinstance(schema, list):
        for value in schema:
            found |= _formats(value)
    return found


def schema_for_types(types: list[str]) -> str | None:
    for name, entry in manifest().items():
        if entry["type"] and entry["type"] in types:
            return name
    return None


def schema_errors(name: str, document: dict) -> list[str]:
    """The schema's complaints about `document`: none when jsonschema-rs finds it conforms,
    else jsonschema's (the reference's words)."""
    try:
        if fast_validator(name).is_valid(document):
            return []
    except (ValueError, TypeError, OverflowError):  # not plain JSON: the reference decides
        pass
    return reference_errors(name, document)


def reference_errors(name: str, document: dict) -> list[str]:
    """jsonschema's complaints about `document`, in document order."""
    errors = sorted(validator(name).iter_errors(document), key=lambda e: list(e.absolute_path))
    return [f"{'/'.join(map(str, e.absolute_path)) or '(root)'}: {e.message}" for e in errors]


def parse_datetime(value) -> datetime | None:
    """An XML Schema dateTime with a time zone, as VCDM requires; None when it is not one."""
    if not isinstance(value, str) or "T" not in value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else None


def _id_of(value):
    return value.get("id") if isinstance(value, dict) else value


def vcdm2_errors(credential: dict) -> list[str]:
    """The VC Data Model 2.0 rules a credential must meet (§4), beyond any type's schema."""
    errors = []
    context = credential.get("@context")
    if not isinstance(context, list) or not context or context[0] != VC_V2:
        errors.append(f"@context: the first context must be {VC_V2}")
    types = credential.get("type")
    if not isinstance(types, list) or "VerifiableCredential" not in types:
        errors.append("type: must be a list that includes VerifiableCredential")
    issuer = _id_of(credential.get("issuer"))
    if not isinstance(issuer, str) or ":" not in issuer:
        errors.append("issuer: must be a URL (or an object whose id is one)")
    if not credential.get("credentialSubject"):
        errors.append("credentialSubject: required")
    credential_id = credential.get("id", "urn:absent")
    if not isinstance(credential_id, str) or ":" not in credential_id:
        errors.append("id: must be a URL")
    bounds = {}
    for field in ("validFrom", "validUntil"):
        if field in credential:
            bounds[field] = parse_datetime(credential[field])
            if bounds[field] is None:
                errors.append(f"{field}: must be an XML Schema dateTime with a time zone")
    if bounds.get("validFrom") and bounds.get("validUntil") and \
            bounds["validUntil"] < bounds["validFrom"]:
        errors.append("validUntil: earlier than validFrom")
    for status in _as_list(credential.get("credentialStatus")):
        if not isinstance(status, dict) or "type" not in status:
            errors.append("credentialStatus: each entry must be an object with a type")
    return errors


def _as_list(value) -> list:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]
