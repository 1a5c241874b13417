"""What both verify endpoints refuse before looking at a proof: a credential sent as a string
of JSON, an EnvelopedVerifiableCredential without the VCDM 2.0 context. The VC-API answers
400 naming the check; /api/v1/verify/ keeps its 200 verdict with `verified: false`."""

import json

import pytest

V2 = "https://www.w3.org/ns/credentials/v2"


@pytest.fixture
def enveloped(acme):
    response = acme.client.post("/credentials/issue", {"credential": {
        "@context": [V2], "type": ["VerifiableCredential"],
        "credentialSubject": {"id": "did:example:subject"}}}, format="json")
    assert response.status_code == 201, response.content
    return response.json()["verifiableCredential"]


def without_context(envelope):
    return {key: value for key, value in envelope.items() if key != "@context"}


CASES = {
    "a JSON string": lambda envelope: json.dumps(envelope),
    "no @context": without_context,
    "an empty @context": lambda envelope: {**envelope, "@context": []},
    "a wrong @context": lambda envelope: {**envelope,
                                          "@context": ["https://www.w3.org/2018/credentials/v1"]},
}


@pytest.mark.parametrize("case", CASES)
def test_both_verify_endpoints_refuse_the_malformed_inputs(anonymous, enveloped, case):
    sent = CASES[case](enveloped)

    vc_api = anonymous.post("/credentials/verify", {"verifiableCredential": sent},
                            format="json")
    ours = anonymous.post("/api/v1/verify/", {"credential": sent}, format="json")

    assert vc_api.status_code == 400
    assert vc_api.json()["errors"][0]["code"] == "format"
    assert ours.status_code == 200 and ours.json()["verified"] is False
    assert ours.json()["checks"][0]["check"] == "format"


def test_the_well_formed_envelope_still_verifies_on_both(anonymous, enveloped):
    assert anonymous.post("/credentials/verify", {"verifiableCredential": enveloped},
                          format="json").status_code == 200
    assert anonymous.post("/api/v1/verify/", {"credential": enveloped},
                          format="json").json()["verified"] is True
