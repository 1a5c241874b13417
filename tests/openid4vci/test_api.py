"""Offers over the partner API: an API key with `offers:create` makes an offer (links and
transaction code once), then follows its state; bad input is a problem+json naming the field
and stores nothing."""

import pytest
from rest_framework.test import APIClient

from openid4vci.models import CredentialOffer
from tests.support.factories import api_key, organisation
from tests.support.openid4vci_wallet import TestWallet
from wallet.tenancy.models import ApiToken

OFFERS = "/api/v1/openid4vci/offers"


def api(org, scopes=(ApiToken.Scope.OFFERS_CREATE,)) -> APIClient:
    _, key = api_key(org, scopes)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


def problem(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert body["code"] == code, body
    return body


def test_an_api_key_makes_an_offer_and_follows_it_to_issued(acme, passport):
    # A passport offer hands out a newly signed copy: the key needs passports:issue too, and
    # its maker the mandate (issue #15).
    client = api(acme, (ApiToken.Scope.OFFERS_CREATE, ApiToken.Scope.PASSPORTS_ISSUE))

    response = client.post(OFFERS, {"credential_configuration_id": "product_passport",
                                    "passport": str(passport.pk)}, format="json")

    assert response.status_code == 201, response.content
    assert response["Cache-Control"] == "no-store"
    created = response.json()
    assert created["state"] == "offered"
    assert created["credential_offer_uri"].startswith(
        "openid-credential-offer://?credential_offer_uri=")
    assert created["credential_offer"].startswith("openid-credential-offer://?credential_offer=")
    assert created["offer_url"].startswith("http://localhost:8000/orgs/acme/openid4vci/")
    assert len(created["tx_code"]) == 6
    assert created["subject"] == passport.product.digital_link

    state = client.get(f"{OFFERS}/{created['id']}").json()
    assert state["state"] == "offered" and state["redeemed_at"] is None
    assert not {"tx_code", "credential_offer", "credential_offer_uri", "offer_url"} & set(state)

    TestWallet().redeem_offer(created["credential_offer_uri"], created["tx_code"])

    state = client.get(f"{OFFERS}/{created['id']}").json()
    assert state["state"] == "issued"
    assert state["redeemed_at"] and state["issued_at"]


def test_an_expired_offer_reads_as_expired(acme, mandate, settings):
    settings.OPENID4VCI_PRE_AUTHORIZED_CODE_SECONDS = 0
    client = api(acme)
    created = client.post(OFFERS, {"credential_configuration_id": "mandate",
                                   "mandate": mandate.pk}, format="json").json()

    assert client.get(f"{OFFERS}/{created['id']}").json()["state"] == "expired"


@pytest.mark.parametrize(("body", "field", "code"), [
    ({"credential_configuration_id": "mandate"}, "mandate", "source"),
    ({"credential_configuration_id": "mandate", "mandate": 999999}, "mandate", "does_not_exist"),
    ({"credential_configuration_id": "business_identity", "attestation_request": 1},
     "attestation_request", "does_not_exist"),
    ({"credential_configuration_id": "diploma"}, "credential_configuration_id",
     "invalid_choice"),
    ({"credential_configuration_id": "mandate", "mandat": 1}, "mandat", "unknown_field"),
    ({"credential_configuration_id": "mandate", "mandate": 2 ** 70}, "mandate", "max_value"),
])
def test_bad_offer_requests_name_the_field_and_store_nothing(acme, mandate, body, field, code):
    response = api(acme).post(OFFERS, body, format="json")

    errors = problem(response, 400, "invalid")["errors"]
    assert {"field": field, "code": code} == {k: errors[0][k] for k in ("field", "code")}
    assert not CredentialOffer.objects.exists()


def test_only_anchors_offer_business_identities(acme, business_identity, register):
    response = api(acme).post(OFFERS, {"credential_configuration_id": "business_identity",
                                       "wallet_credential": business_identity.pk},
                              format="json")

    # acme holds the credential but did not issue it: not among its own.
    assert problem(response, 400, "invalid")["errors"][0]["field"] == "wallet_credential"
    response = api(register).post(OFFERS, {"credential_configuration_id": "business_identity",
                                           "wallet_credential": business_identity.pk},
                                  format="json")
    assert response.status_code == 201
    non_anchor = api(acme).post(OFFERS, {"credential_configuration_id": "business_identity",
                                         "attestation_request": 1}, format="json")
    assert non_anchor.status_code == 400


def test_a_business_identity_offer_from_a_non_anchor_names_the_configuration(acme, db):
    from wallet.tenancy.legal_models import AttestationRequest

    other = organisation("self", "Self B.V.")
    request = AttestationRequest.objects.create(organisation=other, anchor=acme, evidence="x")

    response = api(acme).post(OFFERS, {"credential_configuration_id": "business_identity",
                                       "attestation_request": request.pk}, format="json")

    [error] = problem(response, 400, "invalid")["errors"]
    assert (error["field"], error["code"]) == ("credential_configuration_id", "anchors_only")
    assert not CredentialOffer.objects.exists()


def test_the_scope_and_the_organisation_are_enforced(acme, mandate, db):
    without_scope = api(acme, scopes=[ApiToken.Scope.WALLET_READ])
    problem(without_scope.post(OFFERS, {"credential_configuration_id": "mandate",
                                        "mandate": mandate.pk}, format="json"),
            403, "missing_scope")
    created = api(acme).post(OFFERS, {"credential_configuration_id": "mandate",
                                      "mandate": mandate.pk}, format="json").json()

    stranger = api(organisation("other", "Other GmbH"))
    problem(stranger.get(f"{OFFERS}/{created['id']}"), 404, "not_found")
    problem(stranger.post(OFFERS, {"credential_configuration_id": "mandate",
                                   "mandate": mandate.pk}, format="json"), 400, "invalid")
    problem(api(acme).get(f"{OFFERS}/not-a-uuid"), 404, "not_found")
    problem(APIClient().get(f"{OFFERS}/{created['id']}"), 401, "not_authenticated")
