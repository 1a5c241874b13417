"""Schema registry: JSON schemas by credential type, compiled once, formats checked, plus the
W3C VC Data Model 2.0 rules that the UNTP schemas leave out."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from functools import cache
from pathlib import Path

import orjson
from jsonschema import Draft202012Validator

HERE = Path(__file__).resolve().parent
VC_V2 = "https://www.w3.org/ns/credentials/v2"
VC_V1 = "https://www.w3.org/2018/credentials/v1"


@cache
def manifest() -> dict[str, dict]:
    return json.loads((HERE / "manifest.json").read_text())["schemas"]


@cache
def validator(name: str) -> Draft202012Validator:
    """A compiled validator with format checking (date-time, uri, ...)."""
    schema = json.loads((HERE / manifest()[name]["file"]).read_text())
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)


def schema_for_types(types: list[str]) -> str | None:
    for name, entry in manifest().items():
        if entry["type"] and entry["type"] in types:
            return name
    return None


def schema_errors(name: str, document: dict) -> list[str]:
    """The schema's complaints about `document`. Pure, so memoised by content: validating a UNTP
    passport costs 1.5-2 ms, hashing it a few microseconds, and the same passports are verified
    again and again (every scan of a QR code)."""
    try:
        digest = hashlib.sha256(orjson.dumps(document, option=orjson.OPT_SORT_KEYS)).digest()
    except TypeError:  # not plain JSON: validate without the memo
        return list(_schema_errors(name, document))
    return list(_memo_errors(name, digest, document))


def _memo_errors(name: str, digest: bytes, document: dict) -> tuple[str, ...]:
    key = (name, digest)
    if key not in _MEMO:
        if len(_MEMO) >= MEMO_SIZE:
            _MEMO.pop(next(iter(_MEMO)))  # oldest first
        _MEMO[key] = _schema_errors(name, document)
    return _MEMO[key]


def _schema_errors(name: str, document: dict) -> tuple[str, ...]:
    errors = sorted(validator(name).iter_errors(document), key=lambda e: list(e.absolute_path))
    return tuple(f"{'/'.join(map(str, e.absolute_path)) or '(root)'}: {e.message}"
                 for e in errors)


MEMO_SIZE = 4096
_MEMO: dict[tuple[str, bytes], tuple[str, ...]] = {}


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
