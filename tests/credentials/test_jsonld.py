"""JSON-LD engine: plain pyld's canonical form, refusing what pyld would drop, cached safely."""

import copy
import threading

import pytest
from pyld import jsonld as pyld

from credentials import contexts, jsonld
from credentials.errors import MalformedCredential, UndefinedTerms, UnknownContext
from tests.support.credential_fixtures import (
    CREDENTIALS_V2,
    EXAMPLES_V2,
    UNTP_CONTEXT,
    battery_passport,
    battery_passport_v1,
    load_json,
    load_text,
)

# What UNTP 0.7.0 leaves undefined in its battery sample: 2 types and 18 characteristics.
UNDEFINED_IN_UNTP_SAMPLE = [
    "Characteristics", "DigitalProductPassport", "batteryCategory", "batteryChemistry",
    "capacityThresholdForExhaustion", "certifiedUsableEnergy", "expectedLifetimeCycles",
    "expectedLifetimeYears", "extinguishingAgent", "initialInternalResistance",
    "initialRoundTripEnergyEfficiency", "initialSelfDischargeRate", "maximumPermittedPower",
    "maximumVoltage", "minimumVoltage", "nominalVoltage", "originalPowerCapability",
    "ratedCapacity", "temperatureRangeIdleState", "warrantyPeriodMonths",
]


def plain_pyld(document: dict) -> str:
    """What pyld gives with nothing but the static loader (fresh processor, pyld defaults)."""
    return pyld.normalize(copy.deepcopy(document), {
        "algorithm": "URDNA2015", "format": "application/n-quads",
        "documentLoader": contexts.document_loader})


def small_credential(**subject) -> dict:
    return {"@context": [CREDENTIALS_V2, EXAMPLES_V2], "type": ["VerifiableCredential"],
            "issuer": "did:example:issuer", "credentialSubject": {"id": "did:example:s", **subject}}


def test_w3c_vector_document_canonical_form():
    expected = load_text("eddsa-rdfc-2022/canonDocDataInt.txt")
    assert jsonld.canonicalize(load_json("eddsa-rdfc-2022/unsigned.json")) == expected


@pytest.mark.parametrize("make", [battery_passport, battery_passport_v1],
                         ids=["vcdm2", "vcdm1.1"])
def test_same_canonical_form_as_plain_pyld(make):
    document = make()
    assert jsonld.canonicalize(document) == plain_pyld(document)


def test_cached_contexts_give_the_same_result_across_documents_and_calls():
    """Interleave documents sharing contexts: memoised contexts must not leak between them."""
    documents = [battery_passport(), load_json("eddsa-rdfc-2022/unsigned.json"),
                 battery_passport_v1(), small_credential(carbonFootprint=0.087)]
    expected = [plain_pyld(d) for d in documents]
    for _ in range(3):
        assert [jsonld.canonicalize(d) for d in documents] == expected


def test_inline_contexts_canonicalise_like_their_urls_and_do_not_grow_the_cache():
    by_url = jsonld.canonicalize(battery_passport_v1())
    inline = battery_passport_v1(inline_contexts=True)
    assert jsonld.canonicalize(inline) == by_url
    memo = jsonld._caches()[0]
    size = len(memo)
    for _ in range(3):
        jsonld.canonicalize(battery_passport_v1(inline_contexts=True))
    assert len(memo) == size


def test_canonicalize_is_thread_safe():
    document = battery_passport()
    expected = plain_pyld(document)
    results, errors = [], []

    def work():
        try:
            for _ in range(3):
                results.append(jsonld.canonicalize(document))
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert results == [expected] * 12


def test_undefined_untp_terms_are_named():
    passport = battery_passport()
    passport["@context"] = [CREDENTIALS_V2, UNTP_CONTEXT]  # without the extension context
    with pytest.raises(UndefinedTerms) as caught:
        jsonld.canonicalize(passport)
    assert caught.value.terms == UNDEFINED_IN_UNTP_SAMPLE
    with pytest.raises(UndefinedTerms):
        jsonld.expand(passport)


