"""DPoP (RFC 9449, HAIP 1.0 §4): the token endpoint binds the access token to the key of the
wallet's DPoP proof, with server-provided nonces; the credential endpoint then takes the token
only with a fresh proof by that key, for that request, with the token's hash, used once."""

import json
from urllib.parse import urlencode

import pytest

from credentials.keys import LocalSigner
from openid4vci.models import CredentialOffer
from openid4vci.services import dpop
from openid4vci.services.offers import offer_create
from tests.support.openid4vci_wallet import FORM, TestWallet, local_path
from wallet.tenancy.authority import operator


@pytest.fixture
def created(acme, mandate):
    return offer_create(actor=operator(), issuer=acme, configuration="mandate", mandate=mandate)


def test_the_authorization_server_announces_dpop(client, acme):
    metadata = client.get("/.well-known/oauth-authorization-server/orgs/acme").json()
    nonce_answer = client.post("/orgs/acme/openid4vci/nonce")

    assert "ES256" in metadata["dpop_signing_alg_values_supported"]
    assert nonce_answer["DPoP-Nonce"]  # HAIP 1.0 §4: from the nonce endpoint too


def test_a_token_request_without_the_servers_nonce_is_asked_for_it_and_the_code_kept(created):
    wallet = TestWallet()
    offer = wallet.resolve_offer(created.by_reference)
    server = wallet.authorization_server(offer["credential_issuer"])
    form = {"grant_type": "urn:ietf:params:oauth:grant-type:pre-authorized_code",
            "pre-authorized_code": offer["grants"][
                "urn:ietf:params:oauth:grant-type:pre-authorized_code"]["pre-authorized_code"],
            "tx_code": created.tx_code}

    first = wallet.client.post(
        local_path(server["token_endpoint"]), urlencode(form), content_type=FORM,
        HTTP_DPOP=wallet.dpop_proof("POST", server["token_endpoint"]))

    assert first.status_code == 400 and first.json()["error"] == "use_dpop_nonce"
    nonce = first["DPoP-Nonce"]
    assert CredentialOffer.objects.get(pk=created.offer.pk).state == "offered"  # not spent
    second = wallet.client.post(
        local_path(server["token_endpoint"]), urlencode(form), content_type=FORM,
        HTTP_DPOP=wallet.dpop_proof("POST", server["token_endpoint"], nonce=nonce))
    assert second.status_code == 200, second.content
    assert second.json()["token_type"] == "DPoP"
    row = CredentialOffer.objects.get(pk=created.offer.pk)
    assert row.dpop_jkt == dpop.thumbprint(wallet.dpop_signer.public_key())


def test_a_wallet_receives_its_credential_with_a_dpop_bound_token(created):
    wallet = TestWallet()

    wallet.redeem_offer(created.by_reference, created.tx_code)

    assert wallet.token_type == "DPoP"
    assert CredentialOffer.objects.get(pk=created.offer.pk).state == "issued"


@pytest.fixture
def bound(created):
    """A wallet holding a DPoP-bound token, its credential request body ready."""
    wallet = TestWallet()
    session = wallet.start(created.by_reference, created.tx_code)
    assert wallet.token_type == "DPoP"
    return wallet, session, wallet.credential_request_body(session)


def post_credential(wallet, session, body, *, authorization=None, proof=None):
    url = session["metadata"]["credential_endpoint"]
    headers = {"HTTP_AUTHORIZATION": authorization or f"DPoP {session['access_token']}"}
    if proof is not None:
        headers["HTTP_DPOP"] = proof
    return wallet.client.post(local_path(url), json.dumps(body),
                              content_type="application/json", **headers)


@pytest.mark.parametrize("case, error", [
    ("as bearer", "invalid_token"),
    ("no proof", "invalid_dpop_proof"),
    ("another key", "invalid_dpop_proof"),
    ("no nonce", "use_dpop_nonce"),
    ("stale nonce", "use_dpop_nonce"),
    ("wrong ath", "invalid_dpop_proof"),
    ("wrong htu", "invalid_dpop_proof"),
    ("wrong htm", "invalid_dpop_proof"),
])
def test_the_credential_endpoint_refuses_a_bound_token_without_the_right_proof(bound, case,
                                                                               error):
    wallet, session, body = bound
    url, token = session["metadata"]["credential_endpoint"], session["access_token"]
    authorization = None
    if case == "as bearer":
        authorization = f"Bearer {token}"
    if case == "another key":
        wallet.dpop_signer, own = LocalSigner.generate(key_type="P-256"), wallet.dpop_signer
    proof = None if case == "no proof" else wallet.dpop_proof(
        "GET" if case == "wrong htm" else "POST",
        url.replace("/credential", "/nonce") if case == "wrong htu" else url,
        access_token="another token" if case == "wrong ath" else token,
        claims={"nonce": None} if case == "no nonce" else None,
        nonce="1.AAAAAAAAAAAAAAAAAAAAAAAA" if case == "stale nonce" else None)

    refused = post_credential(wallet, session, body, authorization=authorization, proof=proof)

    assert refused.status_code == 401, refused.content
    assert refused.json()["error"] == error
    challenge = refused["WWW-Authenticate"]
    assert challenge.startswith("Bearer" if error == "invalid_token" else "DPoP")
    if error != "invalid_token":
        assert f'error="{error}"' in challenge and 'algs="ES256' in challenge
        assert refused["DPoP-Nonce"]
    if case == "another key":
        wallet.dpop_signer = own
    # Nothing was spent: the right proof still gets the credential.
    assert wallet.request_credential(session["metadata"], token, body).status_code == 200


def test_a_replayed_dpop_proof_is_refused(bound):
    wallet, session, body = bound
    url, token = session["metadata"]["credential_endpoint"], session["access_token"]
    proof = wallet.dpop_proof("POST", url, access_token=token)
    first = post_credential(wallet, session, {"credential_configuration_id": "nope"}, proof=proof)
    assert first.status_code == 400  # the proof passed; the request itself was refused

    again = post_credential(wallet, session, body, proof=proof)

    assert again.status_code == 401 and again.json()["error"] == "invalid_dpop_proof"
    assert "replayed" in again.json()["error_description"]


def test_a_bearer_token_is_not_taken_as_dpop(created):
    wallet = TestWallet(dpop=False)
    session = wallet.start(created.by_reference, created.tx_code)
    assert wallet.token_type == "Bearer"

    refused = post_credential(wallet, session, wallet.credential_request_body(session),
                              proof="x.y.z")

    assert refused.status_code == 401 and refused.json()["error"] == "invalid_token"
