"""The service's JSON-LD extension context, generated from the category files
(docs/architecture.md, Vocabulary).

The UNTP 0.7.0 context leaves the types `DigitalProductPassport` and `Characteristics`, and every
attribute inside a product's `characteristics`, undefined, and pyld drops undefined terms
silently. This context defines them. It comes third in a passport's `@context`, after the VC 2.0
and UNTP contexts, under a URL that does not depend on the deployment's host. It is bundled in
credentials/contexts/ (written by `manage.py build_context`); a test keeps that file equal to
`build_context()`. When the terms change, publish a new version (`.../contexts/v2`): a context
URL is immutable once credentials cite it.

Decisions:
- Every term has an absolute IRI under VOCAB_BASE (no prefixes, so nothing depends on a prefix
  that another context defines or protects).
- `characteristics` itself is UNTP's (protected in its `Product` scoped context): not redefined.
- Plain numbers carry no `@type`, so JSON numbers stay native (xsd:integer / xsd:double in RDF).
  `@type: xsd:decimal` would make pyld write a float in double notation (`8.7E-2`) as an
  xsd:decimal literal, which is not a valid decimal.
- Attributes with a unit hold UNTP Measures; their scoped context gives `value` and `unit` the
  IRIs and types UNTP's own Measure has (the unit a Rec 20 code under UnitMeasureCode#).
- Dates, months and URLs are typed literals (xsd:date, xsd:gYearMonth, xsd:anyURI).
"""

from __future__ import annotations

import json
from pathlib import Path

from credentials import contexts
from passports.categories import Attribute, all_versions

CONTEXT_URL = "https://w3id.org/dpp-wallet/contexts/v1"
VOCAB_BASE = "https://w3id.org/dpp-wallet/vocab#"
CONTEXT_FILE = Path(contexts.__file__).resolve().parent / "dpp-wallet-v1.jsonld"
# DigitalIdentityAnchor: the UNTP 0.7.0 context leaves the DIA credential type undefined too.
# AccessRoleCredential: the wallet's role credential ("authorised recycler" for an access group).
# The other UNTP credential types (conformity, traceability, facility) are undefined there too.
TYPES = ("DigitalProductPassport", "Characteristics", "DigitalIdentityAnchor",
         "AccessRoleCredential", "DigitalConformityCredential", "DigitalTraceabilityEvent",
         "DigitalFacilityRecord")
# Terms of the service's own credentials, beside the category attributes.
CREDENTIAL_TERMS = {"role": {"@id": VOCAB_BASE + "role"},
                    "accessGroup": {"@id": VOCAB_BASE + "accessGroup"}}

UNTP = "https://vocabulary.uncefact.org/untp/"
UNIT_CODES = "https://vocabulary.uncefact.org/UnitMeasureCode#"
XSD = "http://www.w3.org/2001/XMLSchema#"
LITERAL_TYPES = {"date": XSD + "date", "month": XSD + "gYearMonth", "url": XSD + "anyURI"}

# UNTP 0.7.0's Measure, as its context defines it under `measure`.
MEASURE_CONTEXT = {
    "@protected": True,
    "value": {"@id": UNTP + "value", "@type": XSD + "double"},
    "unit": {
        "@id": UNTP + "unit",
        "@type": "@vocab",
        "@context": {"@protected": True, "@vocab": UNIT_CODES},
    },
}


def term_iri(name: str) -> str:
    return VOCAB_BASE + name


def term_definition(attribute: Attribute) -> dict:
    definition: dict = {"@id": term_iri(attribute.key)}
    if attribute.unit:
        definition["@context"] = MEASURE_CONTEXT
    elif attribute.type in LITERAL_TYPES:
        definition["@type"] = LITERAL_TYPES[attribute.type]
    return definition


def build_context() -> dict:
    """The context document: the two types, then every attribute of every category version."""
    terms: dict[str, dict] = {}
    defined_by: dict[str, str] = {}
    for category in all_versions():
        for attribute in category.attributes:
            definition = term_definition(attribute)
            here = f"{category.name} v{category.version}"
            if attribute.key in terms and terms[attribute.key] != definition:
                # One term, one meaning: the context cannot define it twice.
                raise ValueError(
                    f"attribute {attribute.key!r} has different definitions in "
                    f"{defined_by[attribute.key]} and {here}: rename one of them"
                )
            terms.setdefault(attribute.key, definition)
            defined_by.setdefault(attribute.key, here)
    clashes = (set(terms) & set(TYPES)) | (set(terms) & set(CREDENTIAL_TERMS))
    if clashes:
        raise ValueError(f"attribute keys clash with type names: {sorted(clashes)}")
    context: dict = {"@version": 1.1, "@protected": True}
    context.update({name: {"@id": term_iri(name)} for name in TYPES})
    context.update(CREDENTIAL_TERMS)
    context.update({key: terms[key] for key in sorted(terms)})
    return {"@context": context}


def render_context() -> str:
    """The context file's exact text (stable: sorted terms, two-space indent, final newline)."""
    return json.dumps(build_context(), indent=2, ensure_ascii=False) + "\n"
