"""The whole OpenID4VP 1.0 exchange with a wallet: an organisation asks, the wallet fetches the
signed request, answers with only the asked claims (in the clear or encrypted), and the
organisation reads the verdict."""

import random
from urllib.parse import urlencode

import pytest

from openid4vp.models import PresentationEvent, PresentationRequest
from tests.support.openid4vp import IDENTITY_VCT, create_request, result_of, simple_query
from tests.support.openid4vp_vectors import form
from tests.support.openid4vp_wallet import local_path


@pytest.mark.parametrize("mode", ["direct_post", "direct_post.jwt"])
def test_a_wallet_answers_with_only_the_asked_claims_and_the_verifier_accepts(world, mode):
    created = create_request(world, mode=mode)
    request = world.wallet.fetch(created["authorization_request"])

    answer = world.wallet.answer_query(request, "identity")

    assert answer.status_code == 200, answer.content
    assert answer.json() == {}
    assert answer["Cache-Control"].startswith("no-store") or "no-store" in answer["Cache-Control"]
    result = result_of(world, created)
    assert result["status"] == "verified", result
    [credential] = result["credentials"]
    assert credential["ok"] and credential["vct"] == IDENTITY_VCT
    assert credential["issuer"]["id"] == world.acme.did
    assert credential["issuer"]["trusted"] is True
    assert credential["issuer"]["legal_person"]["name"] == "Acme Batteries B.V."
    disclosed = result["disclosed"]["my_credential"]
    assert disclosed["family_name"] == "Mustermann" and disclosed["given_name"] == "Erika"
    assert disclosed["address"] == {"street_address": "Heidestraße 17"}
    assert "birthdate" not in disclosed and "nationalities" not in disclosed
    assert "cnf" not in disclosed  # the holder's key is not "disclosed data"


def test_the_creation_answer_has_the_link_the_qr_codes_and_the_result_url(world, client):
    created = create_request(world)

    assert created["status"] == "pending"
    assert created["authorization_request"].startswith("openid4vp://?client_id=x509_hash%3A")
    assert created["client_id"].startswith("x509_hash:")
    assert created["result_url"].endswith(f"/api/v1/openid4vp/requests/{created['id']}")
    svg = client.get(local_path(created["qr_svg"]))
    png = client.get(local_path(created["qr_png"]))
    assert svg.status_code == 200 and svg["Content-Type"] == "image/svg+xml"
    assert b"<svg" in svg.content
    assert png.status_code == 200 and png.content.startswith(b"\x89PNG")


def test_the_request_object_is_what_the_final_spec_defines(world, settings):
    created = create_request(world)

    request = world.wallet.fetch(created["authorization_request"])

    claims, header = request.claims, request.header
    assert header["typ"] == "oauth-authz-req+jwt" and header["alg"] == "ES256"
    assert len(header["x5c"]) == 1
    assert request.certificate.dns_names == (settings.PUBLIC_HOST,)
    assert request.certificate.subject_common_name == settings.PUBLIC_HOST
    assert claims["response_type"] == "vp_token"
    assert claims["response_mode"] == "direct_post.jwt"
    assert claims["response_uri"] == "http://localhost:8000/openid4vp/response"
    assert claims["aud"] == "https://self-issued.me/v2"
    assert "redirect_uri" not in claims  # §8.2: never with response_uri
    assert claims["client_id"] == created["client_id"]
    assert len(claims["nonce"]) >= 22 and len(claims["state"]) >= 22  # ≥ 128 bits
    assert claims["dcql_query"] == created["dcql_query"]
    assert claims["exp"] - claims["iat"] == settings.OPENID4VP_REQUEST_SECONDS
    metadata = claims["client_metadata"]
    assert metadata["vp_formats_supported"] == {"dc+sd-jwt": {
        "sd-jwt_alg_values": ["ES256", "EdDSA"], "kb-jwt_alg_values": ["ES256", "EdDSA"]}}
    [key] = metadata["jwks"]["keys"]
    assert key["kty"] == "EC" and key["crv"] == "P-256" and "d" not in key
    assert key["use"] == "enc" and key["alg"] == "ECDH-ES" and key["kid"]
    assert metadata["encrypted_response_enc_values_supported"] == ["A128GCM", "A256GCM"]


def test_a_direct_post_request_carries_no_encryption_key(world):
    created = create_request(world, mode="direct_post")

    request = world.wallet.fetch(created["authorization_request"])

    assert request.claims["response_mode"] == "direct_post"
    assert set(request.claims["client_metadata"]) == {"vp_formats_supported"}


def test_two_requests_have_fresh_nonces_states_and_keys(world):
    first = world.wallet.fetch(create_request(world)["authorization_request"])
    second = world.wallet.fetch(create_request(world)["authorization_request"])

    assert first.nonce != second.nonce and first.state != second.state
    assert (first.claims["client_metadata"]["jwks"] != second.claims["client_metadata"]["jwks"])
    assert first.client_id == second.client_id  # one verifier identity


