"""The service's JSON-LD context: generated from the categories, bundled, and complete."""

import json

import pytest
from django.core.management import CommandError, call_command
from pyld import jsonld

from credentials import contexts
from credentials.contexts import document_loader
from passports import categories, vocabulary
from passports.vocabulary import (
    CONTEXT_FILE,
    CONTEXT_URL,
    VOCAB_BASE,
    build_context,
    render_context,
)
from tests.support.attributes import sample_value

VC_V2 = "https://www.w3.org/ns/credentials/v2"
UNTP = "https://vocabulary.uncefact.org/untp/0.7.0/context/"
UNTP_VOCAB = "https://vocabulary.uncefact.org/untp/"
CREDENTIALS = "https://www.w3.org/2018/credentials#"
XSD = "http://www.w3.org/2001/XMLSchema#"


def every_attribute() -> dict:
    """Every attribute of every category version, by key (a key shared by categories once)."""
    return {attribute.key: attribute
            for category in categories.all_versions() for attribute in category.attributes}


def passport_with_every_attribute() -> dict:
    characteristics = {"type": ["Characteristics"]}
    for category in categories.all_versions():
        values = {attribute.key: sample_value(attribute) for attribute in category.attributes}
        characteristics.update(categories.to_characteristics(category, values))
    return {
        "@context": [VC_V2, UNTP, CONTEXT_URL],
        "type": ["DigitalProductPassport", "VerifiableCredential"],
        "id": "https://dpp.example.com/credentials/1",
        "issuer": {"type": ["CredentialIssuer"], "id": "did:web:dpp.example.com:orgs:acme",
                   "name": "Acme Batteries B.V."},
        "validFrom": "2025-01-01T00:00:00Z",
        "credentialSubject": {
            "type": ["Product"],
            "id": "https://dpp.example.com/01/09506000134352",
            "name": "Every attribute",
            "characteristics": characteristics,
        },
    }


def expand(document: dict) -> list:
    return jsonld.expand(document, {"documentLoader": document_loader})


def test_committed_context_file_is_what_build_context_generates():
    assert CONTEXT_FILE.read_text(encoding="utf-8") == render_context()
    assert json.loads(CONTEXT_FILE.read_text(encoding="utf-8")) == build_context()
    call_command("build_context", "--check")


def test_the_context_is_bundled_under_its_permanent_url():
    entry = contexts.manifest()[CONTEXT_URL]

    assert entry["file"] == CONTEXT_FILE.name
    assert "build_context" in entry["source"]
    assert document_loader(CONTEXT_URL)["document"] == build_context()
    assert "localhost" not in CONTEXT_URL and CONTEXT_URL.startswith("https://w3id.org/")


def test_context_defines_the_types_and_every_attribute_without_redefining_untp_terms():
    context = build_context()["@context"]

    assert context["@version"] == 1.1
    assert context["@protected"] is True
    assert context["DigitalProductPassport"] == {"@id": VOCAB_BASE + "DigitalProductPassport"}
    assert context["Characteristics"] == {"@id": VOCAB_BASE + "Characteristics"}
    assert "characteristics" not in context
    for key in every_attribute():
        assert context[key]["@id"] == VOCAB_BASE + key


def test_plain_numbers_are_left_untyped_so_they_stay_json_numbers():
    context = build_context()["@context"]

    assert XSD + "decimal" not in json.dumps(context)
    for key, attribute in every_attribute().items():
        if attribute.type in ("integer", "decimal") and not attribute.unit:
            assert "@type" not in context[key], key


def test_a_key_meaning_two_things_is_refused(monkeypatch):
    ours = categories.Attribute(key="mass", label="Mass", type="decimal", access="public",
                                unit="KGM")
    theirs = categories.Attribute(key="mass", label="Mass", type="string", access="public")
    clashing = (categories.Category("a", 1, "A", "", (ours,)),
                categories.Category("b", 1, "B", "", (theirs,)))
    monkeypatch.setattr(vocabulary, "all_versions", lambda: clashing)

    with pytest.raises(ValueError, match="'mass' has different definitions in a v1 and b v1"):
        build_context()


def test_check_fails_when_the_committed_context_is_stale(monkeypatch):
    monkeypatch.setattr("passports.management.commands.build_context.render_context",
                        lambda: "{}\n")

    with pytest.raises(CommandError, match="out of date"):
        call_command("build_context", "--check")


def test_pyld_keeps_every_attribute_of_every_category():
    """The key test: no term is dropped by JSON-LD expansion (pyld drops undefined terms
    silently), the types expand to absolute IRIs, Measures keep value and Rec 20 unit."""
    document = passport_with_every_attribute()
    attributes = every_attribute()
    sent = document["credentialSubject"]["characteristics"]
    assert set(sent) - {"type"} == set(attributes)

    [credential] = expand(document)

    assert VOCAB_BASE + "DigitalProductPassport" in credential["@type"]
    [subject] = credential[CREDENTIALS + "credentialSubject"]
    assert subject["@type"] == [UNTP_VOCAB + "Product"]
    [characteristics] = subject[UNTP_VOCAB + "characteristics"]
    assert characteristics["@type"] == [VOCAB_BASE + "Characteristics"]
    expanded_terms = set(characteristics) - {"@type"}
    assert expanded_terms == {VOCAB_BASE + key for key in attributes}
    assert len(expanded_terms) == len(sent) - 1

    for key, attribute in attributes.items():
        [value] = characteristics[VOCAB_BASE + key]
        if attribute.unit:
            assert value[UNTP_VOCAB + "unit"] == [
                {"@id": "https://vocabulary.uncefact.org/UnitMeasureCode#" + attribute.unit}]
            [number] = value[UNTP_VOCAB + "value"]
            assert number["@value"] == sent[key]["value"]
        elif attribute.type in ("integer", "decimal"):
            assert value == {"@value": sent[key]}  # a native JSON number, untyped
        else:
            assert value["@value"] == sent[key]


def test_compacting_back_gives_the_same_characteristics():
    document = passport_with_every_attribute()

    compacted = jsonld.compact(expand(document), {"@context": document["@context"]},
                               {"documentLoader": document_loader})

    sent = dict(document["credentialSubject"]["characteristics"])
    received = dict(compacted["credentialSubject"]["characteristics"])
    assert received.pop("type") == "Characteristics"  # compaction unwraps one-item arrays
    assert sent.pop("type") == ["Characteristics"]
    assert received == sent
    assert compacted["type"] == ["DigitalProductPassport", "VerifiableCredential"]


def test_rdf_of_a_passport_uses_typed_literals():
    document = passport_with_every_attribute()

    nquads = jsonld.normalize(document, {"documentLoader": document_loader,
                                         "algorithm": "URDNA2015",
                                         "format": "application/n-quads"})

    assert f'<{VOCAB_BASE}manufacturingDate> "2024-05"^^<{XSD}gYearMonth>' in nquads
    assert f'<{VOCAB_BASE}cycleLifeTestCRate> "1.25E1"^^<{XSD}double>' in nquads
    assert f'<{UNTP_VOCAB}unit> <https://vocabulary.uncefact.org/UnitMeasureCode#AMH>' in nquads
    assert "example.org/base" not in nquads  # no relative IRI was resolved against a base
