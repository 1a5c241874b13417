"""The OpenID4VP 1.0 final specification's published examples (tests/vectors/openid4vp, sources
in its MANIFEST.md) against this verifier, in three directions:

(a) every published example conforms to tests/support/openid4vp_schemas.py, so the schemas say
    what the specification shows and are not fitted to this service;
(b) every message the verifier sends conforms to the same schemas;
(c) what a wallet sends, in the published shape (with a real presentation, key and state in
    place of the elided values), is accepted; as published, it is refused only for a value
    (an unknown key, a presentation that is no SD-JWT), never for its shape. The published
    error response is fed to the verifier in test_flow."""

from __future__ import annotations

import copy
import json
from urllib.parse import parse_qsl, urlencode, urlsplit

import pytest

from credentials import jose, jwe
from credentials.key_store import signer_for
from credentials.sd_jwt import SdJwt
from credentials.status_registry import token_entry_allocate
from credentials.suites.sd_jwt import SD_JWT_VC
from openid4vp import dcql
from tests.support import openid4vp_schemas as schemas
from tests.support.openid4vp import IDENTITY_VCT, create_request, result_of
from tests.support.openid4vp_vectors import form, published, text
from tests.support.pki import root_ca

FORM = "application/x-www-form-urlencoded"


def request_client_metadata(name: str) -> dict:
    return published(name)["client_metadata"]


def payload_vp_token(name: str) -> dict:
    return published(name)["vp_token"]


def with_published_query(name: str) -> dict:
    """A published Request Object whose `dcql_query` is elided (`{...}`), with §7.4's
    published query in its place."""
    document = text(name)
    assert document.count("{...}") == 1
    return json.loads(document.replace("{...}", json.dumps(published("dcql_simple.json"))))


# --- (a) the published examples conform to the schemas ------------------------------------------

PUBLISHED = [
    ("request_object", "request_object_redirect_uri.json", published),
    ("request_object", "request_encrypted_response.json", published),
    ("request_object", "request_object_x509_san_dns.txt", with_published_query),
    ("request_object_header", "request_object_header_did.json", published),
    ("authorization_request_by_reference", "authorization_request_by_reference.txt", form),
    ("client_metadata", "client_metadata_sd_jwt_vc.json", published),
    ("client_metadata", "client_metadata_jwt_vc_json.json", published),
    ("client_metadata", "request_encrypted_response.json", request_client_metadata),
    ("dcql_query", "dcql_simple.json", published),
    ("dcql_query", "dcql_simple_mdoc.json", published),
    ("dcql_query", "dcql_multi_credentials.json", published),
    ("dcql_query", "dcql_credentials_alternatives.json", published),
    ("dcql_query", "dcql_complex_mdoc.json", published),
    ("dcql_query", "dcql_claims_alternatives.json", published),
    ("dcql_query", "dcql_jwt_vc.json", published),
    ("vp_token", "vp_token_sd_jwt_vc.json", published),
    ("vp_token", "vp_token_jwt_vc.json", published),
    ("vp_token", "vp_token_mdoc.json", published),
    ("vp_token", "response_encrypted_payload.json", payload_vp_token),
    ("authorization_response", "response_encrypted_payload.json", published),
    ("authorization_response", "response_direct_post_jwt_payload.json", published),
    ("authorization_error_response", "error_response_direct_post.txt", form),
    ("encrypted_response", "response_encrypted.json", published),
    ("response_jwe_header", "response_encrypted_header.json", published),
    ("response_endpoint_answer", "response_endpoint_redirect.json", published),
    ("kb_jwt_claims", "kb_jwt_claims.json", published),
]
# Message kinds without a published example, and why.
UNPUBLISHED = {"error_response": "§8.2 defines the Response Endpoint's 200 answer only; a "
                                 "refusal is an OAuth error body (RFC 6749 §5.2)"}
# What the verifier sends (b) and what it receives (c); together, every schema.
SENT = {"request_object", "request_object_header", "authorization_request_by_reference",
        "client_metadata", "dcql_query", "response_endpoint_answer", "error_response"}
RECEIVED = {"vp_token", "authorization_response", "authorization_error_response",
            "encrypted_response", "response_jwe_header", "kb_jwt_claims"}


@pytest.mark.parametrize("kind, name, read", PUBLISHED, ids=lambda v: getattr(v, "__name__", v))
def test_every_published_example_conforms_to_the_schemas(kind, name, read):
    assert schemas.errors(kind, read(name)) == []


