"""The VC Data Model 2.0 rules an issuer checks before it signs, beyond those in
`schemas.vcdm2_errors`: each refusal names the rule's section, so a caller knows what to fix.

Only what can be decided from the document itself (and the bundled base context) is checked
here; no resource is fetched."""

from __future__ import annotations

import re
from functools import cache

from credentials import contexts

VC_V2 = "https://www.w3.org/ns/credentials/v2"
# An absolute URL: a scheme, a colon, then no white space (RFC 3986 has none in a URL).
_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*:[^\s]+$")
# Properties whose every object MUST name its type (§4.5 Types, §5.4, §5.5, §5.6, §4.10, §4.11).
TYPED = ("credentialStatus", "credentialSchema", "termsOfUse", "evidence", "refreshService")
LANGUAGE_VALUE_KEYS = {"@value", "@language", "@direction"}


def is_url(value) -> bool:
    return isinstance(value, str) and bool(_URL.match(value))


def issue_refusals(credential: dict) -> list[str]:
    """What keeps `credential` from being a conforming VCDM 2.0 document, as messages naming the
    rule (empty when it conforms)."""
    errors = _context_errors(credential.get("@context"))
    if "id" in credential and not is_url(credential["id"]):
        errors.append("id: must be a single URL (§4.4 Identifiers)")
    if "issuer" in credential:
        issuer = credential["issuer"]
        issuer_id = issuer.get("id") if isinstance(issuer, dict) else issuer
        if not is_url(issuer_id):
            errors.append("issuer: must be a URL or an object whose id is a URL (§4.7 Issuer)")
        if isinstance(issuer, dict):
            errors += _name_errors(issuer, "issuer.")
    errors += _name_errors(credential, "")
    errors += _type_errors(credential)
    errors += _subject_errors(credential.get("credentialSubject"))
    for field in TYPED:
        for entry in _as_list(credential.get(field)):
            errors += _typed_object_errors(field, entry)
    for schema in _as_list(credential.get("credentialSchema")):
        if isinstance(schema, dict) and not is_url(schema.get("id")):
            errors.append("credentialSchema.id: required, a URL (§4.11 Data Schemas)")
    if "relatedResource" in credential:
        errors += _related_resource_errors(credential["relatedResource"])
    errors += [error for entry in _status_list_entries(credential)
               for error in _status_list_entry_errors(entry)]
    return errors


def _as_list(value) -> list:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


@cache
def _base_terms() -> dict:
    """The terms the VCDM 2.0 base context defines (all @protected)."""
    return {term: definition for term, definition in contexts.load(VC_V2)["@context"].items()
            if not term.startswith("@")}


def _context_errors(context) -> list[str]:
    errors = []
    items = context if isinstance(context, list) else [context]
    protected = dict(_base_terms())
    for index, item in enumerate(items[1:], start=1):
        if isinstance(item, str):
            if not is_url(item):
                errors.append(f"@context[{index}]: {item!r} is not a URL (§4.3 Contexts)")
        elif isinstance(item, dict):
            for term, definition in item.items():
                if term.startswith("@"):
                    continue
                if term in protected and protected[term] != definition:
                    errors.append(f"@context[{index}]: redefines the protected term {term!r} "
                                  "(§4.3 Contexts, §5.3 Extensibility)")
                iri = definition.get("@id") if isinstance(definition, dict) else definition
                if isinstance(iri, str) and not is_url(iri) and ":" in iri:
                    errors.append(f"@context[{index}]: {term!r} maps to {iri!r}, not a URL "
                                  "(§4.5 Types)")
            if item.get("@protected") is True:
                protected.update({term: definition for term, definition in item.items()
                                  if not term.startswith("@")})
        else:
            errors.append(f"@context[{index}]: must be a URL or a context object "
                          "(§4.3 Contexts)")
    return errors