def test_plain_pyld_would_have_hidden_them():
    """Why the check exists: pyld drops the 18 attributes and, with its default base, even makes
    the undefined types look like IRIs."""
    passport = battery_passport()
    passport["@context"] = [CREDENTIALS_V2, UNTP_CONTEXT]
    quads = plain_pyld(passport)
    assert "batteryChemistry" not in quads
    assert "<http://example.org/base/DigitalProductPassport>" in quads


def test_undefined_type_in_a_vc():
    document = {"@context": [CREDENTIALS_V2], "type": ["VerifiableCredential", "PassportThing"],
                "issuer": "did:example:issuer", "credentialSubject": {"id": "did:example:s"}}
    with pytest.raises(UndefinedTerms) as caught:
        jsonld.canonicalize(document)
    assert caught.value.terms == ["PassportThing"]


def test_terms_mapped_to_null_and_keyword_lookalikes_are_named():
    document = {"@context": {"kept": "https://example.com/kept", "hidden": None},
                "@id": "https://example.com/x", "kept": 1, "hidden": 2, "@secret": 3}
    with pytest.raises(UndefinedTerms) as caught:
        jsonld.canonicalize(document)
    assert caught.value.terms == ["@secret", "hidden"]


def test_relative_iris_are_refused():
    document = small_credential()
    document["credentialSubject"]["id"] = "product-7"  # relative: pyld would drop the node
    with pytest.raises(MalformedCredential, match="product-7"):
        jsonld.canonicalize(document)


def test_unknown_context_is_refused():
    document = small_credential()
    document["@context"].append("https://example.com/unknown/v1")
    with pytest.raises(UnknownContext, match="example.com/unknown"):
        jsonld.canonicalize(document)


def test_invalid_json_ld_is_malformed():
    with pytest.raises(MalformedCredential, match="JSON-LD"):
        jsonld.canonicalize({"@context": {"@version": 2}, "@id": "https://example.com/x"})


def test_decimal_follows_the_spec():
    # RDF canonical form of a JSON double: 0.087 becomes 8.699999999999999E-2 (xsd:double in
    # canonical lexical form, as pyld and jsonld.js write it; didkit writes it differently).
    quads = jsonld.canonicalize(small_credential(carbonFootprint=0.087))
    assert '"8.699999999999999E-2"^^<http://www.w3.org/2001/XMLSchema#double>' in quads


def test_registering_a_context_again_takes_effect():
    url = "https://w3id.org/dpp-wallet/contexts/test-only/registration/v1"
    document = {"@context": [url], "@id": "https://example.com/x", "term": "value"}
    contexts.register(url, {"@context": {"term": "https://example.com/first"}})
    assert "https://example.com/first" in jsonld.canonicalize(document)
    contexts.register(url, {"@context": {"term": "https://example.com/second"}})
    assert "https://example.com/second" in jsonld.canonicalize(document)


def test_expand_returns_expanded_form():
    expanded = jsonld.expand(load_json("eddsa-rdfc-2022/unsigned.json"))
    assert expanded[0]["@id"] == "urn:uuid:58172aac-d8ba-11ed-83dd-0b3aef56cc33"


def test_a_remembered_expansion_never_hides_an_undefined_term():
    """Objects' expansions are remembered (jsonld._EngineProcessor._expand): one that dropped a
    term is not, so the refusal names it every time, also inside an object met before."""
    document = battery_passport()
    jsonld.canonicalize(document)  # every object of the passport remembered
    broken = copy.deepcopy(document)
    broken["credentialSubject"]["madeUpTerm"] = "x"

    for _ in range(2):
        with pytest.raises(UndefinedTerms) as caught:
            jsonld.canonicalize(broken)
        assert "madeUpTerm" in caught.value.detail


def test_a_remembered_expansion_is_a_fresh_copy_and_the_input_is_untouched():
    document = battery_passport()
    original = copy.deepcopy(document)

    first = jsonld.expand(document)
    expected = copy.deepcopy(first)
    first[0].clear()  # what a caller may do with its result
    second = jsonld.expand(document)

    assert second == expected
    assert document == original
    assert jsonld.canonicalize(document) == pyld.normalize(copy.deepcopy(original), {
        "algorithm": "URDNA2015", "format": "application/n-quads",
        "documentLoader": contexts.document_loader})