def test_every_message_kind_has_a_published_example_and_is_checked_both_ways():
    published_kinds = {kind for kind, _, _ in PUBLISHED}
    assert published_kinds | set(UNPUBLISHED) == set(schemas.SCHEMAS) == SENT | RECEIVED
    assert not SENT & RECEIVED and not published_kinds & set(UNPUBLISHED)


def test_the_published_request_header_binds_the_published_client_id():
    # §5.9.3: "Example Client Identifier: decentralized_identifier:did:example:123".
    header = published("request_object_header_did.json")

    assert schemas.request_object_binding_errors(
        header, {"client_id": "decentralized_identifier:did:example:123"}) == []
    assert schemas.request_object_binding_errors(
        header, {"client_id": "decentralized_identifier:did:example:456"})


def x5c_for(*dns_names: str) -> dict:
    """A Request Object header whose certificate names `dns_names` (the specification
    publishes none for its x509_san_dns examples)."""
    leaf = root_ca().issue(uris=(), dns_names=dns_names)
    return {"typ": "oauth-authz-req+jwt", "alg": "ES256", "x5c": leaf.x5c}


def test_the_published_x509_san_dns_request_binds_its_client_id_to_the_certificate_and_host():
    # §5.10.1: "client_id": "x509_san_dns:client.example.org", response_uri on that host; the
    # link of §5.4 that leads to it names the same client id (§5.10.1: MUST be identical).
    claims = with_published_query("request_object_x509_san_dns.txt")
    assert form("authorization_request_by_reference.txt")["client_id"] == claims["client_id"]

    assert schemas.request_object_binding_errors(x5c_for("client.example.org"), claims) == []
    assert schemas.request_object_binding_errors(
        x5c_for("verifier.example", "client.example.org"), claims) == []
    assert schemas.request_object_binding_errors(x5c_for("other.example.org"), claims) == [
        "x509_san_dns: client.example.org is not a dNSName SAN of the leaf certificate in x5c "
        "(other.example.org)"]
    assert schemas.request_object_binding_errors({"typ": "oauth-authz-req+jwt"}, claims)
    elsewhere = {**claims, "response_uri": "https://attacker.example/post"}
    assert schemas.request_object_binding_errors(x5c_for("client.example.org"), elsewhere) == [
        "x509_san_dns: the response goes to https://attacker.example/post, not to "
        "client.example.org"]


def test_the_published_encrypted_response_decrypts_to_the_published_payload():
    key = jwe.EcdhKey.from_jwk(published("response_encryption_private_key.json"))

    decrypted = jwe.decrypt(published("response_encrypted.json")["response"], key)

    assert decrypted.header == published("response_encrypted_header.json")
    assert json.loads(decrypted.plaintext) == published("response_encrypted_payload.json")


def _changed(name: str, change) -> dict:
    document = published(name)
    change(document)
    return document


@pytest.mark.parametrize("kind, document", [
    ("dcql_query", {"credentials": []}),
    ("dcql_query", _changed("dcql_simple.json",
                            lambda q: q["credentials"][0].update(id="my credential"))),
    ("dcql_query", _changed("dcql_simple.json", lambda q: q["credentials"][0].pop("meta"))),
    ("dcql_query", _changed("dcql_simple.json",
                            lambda q: q["credentials"][0]["meta"].pop("vct_values"))),
    ("dcql_query", _changed("dcql_simple.json",
                            lambda q: q["credentials"][0]["claims"][0].update(path=["a", -1]))),
    ("dcql_query", _changed("dcql_simple_mdoc.json",
                            lambda q: q["credentials"][0]["claims"][0]["path"].append("x"))),
    ("dcql_query", _changed("dcql_claims_alternatives.json",
                            lambda q: q["credentials"][0]["claim_sets"].append(["z"]))),
    ("dcql_query", _changed("dcql_credentials_alternatives.json",
                            lambda q: q["credential_sets"][0]["options"].append(["nope"]))),
    ("dcql_query", _changed("dcql_credentials_alternatives.json",
                            lambda q: q["credentials"].append(q["credentials"][0]))),
    # Drafts before 1.0: credentials as an object keyed by id, the format as a member.
    ("dcql_query", {"credentials": {"my_credential": {"format": "dc+sd-jwt"}}}),
    ("request_object", _changed("request_object_redirect_uri.json",
                                lambda r: r.pop("client_id"))),
    ("request_object", _changed("request_object_redirect_uri.json",
                                lambda r: r.update(scope="openid"))),
    ("request_object", _changed("request_object_redirect_uri.json",
                                lambda r: r.update(response_mode="direct_post"))),
    ("request_object", _changed("request_object_redirect_uri.json",
                                lambda r: r.update(nonce="n 0"))),
    ("request_object", _changed("request_encrypted_response.json",
                                lambda r: r["client_metadata"]["jwks"]["keys"][0].pop("alg"))),
    ("request_object_header", _changed("request_object_header_did.json",
                                       lambda h: h.update(typ="JWT"))),
    ("client_metadata", {"vp_formats": {"dc+sd-jwt": {}}} | {"vp_formats_supported": {}}),
    ("client_metadata", _changed("request_encrypted_response.json", lambda r: r[
        "client_metadata"]["jwks"]["keys"][0].update(d="x"))["client_metadata"]),
    ("vp_token", {"my_credential": "eyJhbGci...QMA"}),  # drafts: a bare presentation
    ("vp_token", {"my_credential": []}),
    ("authorization_response", {"vp_token": "eyJhbGci...QMA",
                                "presentation_submission": {}}),  # drafts: PE response
    ("authorization_error_response", {"error": "invalid_request", "error_description": '"x"'}),
    ("encrypted_response", {"response": "eyJhbGciOiJFUzI1NiJ9.e30.c2ln"}),  # a JWS, not a JWE
    ("response_jwe_header", _changed("response_encrypted_header.json", lambda h: h.pop("epk"))),
    ("kb_jwt_claims", _changed("kb_jwt_claims.json", lambda c: c.pop("sd_hash"))),
])
def test_the_schemas_refuse_what_the_specification_forbids(kind, document):
    assert schemas.errors(kind, document)


