"""The VC-API issuer's securing mechanism chosen per request (`options.cryptosuite`): Data
Integrity eddsa-rdfc-2022 / eddsa-jcs-2022 (VCDM 1.1 and 2.0) besides the default vc+jwt, as
the organisation's did:web or the did:key of its key; what it signs verifies, a tampered copy
does not."""

import copy

import pytest

from credentials import dids, signing

V1 = "https://www.w3.org/2018/credentials/v1"
V2 = "https://www.w3.org/ns/credentials/v2"


def did_key_of(organisation) -> str:
    return dids.did_key_for(signing.signer_for(organisation.did).public_key())


@pytest.mark.parametrize("cryptosuite", ["eddsa-rdfc-2022", "eddsa-jcs-2022"])
@pytest.mark.parametrize("context", [V1, V2])
@pytest.mark.parametrize("as_did_key", [False, True])
def test_issue_with_a_data_integrity_cryptosuite_verifies_and_tampering_fails(
        acme, anonymous, cryptosuite, context, as_did_key):
    issuer = did_key_of(acme.organisation) if as_did_key else acme.organisation.did
    credential = {"@context": [context], "type": ["VerifiableCredential"], "issuer": issuer,
                  "credentialSubject": {"id": "did:example:subject"}}

    response = acme.client.post("/credentials/issue", {
        "credential": credential, "options": {"cryptosuite": cryptosuite}}, format="json")

    assert response.status_code == 201, response.content
    secured = response.json()["verifiableCredential"]
    proof = secured["proof"]
    assert (proof["type"], proof["cryptosuite"]) == ("DataIntegrityProof", cryptosuite)
    assert proof["verificationMethod"].split("#")[0] == issuer
    assert ("issuanceDate" in secured) == (context == V1)
    verified = anonymous.post("/credentials/verify", {"verifiableCredential": secured},
                              format="json")
    assert verified.status_code == 200, verified.json()["errors"]
    tampered = copy.deepcopy(secured)
    tampered["credentialSubject"]["id"] = "did:example:someone-else"
    refused = anonymous.post("/credentials/verify", {"verifiableCredential": tampered},
                             format="json")
    assert refused.status_code == 400
    assert "proof" in refused.json()["detail"]


def test_vc_jwt_stays_the_default_and_refuses_vcdm_1_1(acme):
    credential = {"@context": [V1], "type": ["VerifiableCredential"],
                  "credentialSubject": {"id": "did:example:subject"}}

    response = acme.client.post("/credentials/issue", {"credential": credential}, format="json")

    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "credential.@context"


def test_issue_refuses_an_unknown_cryptosuite(acme):
    response = acme.client.post("/credentials/issue", {
        "credential": {"@context": [V2], "type": ["VerifiableCredential"],
                       "credentialSubject": {"id": "did:example:s"}},
        "options": {"cryptosuite": "ecdsa-rdfc-2019"}}, format="json")

    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "options.cryptosuite"


@pytest.mark.parametrize(("cryptosuite", "as_did_key"), [(None, False),
                                                        ("eddsa-rdfc-2022", False),
                                                        ("eddsa-rdfc-2022", True)])
def test_issue_allocates_the_status_entries_asked_for_in_the_w3c_form(acme, anonymous,
                                                                       cryptosuite, as_did_key):
    from credentials.models import StatusList

    options = {"credentialStatus": [
        {"type": "BitstringStatusListEntry", "statusPurpose": "revocation"},
        {"type": "BitstringStatusListEntry", "statusPurpose": "suspension"}]}
    if cryptosuite:
        options["cryptosuite"] = cryptosuite

    credential = {"@context": [V2], "type": ["VerifiableCredential"], "id": "urn:uuid:5e1f",
                  "credentialSubject": {"id": "did:example:s"}}
    if as_did_key:  # its status lists are the organisation's: the same key controls both
        credential["issuer"] = did_key_of(acme.organisation)
    response = acme.client.post("/credentials/issue", {"credential": credential,
                                                       "options": options}, format="json")

    assert response.status_code == 201, response.content
    secured = response.json()["verifiableCredential"]
    if cryptosuite:
        entries = secured["credentialStatus"]
    else:
        entries = signing.decode_jwt_parts(secured["id"].split(",", 1)[1])[1][
            "credentialStatus"]
    assert [entry["statusPurpose"] for entry in entries] == ["revocation", "suspension"]
    for entry in entries:
        assert entry["statusListIndex"].isdigit()  # Bitstring Status List §2.1: a string
        assert entry["id"] == f"{entry['statusListCredential']}#{entry['statusListIndex']}"
        assert StatusList.objects.get(issuer=acme.organisation.did, kind="bitstring",
                                      purpose=entry["statusPurpose"]).allocated == 1
    verdict = anonymous.post("/credentials/verify", {"verifiableCredential": secured},
                             format="json").json()
    assert [check["detail"] for check in verdict["verdict"]["checks"]
            if check["check"] == "status"] == ["valid", "valid"]


@pytest.mark.parametrize("request_", [{"type": "StatusList2021Entry"},
                                      {"type": "BitstringStatusListEntry",
                                       "statusPurpose": "message"}])
def test_issue_refuses_unsupported_status_requests_allocating_nothing(acme, request_):
    from credentials.models import StatusList

    def allocated():
        return sorted(StatusList.objects.values_list("pk", "allocated"))

    before = allocated()
    response = acme.client.post("/credentials/issue", {"credential": {
        "@context": [V2], "type": ["VerifiableCredential"], "id": "urn:uuid:5e1f",
        "credentialSubject": {"id": "did:example:s"}},
        "options": {"credentialStatus": request_}}, format="json")

    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "options.credentialStatus"
    assert allocated() == before
