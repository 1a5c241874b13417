"""Issuer and authorization server metadata: where wallets look, what they find, and how it is
served (JSON, CORS, briefly cacheable); shapes checked against the specification's schemas
(whose published examples are in test_spec_examples)."""

import random

from openid4vci.configurations import LANGUAGES, PRODUCT_PASSPORT_VCT
from tests.support import openid4vci_schemas as schemas
from wallet.business.identity.services import BUSINESS_IDENTITY_VCT
from wallet.business.presentations import ACCESS_ROLE_VCT
from wallet.tenancy.mandates import MANDATE_VCT

BASE = "http://localhost:8000"


def random_address() -> str:
    return f"10.{random.randrange(256)}.{random.randrange(256)}.{random.randrange(1, 255)}"


def test_issuer_metadata_is_at_the_inserted_well_known_path_and_the_appended_one(client, acme):
    inserted = client.get("/.well-known/openid-credential-issuer/orgs/acme")
    appended = client.get("/orgs/acme/.well-known/openid-credential-issuer")

    assert inserted.status_code == appended.status_code == 200
    assert inserted.json() == appended.json()
    assert inserted["Content-Type"] == "application/json"
    assert inserted["Cache-Control"] == "public, max-age=300"
    assert inserted["Access-Control-Allow-Origin"] == "*"
    assert "Accept-Language" not in inserted.get("Vary", "")


def test_issuer_metadata_conforms_and_describes_each_configuration(client, acme):
    metadata = client.get("/.well-known/openid-credential-issuer/orgs/acme").json()

    assert schemas.errors("issuer_metadata", metadata) == []
    assert metadata["credential_issuer"] == f"{BASE}/orgs/acme"
    for name in ("credential_endpoint", "nonce_endpoint", "deferred_credential_endpoint"):
        assert metadata[name].startswith(f"{BASE}/orgs/acme/openid4vci/")
    assert [d["locale"] for d in metadata["display"]] == list(LANGUAGES)
    assert {d["name"] for d in metadata["display"]} == {"Acme Batteries B.V."}
    configurations = metadata["credential_configurations_supported"]
    # Only trust anchors issue business identities.
    assert {key: c["vct"] for key, c in configurations.items()} == {
        "mandate": MANDATE_VCT, "access_role": ACCESS_ROLE_VCT,
        "product_passport": PRODUCT_PASSPORT_VCT}
    for key, configuration in configurations.items():
        assert configuration["format"] == "dc+sd-jwt"
        assert configuration["scope"] == key  # HAIP: a scope for every configuration
        assert configuration["cryptographic_binding_methods_supported"] == ["jwk"]
        assert configuration["credential_signing_alg_values_supported"] == ["ES256"]
        assert configuration["proof_types_supported"] == {
            "jwt": {"proof_signing_alg_values_supported": ["ES256", "EdDSA"]}}
        display = configuration["credential_metadata"]["display"]
        assert [d["locale"] for d in display] == list(LANGUAGES)
        assert all(d["name"] and d["description"] for d in display)
        for claim in configuration["credential_metadata"]["claims"]:
            assert [d["locale"] for d in claim["display"]] == list(LANGUAGES), claim["path"]
    names = {d["locale"]: d["name"]
             for d in configurations["product_passport"]["credential_metadata"]["display"]}
    assert names == {"en": "Product passport", "nl": "Productpaspoort", "de": "Produktpass",
                     "fr": "Passeport produit"}
    paths = [c["path"] for c in configurations["mandate"]["credential_metadata"]["claims"]]
    assert ["principal", "legal_name"] in paths and ["scope"] in paths


def test_an_anchor_also_offers_business_identities(client, register):
    metadata = client.get("/.well-known/openid-credential-issuer/orgs/register").json()

    identity = metadata["credential_configurations_supported"]["business_identity"]
    assert identity["vct"] == BUSINESS_IDENTITY_VCT
    claims = {tuple(c["path"]): c for c in identity["credential_metadata"]["claims"]}
    assert {d["locale"]: d["name"] for d in claims[("vat_id",)]["display"]}["nl"] == "Btw-nummer"
    assert ("address", "locality") in claims


