"""Credentials issued by another implementation verify, and tampered copies do not, on both
verify endpoints. The vectors in tests/vectors/acapy-1.7.0/ were made once with ACA-Py 1.7.0
(PyPI `acapy-agent`, did:key, Ed25519) by scripts/peer_vectors_acapy.py: Ed25519Signature2018
(VCDM 1.1), Ed25519Signature2020 (its default; VCDM 1.1 and 2.0), DataIntegrityProof
eddsa-jcs-2022 (VCDM 1.1 and 2.0, `proof` written as a list of one); a small credential and a
3.4 KB passport."""

import copy
import json
from pathlib import Path

import pytest

VECTORS = Path(__file__).resolve().parent.parent / "vectors" / "acapy-1.7.0"
NAMES = sorted(path.stem for path in VECTORS.glob("*.json"))


def vector(name: str) -> dict:
    return json.loads((VECTORS / f"{name}.json").read_text())


def tampered(document: dict) -> dict:
    copied = copy.deepcopy(document)
    copied["credentialSubject"]["id"] = "did:example:someone-else"
    return copied


def test_every_proof_acapy_offers_is_covered():
    assert {name.rsplit("-", 2)[0] for name in NAMES} == {
        "Ed25519Signature2018", "Ed25519Signature2020", "eddsa-jcs-2022"}
    assert any(name.endswith("passport") for name in NAMES)


@pytest.mark.parametrize("name", NAMES)
def test_an_acapy_credential_verifies_on_both_endpoints(anonymous, name):
    credential = vector(name)

    ours = anonymous.post("/api/v1/verify/", {"credential": credential}, format="json").json()
    vc_api = anonymous.post("/credentials/verify", {"verifiableCredential": credential},
                            format="json")

    assert ours["verified"] is True, ours["errors"]
    assert ours["issuer"]["id"] == credential["issuer"]
    assert vc_api.status_code == 200, vc_api.json().get("errors")


@pytest.mark.parametrize("name", NAMES)
def test_a_tampered_acapy_credential_fails_on_both_endpoints(anonymous, name):
    credential = tampered(vector(name))

    ours = anonymous.post("/api/v1/verify/", {"credential": credential}, format="json").json()
    vc_api = anonymous.post("/credentials/verify", {"verifiableCredential": credential},
                            format="json")

    assert ours["verified"] is False
    assert ours["checks"][0] == {**ours["checks"][0], "check": "proof", "ok": False}
    assert vc_api.status_code == 400
