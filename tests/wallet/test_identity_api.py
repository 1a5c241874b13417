"""The wallet's credentials and mandates through the API, scoped to the key's organisation."""

import pytest
from rest_framework.test import APIClient

from tests.support.factories import organisation, trust_anchor
from tests.support.wallet import attest, client_for
from wallet.tenancy.legal_models import LegalDetails, Mandate
from wallet.tenancy.mandates import active_mandate, active_mandate_for_organisation
from wallet.tenancy.models import Member


@pytest.fixture
def world(db, django_user_model):
    register = trust_anchor()
    acme = organisation("acme", "Acme Batteries B.V.")
    LegalDetails.objects.create(organisation=acme, registry_id="12345678")
    attest(acme, register)
    alice = django_user_model.objects.create_user("alice")
    Member.objects.create(user=alice, organisation=acme)
    return {"acme": acme, "recycle": organisation("recycle", "Recycle Partners B.V."),
            "alice": alice}


def test_an_organisation_lists_the_identity_credentials_it_holds(world):
    client = client_for(world["acme"], ["wallet:read"])

    body = client.get("/api/v1/wallet/credentials/").json()

    kinds = sorted(c["kind"] for c in body["results"])
    assert kinds == ["business_identity", "identity_anchor"]
    assert {c["holder"] for c in body["results"]} == {world["acme"].did}
    other = client_for(world["recycle"], ["wallet:read"]).get("/api/v1/wallet/credentials/")
    assert other.json()["count"] == 0


def test_mandates_are_given_and_revoked_through_the_api(world):
    client = client_for(world["acme"], ["wallet:read", "mandates:manage"])

    to_alice = client.post("/api/v1/wallet/mandates/", {"scope": "passports:issue",
                                                         "grantee_username": "alice"},
                           format="json")
    to_recycle = client.post("/api/v1/wallet/mandates/", {"scope": "messages:send",
                                                           "grantee_did": world["recycle"].did},
                             format="json")

    assert to_alice.status_code == 201, to_alice.content
    assert to_recycle.json()["grantee_organisation"] == world["recycle"].did
    assert to_recycle.json()["credential"].endswith("~")  # an SD-JWT VC
    assert active_mandate(user=world["alice"], organisation=world["acme"],
                          scope=Mandate.Scope.PASSPORTS_ISSUE) is not None
    revoked = client.post(f"/api/v1/wallet/mandates/{to_alice.json()['id']}/revoke",
                          {"reason": "left"}, format="json")
    assert revoked.json()["state"] == "revoked"
    assert active_mandate(user=world["alice"], organisation=world["acme"],
                          scope=Mandate.Scope.PASSPORTS_ISSUE) is None
    again = client.post(f"/api/v1/wallet/mandates/{to_alice.json()['id']}/reinstate",
                        format="json")
    assert again.status_code == 409
    assert again.json()["code"] == "revoked_is_final"
    assert active_mandate_for_organisation(grantee=world["recycle"], organisation=world["acme"],
                                           scope=Mandate.Scope.MESSAGES_SEND) is not None


def test_mandate_input_errors_change_nothing(world, django_user_model):
    client = client_for(world["acme"], ["mandates:manage"])
    outsider = django_user_model.objects.create_user("mallory")

    both = client.post("/api/v1/wallet/mandates/", {"scope": "passports:issue",
                                                     "grantee_username": "alice",
                                                     "grantee_did": world["recycle"].did},
                       format="json")
    stranger = client.post("/api/v1/wallet/mandates/", {"scope": "passports:issue",
                                                         "grantee_username": outsider.username},
                           format="json")

    assert both.status_code == 400 and stranger.status_code == 400
    assert stranger["Content-Type"] == "application/problem+json"
    assert not Mandate.objects.exists()


def test_scopes_and_organisations_are_enforced(world):
    reader = client_for(world["acme"], ["wallet:read"])
    mandate = reader.post("/api/v1/wallet/mandates/", {"scope": "passports:issue",
                                                        "grantee_username": "alice"},
                          format="json")
    assert mandate.status_code == 403
    assert mandate.json()["code"] == "missing_scope"
    assert APIClient().get("/api/v1/wallet/mandates/").status_code == 401
    manager = client_for(world["acme"], ["mandates:manage"])
    given = manager.post("/api/v1/wallet/mandates/", {"scope": "passports:issue",
                                                       "grantee_username": "alice"},
                         format="json").json()
    other = client_for(world["recycle"], ["mandates:manage"])
    assert other.post(f"/api/v1/wallet/mandates/{given['id']}/revoke").status_code == 404
