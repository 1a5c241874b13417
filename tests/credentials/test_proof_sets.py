"""Proof sets and chains (VC Data Integrity §2.1.1-2.1.2) and Ed25519Signature2020 (VCDM 1.1
and 2.0), verified by the service's verifier: each verifies, a tampered copy fails."""

import copy

import pytest

from credentials.dids import StaticKeyResolver
from credentials.suites import get_suite
from credentials.suites.data_integrity import proof_options
from credentials.verifier import Verifier
from tests.support.credential_fixtures import CREDENTIALS_V1, CREDENTIALS_V2, did_key_signer

RDFC = get_suite("eddsa-rdfc-2022")


def credential(signer, context=CREDENTIALS_V2) -> dict:
    issuer = signer.verification_method.split("#")[0]
    document = {"@context": [context], "type": ["VerifiableCredential"], "issuer": issuer,
                "credentialSubject": {"id": "did:example:subject"}}
    if context == CREDENTIALS_V1:
        document["issuanceDate"] = "2024-01-01T00:00:00Z"
    return document


def proof(signer, document, suite=RDFC, **extra) -> dict:
    options = proof_options("DataIntegrityProof", signer, cryptosuite=suite.cryptosuite,
                            **extra)
    return suite.create_proof(document, options, signer)


def verify(secured) -> dict:
    return Verifier(keys=StaticKeyResolver()).verify(secured)


def tampered(secured) -> dict:
    copied = copy.deepcopy(secured)
    copied["credentialSubject"]["id"] = "did:example:someone-else"
    return copied


def test_a_proof_set_verifies_when_every_proof_does():
    issuer, notary = did_key_signer(), did_key_signer()
    document = credential(issuer)
    secured = {**document, "proof": [proof(issuer, document),
                                     proof(notary, document, get_suite("eddsa-jcs-2022"))]}

    verdict = verify(secured)

    assert verdict["verified"], verdict["errors"]
    assert verdict["format"] == "proof-set"
    assert not verify(tampered(secured))["verified"]
    one_forged = copy.deepcopy(secured)
    one_forged["proof"][1]["proofValue"] = secured["proof"][0]["proofValue"]
    assert not verify(one_forged)["verified"]


def test_a_list_of_one_proof_verifies_as_acapy_writes_it():
    issuer = did_key_signer()
    document = credential(issuer)
    secured = {**document, "proof": [proof(issuer, document)]}

    assert verify(secured)["verified"]
    assert verify(tampered(secured))["errors"][0].startswith("proof:")


def test_a_proof_chain_verifies_over_the_proofs_it_names():
    issuer, endorser = did_key_signer(), did_key_signer()
    document = credential(issuer)
    first = proof(issuer, document, id="urn:uuid:first")
    second = proof(endorser, {**document, "proof": first}, previousProof="urn:uuid:first")
    secured = {**document, "proof": [first, second]}

    assert verify(secured)["verified"], verify(secured)["errors"]
    assert not verify(tampered(secured))["verified"]


@pytest.mark.parametrize("previous", ["urn:uuid:missing", ["urn:uuid:first", "urn:uuid:x"]])
def test_a_chain_naming_a_proof_not_in_the_set_fails(previous):
    issuer = did_key_signer()
    document = credential(issuer)
    first = proof(issuer, document, id="urn:uuid:first")
    second = proof(issuer, {**document, "proof": first}, previousProof=previous)

    verdict = verify({**document, "proof": [first, second]})

    assert not verdict["verified"]
    assert "previousProof names no proof of the set" in verdict["errors"][0]


@pytest.mark.parametrize("context", [CREDENTIALS_V1, CREDENTIALS_V2])
def test_ed25519_signature_2020_verifies_in_both_data_models(context):
    issuer = did_key_signer()
    secured = get_suite("Ed25519Signature2020").secure(credential(issuer, context), issuer)

    verdict = verify(secured)

    assert verdict["verified"], verdict["errors"]
    assert verdict["format"] == "Ed25519Signature2020"
    assert not verify(tampered(secured))["verified"]
