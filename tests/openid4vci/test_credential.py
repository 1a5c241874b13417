"""The credential endpoint refuses what is not right, naming the reason in the specification's
error codes; a refused request stores nothing and the wallet can try again with a good one."""

import json
import time

import pytest

from credentials import jose
from credentials.dids import did_key_for, did_key_verification_method
from credentials.encoding import b64url_encode
from credentials.keys import LocalSigner
from credentials.sd_jwt import SdJwt
from credentials.signing import decode_jwt_parts
from openid4vci.models import CredentialOffer
from openid4vci.services.offers import offer_create
from tests.support import openid4vci_schemas as schemas
from tests.support.openid4vci import AUD, fresh_nonce, oauth_error, send, still_waiting
from tests.support.openid4vci_wallet import TestWallet, local_path
from wallet.tenancy.authority import operator
from wallet.tenancy.mandates import mandate_revoke, mandate_suspend


def unsigned_header_proof(header: dict, claims: dict, signer) -> str:
    """A JWS whose header we write ourselves (e.g. an alg the library would not pick)."""
    encoded = b64url_encode(jose.encode_json(header)) + "." + b64url_encode(
        jose.encode_json(claims))
    return encoded + "." + b64url_encode(signer.sign(encoded.encode()))


def test_a_nonce_this_issuer_never_gave_is_an_invalid_nonce(session):
    wallet, _ = session

    response = send(session, proof=wallet.proof(aud=AUD, nonce="made-up-nonce"))

    assert "c_nonce unknown, expired or already used" in oauth_error(response, 400,
                                                                     "invalid_nonce")
    still_waiting(session)


def test_a_nonce_is_used_once(session, acme, mandate):
    wallet, _ = session
    nonce = fresh_nonce(session)
    assert send(session, proof=wallet.proof(aud=AUD, nonce=nonce)).status_code == 200
    created = offer_create(actor=operator(), issuer=acme, configuration="mandate", mandate=mandate)
    second = (wallet, wallet.start(created.by_reference, created.tx_code))

    response = send(second, proof=wallet.proof(aud=AUD, nonce=nonce))

    assert "already used" in oauth_error(response, 400, "invalid_nonce")


def test_a_nonce_of_another_issuer_is_refused(session, client, register):
    wallet, _ = session
    foreign = client.post("/orgs/register/openid4vci/nonce").json()["c_nonce"]

    response = send(session, proof=wallet.proof(aud=AUD, nonce=foreign))

    oauth_error(response, 400, "invalid_nonce")
    still_waiting(session)


def test_a_proof_without_nonce_is_an_invalid_proof(session):
    wallet, _ = session

    response = send(session, proof=wallet.proof(aud=AUD, nonce=None))

    assert "nonce missing" in oauth_error(response, 400, "invalid_proof")
    still_waiting(session)


def test_a_proof_for_another_audience_is_refused(session):
    wallet, _ = session

    response = send(session, proof=wallet.proof(aud="https://other-issuer.example",
                                                 nonce=fresh_nonce(session)))

    detail = oauth_error(response, 400, "invalid_proof")
    assert detail == (f"proof aud must be the credential issuer identifier {AUD}, got "
                      "https://other-issuer.example")
    still_waiting(session)


@pytest.mark.parametrize(("header", "reason"), [
    ({"typ": "JWT"}, "proof typ must be openid4vci-proof+jwt, got JWT"),
    ({"typ": None}, "proof typ must be openid4vci-proof+jwt, got None"),
])
def test_a_proof_of_the_wrong_type_is_refused(session, header, reason):
    wallet, _ = session

    response = send(session, proof=wallet.proof(aud=AUD, nonce=fresh_nonce(session),
                                                header=header))

    assert oauth_error(response, 400, "invalid_proof") == reason
    still_waiting(session)


@pytest.mark.parametrize(("alg", "reason"), [
    ("none", "alg 'none' not accepted"),
    ("HS256", "alg 'HS256' not accepted"),
    ("Ed25519", "proof alg Ed25519 is not one of ES256, EdDSA"),
])
def test_a_proof_with_an_unsupported_alg_is_refused(session, alg, reason):
    wallet, _ = session
    signer = LocalSigner.generate(key_type="Ed25519")
    header = {"alg": alg, "typ": "openid4vci-proof+jwt", "jwk": signer.public_key().jwk()}
    claims = {"aud": AUD, "iat": int(time.time()), "nonce": fresh_nonce(session)}

    response = send(session, proof=unsigned_header_proof(header, claims, signer))

    assert reason in oauth_error(response, 400, "invalid_proof")
    still_waiting(session)