def _type_errors(credential: dict) -> list[str]:
    """Every type is a term or an absolute URL; with `@vocab` switched off, a term must be
    defined by an inline context or the base context (an unmapped term has no meaning)."""
    types = credential.get("type")
    items = types if isinstance(types, list) else [types]
    errors = []
    if any(not isinstance(item, str) or not item for item in items):
        return ["type: must be one or more terms or URLs (§4.5 Types)"]
    inline = [item for item in _as_list(credential.get("@context")) if isinstance(item, dict)]
    if any("@vocab" in item and item["@vocab"] is None for item in inline):
        defined = set(_base_terms())
        for item in inline:
            defined |= set(item)
        errors += [f"type: {item!r} is not defined by any context (§4.5 Types)"
                   for item in items if item not in defined and not is_url(item)]
    return errors


def _subject_errors(subject) -> list[str]:
    if subject is None:
        return ["credentialSubject: required (§4.8 Credential Subject)"]
    errors = []
    for entry in _as_list(subject):
        if not isinstance(entry, dict) or not entry:
            errors.append("credentialSubject: each subject must be an object with at least one "
                          "claim (§4.8 Credential Subject)")
        elif "id" in entry and not is_url(entry["id"]):
            errors.append("credentialSubject.id: must be a single URL (§4.4 Identifiers)")
    return errors


def _typed_object_errors(field: str, entry) -> list[str]:
    if not isinstance(entry, dict):
        return [f"{field}: each value must be an object (§4.5 Types)"]
    errors = []
    kind = entry.get("type")
    kinds = kind if isinstance(kind, list) else [kind]
    if kind is None or not kinds or any(not isinstance(item, str) or not item for item in kinds):
        errors.append(f"{field}.type: required, one or more terms or URLs (§4.5 Types)")
    if "id" in entry and not is_url(entry["id"]):
        errors.append(f"{field}.id: must be a single URL (§4.4 Identifiers)")
    return errors


def _name_errors(holder: dict, prefix: str) -> list[str]:
    errors = []
    for field in ("name", "description"):
        if field in holder and not all(_is_language_value(item)
                                       for item in _as_list(holder[field]) or [None]):
            errors.append(f"{prefix}{field}: must be a string or language value objects "
                          "(§4.6 Names and Descriptions, §11.1)")
    return errors


def _is_language_value(value) -> bool:
    if isinstance(value, str):
        return True
    return (isinstance(value, dict) and isinstance(value.get("@value"), str)
            and set(value) <= LANGUAGE_VALUE_KEYS)


def _related_resource_errors(resources) -> list[str]:
    errors, seen = [], set()
    for entry in _as_list(resources):
        if not isinstance(entry, dict):
            errors.append("relatedResource: each value must be an object (§5.3 Integrity)")
            continue
        if not is_url(entry.get("id")):
            errors.append("relatedResource.id: required, a URL (§5.3 Integrity)")
        elif entry["id"] in seen:
            errors.append(f"relatedResource.id: {entry['id']!r} appears twice (§5.3 Integrity)")
        seen.add(entry.get("id"))
        if "digestSRI" not in entry and "digestMultibase" not in entry:
            errors.append("relatedResource: each needs a digestSRI or digestMultibase "
                          "(§5.3 Integrity)")
    return errors


def _status_list_entries(value) -> list[dict]:
    """Every object typed BitstringStatusListEntry, wherever it is in the document."""
    if isinstance(value, list):
        return [entry for item in value for entry in _status_list_entries(item)]
    if not isinstance(value, dict):
        return []
    found = [value] if value.get("type") == "BitstringStatusListEntry" else []
    return found + [entry for item in value.values() for entry in _status_list_entries(item)]


def _status_list_entry_errors(entry: dict) -> list[str]:
    """Bitstring Status List v1.0 §2.1. `statusListIndex` is a string of base-10 digits; the
    integer UNTP 0.7.0's schema requires is accepted too."""
    errors = []
    index = entry.get("statusListIndex")
    if not (isinstance(index, str) and index.isdigit() or
            isinstance(index, int) and not isinstance(index, bool) and index >= 0):
        errors.append("BitstringStatusListEntry.statusListIndex: a string of base-10 digits "
                      "(Bitstring Status List §2.1)")
    if not is_url(entry.get("statusListCredential")):
        errors.append("BitstringStatusListEntry.statusListCredential: a URL "
                      "(Bitstring Status List §2.1)")
    if not isinstance(entry.get("statusPurpose"), str):
        errors.append("BitstringStatusListEntry.statusPurpose: a string "
                      "(Bitstring Status List §2.1)")
    return errors