# --- (b) what the verifier sends conforms -----------------------------------------------------

def _sent(world, client) -> dict[str, list]:
    """Make requests, fetch them, answer them, and keep every message the verifier sends."""
    sent: dict[str, list] = {}

    def keep(kind: str, document) -> None:
        sent.setdefault(kind, []).append(document)

    for mode in ("direct_post", "direct_post.jwt"):
        created = create_request(world, mode=mode, redirect_uri="https://verifier.example/done")
        keep("authorization_request_by_reference",
             dict(parse_qsl(urlsplit(created["authorization_request"]).query)))
        request = world.wallet.fetch(created["authorization_request"])
        keep("request_object", request.claims)
        keep("request_object_header", request.header)
        keep("client_metadata", request.claims["client_metadata"])
        keep("dcql_query", request.claims["dcql_query"])
        assert schemas.request_object_binding_errors(request.header, request.claims) == []
        answer = world.wallet.answer_query(request, "identity")
        assert answer.status_code == 200, answer.content
        keep("response_endpoint_answer", answer.json())
    plain = world.wallet.fetch(create_request(world)["authorization_request"])
    keep("response_endpoint_answer", world.wallet.answer_query(plain, "identity").json())

    refused = client.post("/openid4vp/response", urlencode({"error": "access_denied",
                                                            "state": "unknown"}),
                          content_type=FORM)
    gone = client.get("/openid4vp/request/unknown")  # a request_uri that leads nowhere
    for response, status in ((refused, 400), (gone, 404)):
        assert response.status_code == status, response.content
        keep("error_response", response.json())
    return sent


def test_every_message_the_verifier_sends_conforms(world, client):
    sent = _sent(world, client)

    failures = {kind: [error for document in documents for error in schemas.errors(kind, document)]
                for kind, documents in sent.items()}
    assert failures == {kind: [] for kind in sent}
    assert set(sent) == SENT
    # Beyond the schema: what this verifier always sends (HAIP 1.0, §5.2, §8.2).
    for claims in sent["request_object"]:
        assert {"client_id", "response_mode", "response_uri", "state", "nonce"} <= claims.keys()
    assert {"redirect_uri"} in [set(answer) for answer in sent["response_endpoint_answer"]]
    assert {} in sent["response_endpoint_answer"]


# --- (c) what a wallet sends, in the published shape, reaches the verifier ----------------------

# Claims for the published query of §7.4 (last_name, first_name, address.street_address).
SIMPLE_CLAIMS = {"last_name": "Mustermann", "first_name": "Erika",
                 "address": {"street_address": "Heidestraße 17"}, "birthdate": "1964-08-12"}


def holder_of_simple_claims(world) -> str:
    """An identity SD-JWT VC from acme with the claims the published query asks for."""
    return SD_JWT_VC.secure(
        {"vct": IDENTITY_VCT, "sub": "urn:example:holder:erika", **SIMPLE_CLAIMS},
        signer_for(world.acme.did),
        disclosable=["last_name", "first_name", "address", "address.street_address",
                     "birthdate"],
        holder_key=world.wallet.key.public_key(),
        status=token_entry_allocate(world.acme.did).reference())