def test_a_proof_not_signed_by_its_key_is_refused(session):
    wallet, _ = session
    impostor = LocalSigner.generate(key_type="P-256")
    proof = wallet.proof(aud=AUD, nonce=fresh_nonce(session), signer=impostor,
                         header={"jwk": wallet.key.jwk()})

    response = send(session, proof=proof)

    assert oauth_error(response, 400, "invalid_proof") == "proof signature: invalid"
    still_waiting(session)


def test_a_proof_carrying_a_private_key_is_refused(session):
    wallet, _ = session
    jwk = {**wallet.key.jwk(), "d": "c2VjcmV0"}

    response = send(session, proof=wallet.proof(aud=AUD, nonce=fresh_nonce(session),
                                                header={"jwk": jwk}))

    assert oauth_error(response, 400, "invalid_proof") == "proof jwk contains private key material"


@pytest.mark.parametrize(("iat", "reason"), [
    (lambda: int(time.time()) + 600, "proof iat is in the future"),
    (lambda: int(time.time()) - 3600, "proof iat is too old (more than 300 s)"),
])
def test_a_proof_out_of_time_is_refused(session, iat, reason):
    wallet, _ = session

    response = send(session, proof=wallet.proof(aud=AUD, nonce=fresh_nonce(session),
                                                iat=iat()))

    assert oauth_error(response, 400, "invalid_proof") == reason
    still_waiting(session)


@pytest.mark.parametrize("method", ["did:key", "did:jwk"])
def test_a_key_named_by_a_did_kid_is_accepted_and_bound(session, method):
    wallet, _ = session
    if method == "did:key":
        kid = did_key_verification_method(did_key_for(wallet.key))
    else:
        kid = "did:jwk:" + b64url_encode(jose.encode_json(wallet.key.jwk())) + "#0"
    proof = wallet.proof(aud=AUD, nonce=fresh_nonce(session), header={"jwk": None, "kid": kid})

    response = send(session, proof=proof)

    assert response.status_code == 200, response.content
    sd_jwt = response.json()["credentials"][0]["credential"]
    _, payload = decode_jwt_parts(SdJwt.parse(sd_jwt).jwt)
    assert payload["cnf"] == {"jwk": wallet.key.jwk()}


def test_a_kid_and_a_jwk_together_are_refused(session):
    wallet, _ = session
    kid = did_key_verification_method(did_key_for(wallet.key))

    response = send(session, proof=wallet.proof(aud=AUD, nonce=fresh_nonce(session),
                                                header={"kid": kid}))

    assert "exactly one of jwk or kid" in oauth_error(response, 400, "invalid_proof")


def test_an_expired_access_token_is_refused_with_a_bearer_challenge(acme, mandate, settings):
    settings.OPENID4VCI_ACCESS_TOKEN_SECONDS = 0
    created = offer_create(actor=operator(), issuer=acme, configuration="mandate", mandate=mandate)
    wallet = TestWallet()
    state = wallet.start(created.by_reference, created.tx_code)

    response = wallet.request_credential(state["metadata"], state["access_token"],
                                         wallet.credential_request_body(state))

    assert oauth_error(response, 401, "invalid_token") == "access token expired"
    assert response["WWW-Authenticate"] == (
        f'Bearer realm="{AUD}", error="invalid_token", '
        'error_description="access token expired"')


def test_a_request_without_a_token_gets_a_plain_challenge(client, acme):
    response = client.post("/orgs/acme/openid4vci/credential", "{}",
                           content_type="application/json")

    assert "no access token" in oauth_error(response, 401, "invalid_token")
    assert response["WWW-Authenticate"] == f'Bearer realm="{AUD}"'  # RFC 6750 §3.1


def test_an_unknown_token_is_refused(session):
    response = send(session, body={}, token="not-a-token")

    assert oauth_error(response, 401, "invalid_token") == "access token unknown or revoked"


def test_a_token_is_spent_by_its_credential(session):
    wallet, _ = session
    assert send(session, proof=wallet.proof(aud=AUD, nonce=fresh_nonce(session))) \
        .status_code == 200

    response = send(session, proof=wallet.proof(aud=AUD, nonce=fresh_nonce(session)))

    assert oauth_error(response, 401, "invalid_token") == ("access token already used for its "
                                                           "credential")