@pytest.mark.parametrize("enc", ["A128GCM", "A256GCM"])
def test_both_content_encryptions_are_accepted(world, enc):
    created = create_request(world)
    request = world.wallet.fetch(created["authorization_request"])

    answer = world.wallet.answer_query(request, "identity", enc=enc)

    assert answer.status_code == 200, answer.content
    assert result_of(world, created)["status"] == "verified"


def test_a_redirect_uri_comes_back_with_a_fresh_response_code_that_the_result_shows(world):
    created = create_request(world, redirect_uri="https://verifier.example/done?session=7")
    request = world.wallet.fetch(created["authorization_request"])

    answer = world.wallet.answer_query(request, "identity")

    redirect = answer.json()["redirect_uri"]
    code = result_of(world, created)["response_code"]
    assert len(code) >= 22
    assert redirect == f"https://verifier.example/done?session=7&response_code={code}"


def test_the_wallet_declining_is_recorded_and_acknowledged(world):
    created = create_request(world)
    request = world.wallet.fetch(created["authorization_request"])

    answer = world.wallet.decline(request, "access_denied")

    assert answer.status_code == 200 and answer.json() == {}
    result = result_of(world, created)
    assert result["status"] == "failed"
    assert result["wallet_error"] == "access_denied"
    assert result["error_code"] == "wallet_error"
    assert "the user said no" in result["reason"]


def test_each_step_leaves_an_event(world):
    created = create_request(world)
    request = world.wallet.fetch(created["authorization_request"])
    world.wallet.fetch(created["authorization_request"])  # a second fetch is no new event
    world.wallet.answer_query(request, "identity")

    kinds = list(PresentationEvent.objects.filter(request_id=created["id"])
                 .values_list("kind", flat=True))
    assert kinds == ["created", "fetched", "verified"]


def test_a_query_with_credential_sets_takes_any_option(world):
    query = simple_query(["family_name"])
    query["credentials"].append({"id": "other_vct", "format": "dc+sd-jwt",
                                 "meta": {"vct_values": ["https://example.com/nope"]},
                                 "claims": [{"path": ["given_name"]}]})
    query["credential_sets"] = [{"options": [["other_vct"], ["my_credential"]]}]
    created = create_request(world, query)
    request = world.wallet.fetch(created["authorization_request"])

    disclosed = world.wallet.presentation(request, "identity", [["family_name"]])
    answer = world.wallet.answer(request, {"my_credential": [disclosed]})

    assert answer.status_code == 200, answer.content
    assert result_of(world, created)["status"] == "verified"


def test_the_stored_request_keeps_no_private_key_in_the_clear(world):
    created = create_request(world)
    stored = PresentationRequest.objects.get(pk=created["id"])

    assert "d" not in stored.encryption_jwk
    assert bytes(stored.wrapped_encryption_key)[:1] == b"\x01"  # AES-GCM wrapped (keys.py)


def test_the_private_key_of_an_answered_request_is_deleted(world):
    created = create_request(world)
    request = world.wallet.fetch(created["authorization_request"])
    assert PresentationRequest.objects.get(pk=created["id"]).wrapped_encryption_key

    world.wallet.answer_query(request, "identity")

    stored = PresentationRequest.objects.get(pk=created["id"])
    assert stored.wrapped_encryption_key is None
    assert stored.encryption_jwk["kid"]  # the public part stays, for the record


def test_the_specifications_error_response_example_is_accepted_and_recorded(world):
    created = create_request(world, mode="direct_post")
    request = world.wallet.fetch(created["authorization_request"])

    # OpenID4VP 1.0 §8.2: the published Authorization Error Response, with this request's state.
    answer = world.wallet.client.post(
        "/openid4vp/response", urlencode({**form("error_response_direct_post.txt"),
                                          "state": request.state}),
        content_type="application/x-www-form-urlencoded")

    assert answer.status_code == 200 and answer["Content-Type"] == "application/json"
    result = result_of(world, created)
    assert result["status"] == "failed" and result["wallet_error"] == "invalid_request"
    assert result["reason"] == ("the wallet answered invalid_request: unsupported "
                                "client_id_prefix")


def random_address() -> str:
    return f"10.{random.randrange(256)}.{random.randrange(256)}.{random.randrange(1, 255)}"


def test_the_response_endpoint_is_rate_limited_like_verify(world, settings):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {
        **settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "verify": "2/hour"}}
    address = random_address()  # counters live in a shared cache in the real mode
    form = "error=access_denied&state=unknown"

    codes = [world.wallet.client.post("/openid4vp/response", form, REMOTE_ADDR=address,
                                      content_type="application/x-www-form-urlencoded")
             for _ in range(3)]

    assert [c.status_code for c in codes] == [400, 400, 429]
    assert codes[2]["Retry-After"]