def test_authorization_server_metadata_allows_anonymous_pre_authorized_codes(client, acme):
    inserted = client.get("/.well-known/oauth-authorization-server/orgs/acme")
    appended = client.get("/orgs/acme/.well-known/oauth-authorization-server")

    assert inserted.status_code == appended.status_code == 200
    metadata = inserted.json()
    assert metadata == appended.json()
    assert schemas.errors("authorization_server_metadata", metadata) == []
    assert metadata["issuer"] == f"{BASE}/orgs/acme"
    assert metadata["token_endpoint"] == f"{BASE}/orgs/acme/openid4vci/token"
    assert metadata["pre-authorized_grant_anonymous_access_supported"] is True
    assert metadata["grant_types_supported"] == [schemas.PRE_AUTHORIZED_GRANT,
                                                 "authorization_code"]
    # HAIP 1.0 §4: the authorization code flow, pushed requests and PKCE S256 only; DPoP.
    assert metadata["authorization_endpoint"] == f"{BASE}/orgs/acme/openid4vci/authorize"
    assert metadata["pushed_authorization_request_endpoint"] == \
        f"{BASE}/orgs/acme/openid4vci/par"
    assert metadata["require_pushed_authorization_requests"] is True
    assert metadata["code_challenge_methods_supported"] == ["S256"]
    assert metadata["response_types_supported"] == ["code"]
    assert "ES256" in metadata["dpop_signing_alg_values_supported"]
    assert inserted["Access-Control-Allow-Origin"] == "*"


def test_an_unknown_issuer_is_a_json_404(client, db):
    response = client.get("/.well-known/openid-credential-issuer/orgs/nobody")

    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert schemas.errors("error_response", response.json()) == []


def test_browsers_may_call_the_endpoints_from_any_origin(client, acme):
    preflight = client.options("/orgs/acme/openid4vci/credential",
                               HTTP_ORIGIN="https://wallet.example",
                               HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST",
                               HTTP_ACCESS_CONTROL_REQUEST_HEADERS="authorization,content-type")

    assert preflight.status_code == 204
    assert preflight["Access-Control-Allow-Origin"] == "*"
    assert "POST" in preflight["Access-Control-Allow-Methods"]
    assert "Authorization" in preflight["Access-Control-Allow-Headers"]


def test_the_nonce_endpoint_answers_fresh_uncacheable_nonces(client, acme):
    first = client.post("/orgs/acme/openid4vci/nonce")
    second = client.post("/orgs/acme/openid4vci/nonce")

    assert first.status_code == 200 and first["Cache-Control"] == "no-store"
    assert first["Content-Type"] == "application/json"
    assert schemas.errors("nonce_response", first.json()) == []
    assert first.json()["c_nonce"] != second.json()["c_nonce"]
    wrong = client.get("/orgs/acme/openid4vci/nonce")
    assert wrong.status_code == 405 and wrong.json()["error"] == "invalid_request"


def test_the_protocol_endpoints_are_not_in_the_partner_api_schema(client, db):
    paths = client.get("/api/v1/schema/", HTTP_ACCEPT="application/json").json()["paths"]

    assert "/api/v1/openid4vci/offers" in paths
    assert "/api/v1/openid4vci/offers/{offer_id}" in paths
    assert not [path for path in paths if "/orgs/" in path or "well-known" in path]


def test_the_endpoints_are_rate_limited_per_client_with_an_oauth_error(client, acme, settings):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {
        **settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "openid4vci": "2/minute"}}

    address, other = random_address(), random_address()  # counters outlive a run in Redis

    answers = [client.post("/orgs/acme/openid4vci/nonce", REMOTE_ADDR=address)
               for _ in range(3)]

    assert [a.status_code for a in answers] == [200, 200, 429]
    assert answers[2].json()["error"] == "temporarily_unavailable"
    assert int(answers[2]["Retry-After"]) >= 1
    assert client.post("/orgs/acme/openid4vci/nonce", REMOTE_ADDR=other).status_code == 200


def test_the_protocol_endpoints_need_no_csrf_token(acme):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)

    assert strict.post("/orgs/acme/openid4vci/nonce").status_code == 200
    response = strict.post("/orgs/acme/openid4vci/token", "grant_type=x",
                           content_type="application/x-www-form-urlencoded")
    assert response.json()["error"] == "unsupported_grant_type"