@pytest.mark.parametrize(("body", "error", "reason"), [
    ({"credential_configuration_id": "diploma", "proofs": {}}, "unknown_credential_configuration",
     "credential configuration diploma unknown"),
    ({"credential_configuration_id": "business_identity", "proofs": {}},
     "unknown_credential_configuration", "credential configuration business_identity unknown"),
    ({"proofs": {"jwt": ["x"]}}, "invalid_credential_request",
     "credential_configuration_id missing"),
    ({"credential_configuration_id": "mandate", "credential_identifier": "x"},
     "invalid_credential_request", "give credential_identifier or credential_configuration_id"),
    ({"credential_identifier": "mandate:1"}, "unknown_credential_identifier",
     "no credential_identifiers came with this access token"),
    ({"credential_configuration_id": "mandate"}, "invalid_proof", "proofs missing"),
    ({"credential_configuration_id": "mandate", "proof": {"proof_type": "jwt", "jwt": "x"}},
     "invalid_proof", "proofs missing"),
    ({"credential_configuration_id": "mandate", "proofs": {"di_vp": [{}]}}, "invalid_proof",
     "proof type di_vp is not supported; only jwt"),
    ({"credential_configuration_id": "mandate", "proofs": {"jwt": []}}, "invalid_proof",
     "proofs.jwt must be a non-empty array"),
    ({"credential_configuration_id": "mandate", "proofs": {"jwt": ["a", "b"]}},
     "invalid_credential_request", "one key proof per request"),
    ({"credential_configuration_id": "mandate", "proofs": {"jwt": ["x"]},
      "credential_response_encryption": {"jwk": {}, "enc": "A128GCM"}},
     "invalid_encryption_parameters", "this issuer does not encrypt credential responses"),
    ({"credential_configuration_id": "mandate", "proofs": {"jwt": ["not.a.jwt"]}},
     "invalid_proof", "proof is not a valid JWS"),
])
def test_malformed_credential_requests_name_what_is_wrong(session, body, error, reason):
    response = send(session, body=body)

    assert oauth_error(response, 400, error).startswith(reason)
    still_waiting(session)


def test_a_configuration_the_token_was_not_issued_for_is_insufficient_scope(session):
    wallet, _ = session

    response = send(session, body={"credential_configuration_id": "product_passport",
                                   "proofs": {"jwt": [wallet.proof(aud=AUD, nonce="n")]}})

    assert "issued for mandate, not product_passport" in oauth_error(response, 403,
                                                                    "insufficient_scope")
    assert 'error="insufficient_scope"' in response["WWW-Authenticate"]
    still_waiting(session)


def test_a_body_that_is_not_a_json_object_is_refused(session):
    wallet, state = session
    url = local_path(state["metadata"]["credential_endpoint"])
    auth = {"HTTP_AUTHORIZATION": f"Bearer {state['access_token']}"}

    for body, content_type, reason in [
            ("[1]", "application/json", "the body is not a JSON object"),
            ("{nope", "application/json", "the body is not JSON"),
            ('{"a": 1, "a": 2}', "application/json", "the body is not JSON (duplicate"),
            ("eyJ.x.y", "application/jwt", "Content-Type must be application/json")]:
        response = wallet.client.post(url, body, content_type=content_type, **auth)
        assert oauth_error(response, 400, "invalid_credential_request").startswith(reason)
    still_waiting(session)


def test_every_error_description_keeps_to_the_allowed_characters(session):
    wallet, _ = session
    proof = wallet.proof(aud='https://"quoted"\\example', nonce=fresh_nonce(session))

    body = send(session, proof=proof).json()

    assert schemas.errors("error_response", body) == []
    assert "'quoted'" in body["error_description"]


def test_a_mandate_revoked_before_the_credential_request_denies_it(session, mandate):
    wallet, state = session
    mandate_revoke(mandate=mandate, reason="left the company")

    response = send(session, proof=wallet.proof(aud=AUD, nonce=fresh_nonce(session)))

    assert oauth_error(response, 400, "credential_request_denied") == "the mandate is revoked"
    offer = CredentialOffer.objects.get(pk=state["offer_id"])
    assert offer.state == "denied" and offer.state_reason == "the mandate is revoked"


def test_a_suspended_mandate_is_not_copied(session, mandate):
    wallet, _ = session
    mandate_suspend(mandate=mandate, reason="under review")

    response = send(session, proof=wallet.proof(aud=AUD, nonce=fresh_nonce(session)))

    assert oauth_error(response, 400, "credential_request_denied") == "the mandate is suspended"


def test_the_deferred_endpoint_knows_no_immediate_issuance(session):
    wallet, state = session

    response = wallet.deferred_credential(state["metadata"], state["access_token"], "tx")

    assert oauth_error(response, 400, "invalid_transaction_id") == "transaction_id unknown"
    still_waiting(session)


def test_the_credential_response_is_json(session):
    wallet, _ = session

    response = send(session, proof=wallet.proof(aud=AUD, nonce=fresh_nonce(session)))

    assert response["Content-Type"] == "application/json"
    assert json.loads(response.content)["credentials"][0]["credential"].endswith("~")
