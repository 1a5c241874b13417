"""The offer and the token endpoint: a pre-authorized code is redeemed once, in time, with the
right transaction code; every refusal is an RFC 6749 error that names its reason and stores no
token."""

import json
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest

from openid4vci.models import CredentialOffer, OfferEvent
from openid4vci.services.offers import current_state, offer_create
from tests.support import openid4vci_schemas as schemas
from tests.support.openid4vci import oauth_error
from tests.support.openid4vci_wallet import FORM, PRE_AUTHORIZED_GRANT, TestWallet, local_path
from wallet.tenancy.authority import operator

TOKEN = "/orgs/acme/openid4vci/token"


@pytest.fixture
def created(acme, mandate):
    return offer_create(actor=operator(), issuer=acme, configuration="mandate", mandate=mandate)


def offer_row(created) -> CredentialOffer:
    return CredentialOffer.objects.get(pk=created.offer.pk)


def wrong_tx_code(created) -> str:
    return "000000" if created.tx_code != "000000" else "111111"


def test_the_offer_by_value_and_by_reference_is_the_same_conforming_object(client, created):
    by_value = TestWallet().resolve_offer(created.by_value)
    by_reference = TestWallet().resolve_offer(created.by_reference)

    assert by_value == by_reference == created.document
    assert schemas.errors("credential_offer", by_value) == []
    assert by_value["credential_issuer"] == "http://localhost:8000/orgs/acme"
    assert by_value["credential_configuration_ids"] == ["mandate"]
    grant = by_value["grants"][PRE_AUTHORIZED_GRANT]
    assert grant["tx_code"]["input_mode"] == "numeric" and grant["tx_code"]["length"] == 6
    assert "Acme Batteries B.V." in grant["tx_code"]["description"]
    assert created.tx_code.isdigit() and len(created.tx_code) == 6
    # The by-reference URL is on this service; its secret is in the query, not the path.
    url = parse_qs(urlsplit(created.by_reference).query)["credential_offer_uri"][0]
    assert urlsplit(url).path == "/orgs/acme/openid4vci/credential_offer"
    response = client.get(local_path(url))
    assert response["Content-Type"] == "application/json"
    assert response["Cache-Control"] == "no-store"


def test_no_secret_is_stored_in_the_clear(created):
    row = offer_row(created)
    stored = json.dumps([getattr(row, f.attname) for f in CredentialOffer._meta.fields],
                        default=str)

    assert created.pre_authorized_code not in stored
    assert created.tx_code not in stored
    assert parse_qs(urlsplit(created.offer_url).query)["offer"][0] not in stored


def test_a_redeemed_code_gives_a_short_lived_bearer_token(created):
    wallet = TestWallet(dpop=False)  # no DPoP proof: a Bearer token
    offer = wallet.resolve_offer(created.by_reference)

    response = wallet.token(offer, created.tx_code)

    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    body = response.json()
    assert schemas.errors("token_response", body) == []
    assert body["token_type"] == "Bearer" and body["expires_in"] == 300
    assert "authorization_details" not in body
    row = offer_row(created)
    assert row.state == "token_issued" and row.redeemed_at is not None
    assert body["access_token"] not in json.dumps(row.token_hash)


def test_wrong_tx_codes_are_counted_and_the_fifth_kills_the_offer(created):
    wallet = TestWallet()
    offer = wallet.resolve_offer(created.by_reference)

    detail = oauth_error(wallet.token(offer, wrong_tx_code(created)), 400, "invalid_grant")
    assert detail == "tx_code wrong (4 attempts left)"
    assert offer_row(created).state == "offered" and offer_row(created).token_hash is None
    for _ in range(3):
        wallet.token(offer, wrong_tx_code(created))
    detail = oauth_error(wallet.token(offer, wrong_tx_code(created)), 400, "invalid_grant")
    assert "offer is locked" in detail

    # Dead: even the right code no longer works, and the offer URL is gone.
    detail = oauth_error(wallet.token(offer, created.tx_code), 400, "invalid_grant")
    assert "locked after 5 wrong tx_code values" in detail
    assert offer_row(created).state == "locked"
    assert OfferEvent.objects.filter(offer=created.offer, action="tx_code_wrong").count() == 4
    assert wallet.client.get(local_path(created.offer_url)).status_code == 404


def test_a_missing_tx_code_is_an_invalid_request_and_costs_no_attempt(created):
    wallet = TestWallet()

    detail = oauth_error(wallet.token(wallet.resolve_offer(created.by_reference), None), 400,
                         "invalid_request")

    assert "tx_code missing" in detail
    assert offer_row(created).tx_code_failures == 0


def test_an_expired_pre_authorized_code_is_refused(acme, mandate, settings):
    settings.OPENID4VCI_PRE_AUTHORIZED_CODE_SECONDS = 0
    created = offer_create(actor=operator(), issuer=acme, configuration="mandate", mandate=mandate)
    wallet = TestWallet()

    detail = oauth_error(wallet.token(created.document, created.tx_code), 400, "invalid_grant")

    assert detail == "pre-authorized_code expired"
    assert offer_row(created).state == "expired"
    assert offer_row(created).token_hash is None
    assert wallet.client.get(local_path(created.offer_url)).status_code == 404


