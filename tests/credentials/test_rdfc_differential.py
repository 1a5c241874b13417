"""The engine's RDFC-1.0 canonical forms (its own JSON-LD-to-RDF and RDFC-1.0 in
credentials/rdfc.py, after pyld's expansion with memoised contexts) against three references:
plain pyld, the engine's pyld path (`jsonld.canonicalize_with_pyld`: pyld's node map, to_rdf and
URDNA2015, what every document rdfc.py does not take goes through), and oxigraph's RDFC-1.0 (an
independent implementation, in Rust) run on the quads the engine canonicalised. On the W3C
vector, the UNTP samples and 1,000 generated passports of every category (plain pyld, ~0.1 s a
passport, on a sample of them); and the signatures and verdicts of eddsa-rdfc-2022 over them.
tests/credentials/test_rdfc_fast_path.py covers rdfc.py on its own."""

import copy
import hashlib

import pytest
from cryptography.hazmat.primitives.asymmetric import ed25519
from pyld import jsonld as pyld

from credentials import contexts, jsonld, rdfc
from credentials.dids import StaticKeyResolver, did_key_for, did_key_verification_method
from credentials.encoding import multibase_encode
from credentials.keys import LocalSigner
from credentials.suites import get_suite
from tests.credentials.generated import all_categories, passports
from tests.support.credential_fixtures import (
    battery_passport,
    battery_passport_v1,
    load_json,
    load_text,
)
from tests.support.rdf_references import oxigraph_rdfc


def plain_pyld(document: dict) -> str:
    return pyld.normalize(copy.deepcopy(document), {
        "algorithm": "URDNA2015", "format": "application/n-quads",
        "documentLoader": contexts.document_loader})


def on_the_fast_path(document: dict) -> bool:
    """Whether the engine canonicalises `document` with rdfc.py (not pyld's node map)."""
    try:
        rdfc.triples(jsonld.expand(document))
    except rdfc.Unsupported:
        return False
    return True


def test_the_w3c_vector_by_all_three():
    document = load_json("eddsa-rdfc-2022/unsigned.json")
    expected = load_text("eddsa-rdfc-2022/canonDocDataInt.txt")

    assert on_the_fast_path(document)
    assert jsonld.canonicalize(document) == plain_pyld(document) == expected
    assert jsonld.canonicalize_with_pyld(document) == expected
    assert oxigraph_rdfc(expected) == expected


@pytest.mark.parametrize("make", [battery_passport, battery_passport_v1],
                         ids=["vcdm2", "vcdm1.1"])
def test_the_samples_by_all_three(make):
    """(UNTP's own sample leaves 20 terms undefined: the engine refuses it, test_jsonld.py.)"""
    document = make()
    assert on_the_fast_path(document)
    canonical = jsonld.canonicalize(document)
    assert canonical == plain_pyld(document) == jsonld.canonicalize_with_pyld(document)
    assert oxigraph_rdfc(canonical) == canonical


def safe_for_oxigraph(nquads: str) -> bool:
    """oxigraph writes these control characters escaped, pyld raw (and lowercases language
    tags): there the two canonical forms differ by design, not by labelling."""
    return not any(ord(c) < 0x20 and c not in "\t\n\r" or c == "\x7f" for c in nquads)


@pytest.mark.parametrize("category", all_categories())
def test_generated_passports_canonicalise_as_the_references_do(db, category):
    documents = passports(category, 1000, seed=5)
    compared = 0
    for number, document in enumerate(documents):
        assert on_the_fast_path(document)
        canonical = jsonld.canonicalize(document)
        assert canonical == jsonld.canonicalize_with_pyld(document)
        if safe_for_oxigraph(canonical):
            assert oxigraph_rdfc(canonical) == canonical
            compared += 1
        if number % 50 == 0:
            assert canonical == plain_pyld(document)
    assert compared > 500


@pytest.mark.parametrize("category", all_categories())
def test_signatures_and_verdicts_match_the_reference_canonical_form(db, category):
    """eddsa-rdfc-2022 signs the engine's canonical form; the proof verifies, and it is the
    signature a signer over plain pyld's canonical form makes (Ed25519 is deterministic)."""
    private = ed25519.Ed25519PrivateKey.generate()
    did = did_key_for(LocalSigner(private, "").public_key())
    signer = LocalSigner(private, did_key_verification_method(did))
    suite = get_suite("eddsa-rdfc-2022")
    for document in passports(category, 5, seed=9):
        document["issuer"]["id"] = did
        secured = suite.secure(document, signer, created="2026-01-01T00:00:00Z")
        assert suite.verify(secured, StaticKeyResolver()).ok
        unsecured = {k: v for k, v in secured.items() if k != "proof"}
        config = {k: v for k, v in secured["proof"].items() if k != "proofValue"}
        config["@context"] = unsecured["@context"]
        hash_data = (hashlib.sha256(plain_pyld(config).encode()).digest()
                     + hashlib.sha256(plain_pyld(unsecured).encode()).digest())
        assert secured["proof"]["proofValue"] == multibase_encode(private.sign(hash_data))