@pytest.mark.parametrize("name, field", [
    ("dcql_simple.json", None),
    ("dcql_credentials_alternatives.json", None),
    ("dcql_claims_alternatives.json", None),
    ("request_object_redirect_uri.json", None),
    ("request_encrypted_response.json", None),
    # Formats this verifier does not verify: refused naming the format, nothing else.
    ("dcql_simple_mdoc.json", "dcql_query.credentials.0.format"),
    ("dcql_multi_credentials.json", "dcql_query.credentials.1.format"),
    ("dcql_complex_mdoc.json", "dcql_query.credentials.0.format"),
    ("dcql_jwt_vc.json", "dcql_query.credentials.0.format"),
])
def test_the_published_queries_can_be_asked_unless_their_format_is_not_verified(
        world, name, field):
    document = published(name)
    query = document.get("dcql_query", document)

    response = world.api.post("/api/v1/openid4vp/requests",
                              {"dcql_query": query, "purpose": "Spec example"}, format="json")

    if field is None:
        assert response.status_code == 201, response.content
        request = world.wallet.fetch(response.json()["authorization_request"])
        assert request.claims["dcql_query"] == query
    else:
        assert response.status_code == 400, response.content
        [error] = response.json()["errors"]
        assert error["field"] == field and "is not supported" in error["detail"]
        with pytest.raises(dcql.DcqlError):
            dcql.validate_query(query)


@pytest.mark.parametrize("mode", ["direct_post", "direct_post.jwt"])
def test_the_published_query_answered_with_the_published_vp_token_shape_is_verified(world,
                                                                                    mode):
    world.wallet.credentials["simple"] = holder_of_simple_claims(world)
    created = create_request(world, published("dcql_simple.json"), mode=mode)
    request = world.wallet.fetch(created["authorization_request"])
    presentation = world.wallet.presentation(request, "simple",
                                             request.requested_paths("my_credential"))
    # §8.1.1's VP Token with our presentation in place of the elided one.
    vp_token = {query_id: [presentation] for query_id in published("vp_token_sd_jwt_vc.json")}

    if mode == "direct_post":  # §8.2: vp_token=...&state=...
        answer = world.wallet.post(request, {"vp_token": json.dumps(vp_token),
                                             "state": request.state})
    else:  # §8.3: the payload's members, plus the state our request carried (RFC 6749 §4.1.2)
        payload = {**published("response_encrypted_payload.json"), "vp_token": vp_token,
                   "state": request.state}
        [key] = request.claims["client_metadata"]["jwks"]["keys"]
        token = jwe.encrypt(json.dumps(payload).encode(), key, enc="A128GCM")
        assert jwe.peek_header(token).keys() == published("response_encrypted_header.json").keys()
        answer = world.wallet.post(request, {"response": token})

    assert answer.status_code == 200, answer.content
    result = result_of(world, created)
    assert result["status"] == "verified", result
    assert result["disclosed"]["my_credential"]["last_name"] == "Mustermann"
    assert "birthdate" not in result["disclosed"]["my_credential"]
    kb_claims = jose.decode(SdJwt.parse(presentation).kb_jwt).claims()
    assert kb_claims.keys() == published("kb_jwt_claims.json").keys()
    assert schemas.errors("kb_jwt_claims", kb_claims) == []


def test_the_published_vp_token_as_it_is_gets_past_its_shape_to_its_presentation(world):
    created = create_request(world, published("dcql_simple.json"), mode="direct_post")
    request = world.wallet.fetch(created["authorization_request"])

    answer = world.wallet.post(request, {"vp_token": json.dumps(published(
        "vp_token_sd_jwt_vc.json")), "state": request.state})

    # Not "vp_token: ..." (its shape): the elided presentation itself is what is refused.
    assert answer.status_code == 400
    assert answer.json()["error_description"] == ("my_credential: expected a dc+sd-jwt "
                                                  "presentation, got unknown")
    assert result_of(world, created)["error_code"] == "format"


def test_the_published_encrypted_response_as_it_is_is_refused_for_its_unknown_key(world):
    created = create_request(world)
    request = world.wallet.fetch(created["authorization_request"])

    answer = world.wallet.post(request, copy.deepcopy(published("response_encrypted.json")))

    assert answer.status_code == 400
    assert answer.json() == {"error": "invalid_request", "error_description": (
        "response: the JWE names no key of a request (kid missing or unknown)")}
    assert result_of(world, created)["status"] == "pending"  # a stranger's JWE changes nothing
