"""POST /credentials/status: the issuer of a VC-API credential with status entries revokes,
suspends and reinstates it by its id; verifiers see the change in the published lists."""

import pytest

from passports.models import IssuedStatusEntry

V2 = "https://www.w3.org/ns/credentials/v2"
BOTH = [{"type": "BitstringStatusListEntry", "statusPurpose": purpose}
        for purpose in ("revocation", "suspension")]


def issue(party, credential_id="urn:uuid:7d4c", status=BOTH, **credential):
    return party.client.post("/credentials/issue", {"credential": {
        "@context": [V2], "type": ["VerifiableCredential"],
        "credentialSubject": {"id": "did:example:s"}, "id": credential_id, **credential},
        "options": {"cryptosuite": "eddsa-rdfc-2022", "credentialStatus": status}},
        format="json")


def set_status(party, purpose, status=True, credential_id="urn:uuid:7d4c"):
    return party.client.post("/credentials/status", {
        "credentialId": credential_id, "credentialStatus": {
            "type": "BitstringStatusListEntry", "statusPurpose": purpose, "status": status}},
        format="json")


def status_details(anonymous, secured) -> list[str]:
    response = anonymous.post("/credentials/verify", {"verifiableCredential": secured},
                              format="json")
    return [check["detail"] for check in response.json()["verdict"]["checks"]
            if check["check"] == "status"]


def test_suspend_reinstate_and_revoke_through_the_status_endpoint(acme, anonymous):
    secured = issue(acme).json()["verifiableCredential"]
    assert status_details(anonymous, secured) == ["valid", "valid"]

    assert set_status(acme, "suspension").json()["entries"] == 1
    assert status_details(anonymous, secured) == ["valid", "suspended"]

    assert set_status(acme, "suspension", False).status_code == 200
    assert status_details(anonymous, secured) == ["valid", "valid"]

    assert set_status(acme, "revocation").status_code == 200
    assert status_details(anonymous, secured) == ["revoked", "valid"]
    refused = set_status(acme, "revocation", False)
    assert refused.status_code == 400
    assert refused.json()["errors"][0]["code"] == "revocation_final"


def test_another_organisation_cannot_change_the_status(acme, other):
    issue(acme)

    response = set_status(other, "revocation")

    assert response.status_code == 404


def test_status_entries_need_a_credential_id_and_nothing_is_recorded_without(acme):
    response = issue(acme, credential_id=None)

    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] in ("credential_id_required",
                                                    "invalid_credential")
    assert not IssuedStatusEntry.objects.exists()


@pytest.mark.parametrize("body", [
    {"credentialId": "urn:uuid:7d4c"},
    {"credentialId": "urn:uuid:7d4c", "credentialStatus": {
        "type": "BitstringStatusListEntry", "statusPurpose": "message"}},
])
def test_malformed_status_changes_are_refused(acme, body):
    issue(acme)

    response = acme.client.post("/credentials/status", body, format="json")

    assert response.status_code == 400