def test_a_second_redemption_fails_and_revokes_the_unused_token(created):
    wallet = TestWallet()
    session = wallet.start(created.by_reference, created.tx_code)

    detail = oauth_error(wallet.token(session["offer"], created.tx_code), 400, "invalid_grant")

    assert detail == ("pre-authorized_code already redeemed; the access token issued for it "
                      "is revoked")
    response = wallet.request_credential(session["metadata"], session["access_token"],
                                         wallet.credential_request_body(session))
    assert oauth_error(response, 401, "invalid_token") == "access token unknown or revoked"
    # The by-reference offer is gone after the first redemption; the offer can give nothing.
    assert wallet.client.get(local_path(created.offer_url)).status_code == 404
    assert current_state(offer_row(created)) == "expired"


def test_a_code_redeemed_after_issuance_is_refused_and_the_credential_stays(created):
    wallet = TestWallet()
    wallet.redeem_offer(created.by_reference, created.tx_code)

    detail = oauth_error(wallet.token(created.document, created.tx_code), 400, "invalid_grant")

    assert detail == "pre-authorized_code already redeemed"
    assert offer_row(created).state == "issued"


@pytest.mark.parametrize(("form", "error", "reason"), [
    ({"pre-authorized_code": "x"}, "invalid_request", "grant_type missing"),
    ({"grant_type": "authorization_code", "code": "x"}, "invalid_request",
     "code_verifier missing or malformed"),
    ({"grant_type": "password", "username": "x"}, "unsupported_grant_type",
     "grant_type password is not supported"),
    ({"grant_type": PRE_AUTHORIZED_GRANT}, "invalid_request", "pre-authorized_code missing"),
    ({"grant_type": PRE_AUTHORIZED_GRANT, "pre-authorized_code": "guess", "tx_code": "123456"},
     "invalid_grant", "pre-authorized_code unknown"),
])
def test_malformed_token_requests_name_what_is_wrong(client, created, form, error, reason):
    detail = oauth_error(client.post(TOKEN, urlencode(form), content_type=FORM), 400, error)

    assert detail.startswith(reason)
    assert offer_row(created).state == "offered"


def test_a_parameter_given_twice_or_a_json_body_is_refused(client, created):
    twice = (f"grant_type={PRE_AUTHORIZED_GRANT}&pre-authorized_code="
             f"{created.pre_authorized_code}&tx_code=1&tx_code={created.tx_code}")
    assert "more than once" in oauth_error(client.post(TOKEN, twice, content_type=FORM), 400,
                                           "invalid_request")
    as_json = client.post(TOKEN, {"grant_type": PRE_AUTHORIZED_GRANT},
                          content_type="application/json")
    assert "x-www-form-urlencoded" in oauth_error(as_json, 400, "invalid_request")
    assert offer_row(created).state == "offered"


def test_a_code_works_only_at_its_own_issuer(client, created, register):
    form = {"grant_type": PRE_AUTHORIZED_GRANT, "pre-authorized_code":
            created.pre_authorized_code, "tx_code": created.tx_code}

    response = client.post("/orgs/register/openid4vci/token", urlencode(form),
                           content_type=FORM)

    assert oauth_error(response, 400, "invalid_grant") == "pre-authorized_code unknown"


def test_authorization_details_give_a_credential_identifier_to_request_by(created):
    wallet = TestWallet()
    offer = wallet.resolve_offer(created.by_reference)
    details = json.dumps([{"type": "openid_credential",
                           "credential_configuration_id": "mandate"}])

    response = wallet.token(offer, created.tx_code, authorization_details=details)

    body = response.json()
    assert schemas.errors("token_response", body) == []
    [detail] = body["authorization_details"]
    [identifier] = detail["credential_identifiers"]
    metadata = wallet.metadata(offer["credential_issuer"])
    proof = wallet.proof(aud=metadata["credential_issuer"], nonce=wallet.nonce(metadata))
    by_configuration = wallet.request_credential(
        metadata, body["access_token"],
        {"credential_configuration_id": "mandate", "proofs": {"jwt": [proof]}})
    assert "credential_identifier missing" in oauth_error(by_configuration, 400,
                                                          "invalid_credential_request")
    proof = wallet.proof(aud=metadata["credential_issuer"], nonce=wallet.nonce(metadata))
    response = wallet.request_credential(metadata, body["access_token"],
                                         {"credential_identifier": identifier,
                                          "proofs": {"jwt": [proof]}})
    assert response.status_code == 200, response.content


def test_authorization_details_for_something_not_offered_are_refused(created):
    wallet = TestWallet()
    details = json.dumps([{"type": "openid_credential",
                           "credential_configuration_id": "product_passport"}])

    response = wallet.token(created.document, created.tx_code, authorization_details=details)

    assert "was not offered" in oauth_error(response, 400, "invalid_authorization_details")
    assert offer_row(created).state == "offered"
