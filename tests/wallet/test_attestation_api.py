"""Identity attestation through the API: an organisation asks, the anchor approves or rejects;
nobody else sees or decides, and a decision is final."""

import pytest
from django.core.exceptions import ValidationError

from tests.support.factories import organisation, trust_anchor
from tests.support.wallet import client_for
from wallet.business.verification import verify
from wallet.tenancy.legal_models import AttestationRequest, LegalDetails, TrustedAnchor

API = "/api/v1/wallet/attestations/"


@pytest.fixture
def world(db):
    register = trust_anchor()
    acme = organisation("acme", "Acme Batteries B.V.")
    LegalDetails.objects.create(organisation=acme, registry_id="12345678")
    return {"register": register, "acme": acme,
            "other": organisation("other", "Other Org B.V.")}


def ask(world) -> dict:
    response = client_for(world["acme"], ["attestations:request"]).post(
        API, {"anchor": world["register"].did, "evidence": "KvK extract 12345678"},
        format="json")
    assert response.status_code == 201, response.content
    return response.json()


def test_the_anchor_approves_and_the_organisation_holds_verified_identity(world):
    made = ask(world)
    anchor = client_for(world["register"], ["wallet:read", "attestations:review"])

    pending = anchor.get(API, {"state": "requested"}).json()
    approved = anchor.post(f"{API}{made['id']}/approve", {}, format="json")

    assert [row["organisation"] for row in pending["results"]] == [world["acme"].did]
    assert approved.status_code == 200, approved.content
    assert approved.json()["state"] == "approved"
    assert len(approved.json()["credentials"]) == 2
    held = client_for(world["acme"], ["wallet:read"]).get("/api/v1/wallet/credentials/").json()
    identity = next(c for c in held["results"] if c["kind"] == "identity_anchor")
    verdict = verify(identity["credential"])
    assert verdict["verified"] and verdict["issuer"]["trusted"]


def test_a_decision_is_final_and_a_rejection_needs_a_reason(world):
    made = ask(world)
    anchor = client_for(world["register"], ["attestations:review"])

    no_reason = anchor.post(f"{API}{made['id']}/reject", {}, format="json")
    rejected = anchor.post(f"{API}{made['id']}/reject", {"reason": "extract expired"},
                           format="json")
    again = anchor.post(f"{API}{made['id']}/approve", {}, format="json")

    assert no_reason.status_code == 400
    assert no_reason["Content-Type"] == "application/problem+json"
    assert rejected.json()["state"] == "rejected"
    assert again.status_code == 409 and again.json()["code"] == "already_decided"
    assert AttestationRequest.objects.get(pk=made["id"]).state == "rejected"
    assert not AttestationRequest.objects.get(pk=made["id"]).credentials.exists()


def test_only_the_addressed_anchor_decides_and_only_parties_see_it(world):
    made = ask(world)

    # The subject is no trust anchor: its key cannot carry the review scope at all (issue #15:
    # such a key used to be made, and failed only when used).
    with pytest.raises(ValidationError, match="only trust anchors"):
        client_for(world["acme"], ["attestations:review"])
    by_stranger = client_for(trust_anchor("second", "Second Register"),
                             ["attestations:review", "wallet:read"])
    without_scope = client_for(world["register"], ["wallet:read"]).post(
        f"{API}{made['id']}/approve", {}, format="json")

    assert by_stranger.post(f"{API}{made['id']}/approve", {}, format="json").status_code == 404
    assert by_stranger.get(API).json()["count"] == 0
    assert without_scope.status_code == 403
    assert AttestationRequest.objects.get(pk=made["id"]).state == "requested"


def test_asking_a_non_anchor_or_an_unknown_did_is_refused(world):
    client = client_for(world["acme"], ["attestations:request"])

    not_anchor = client.post(API, {"anchor": world["other"].did, "evidence": "x"}, format="json")
    unknown = client.post(API, {"anchor": "did:web:nowhere.example", "evidence": "x"},
                          format="json")

    assert not_anchor.status_code == 400 and not_anchor.json()["code"] == "not_an_anchor"
    assert unknown.status_code == 400
    assert not AttestationRequest.objects.exists()


def test_an_anchor_is_trusted_only_while_it_is_in_the_trust_registry(world):
    made = ask(world)
    client_for(world["register"], ["attestations:review"]).post(f"{API}{made['id']}/approve", {},
                                                                 format="json")
    identity = AttestationRequest.objects.get(pk=made["id"]).credentials.first().credential

    TrustedAnchor.objects.filter(organisation=world["register"]).delete()
    verdict = verify(identity)

    assert verdict["verified"] is True  # still a valid signature by the register
    assert verdict["issuer"]["trusted"] is False
