"""The OpenID4VCI 1.0 final specification's published examples (tests/vectors/openid4vci, sources
in its MANIFEST.md) against this issuer, in three directions:

(a) every published example conforms to tests/support/openid4vci_schemas.py, so the schemas say
    what the specification shows and are not fitted to this service;
(b) every message the issuer sends conforms to the same schemas;
(c) every published request the issuer receives is accepted in its shape (with this issuer's
    own codes, tokens and key proofs in place of the example's values), and the example as
    published is refused only for a value this issuer does not know, never for its shape."""

from __future__ import annotations

import json
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest

from credentials import jose
from credentials.sd_jwt import SdJwt
from openid4vci.services.offers import offer_create
from tests.support import openid4vci_schemas as schemas
from tests.support.openid4vci import oauth_error
from tests.support.openid4vci_wallet import FORM, TestWallet, local_path
from tests.support.published import PublishedExamples
from wallet.business.identity.services import attestation_approve
from wallet.tenancy.authority import operator

EXAMPLES = PublishedExamples("openid4vci")
ISSUER = "http://localhost:8000/orgs/acme"
text, published, form = EXAMPLES.text, EXAMPLES.json, EXAMPLES.form


def offer_in_link(name: str) -> dict:
    return json.loads(parse_qs(urlsplit(text(name)).query)["credential_offer"][0])


def sd_jwt_payload(credential_response: dict) -> dict:
    """The issuer-signed JWT payload of the first credential of a credential response."""
    sd_jwt = SdJwt.parse(credential_response["credentials"][0]["credential"])
    return jose.decode(sd_jwt.jwt).claims()


# --- (a) the published examples conform to the schemas ------------------------------------------

PUBLISHED = [
    ("issuer_metadata", "credential_issuer_metadata_sd_jwt_long.json", published),
    ("credential_configurations", "credential_metadata_jwt_vc_json.json", published),
    ("authorization_server_metadata", "authorization_server_metadata_rfc8414.json", published),
    ("credential_offer", "credential_offer_multiple_credentials.json", published),
    ("credential_offer", "credential_offer_by_value.txt", offer_in_link),
    ("credential_offer", "credential_offer_by_value_native.txt", offer_in_link),
    ("credential_offer", "credential_offer_authz_code.json", published),
    ("credential_offer", "credential_offer_by_reference.json", published),
    ("token_request", "token_request_authorization_code.txt", form),
    ("token_request", "token_request_pre_authorized_code.txt", form),
    ("token_response", "token_response.json", published),
    ("error_response", "token_error_response.json", published),
    ("nonce_response", "nonce_response.json", published),
    ("credential_request", "credential_request_mdl_jwt.json", published),
    ("credential_request", "credential_request_sd_jwt_vc.json", published),
    ("credential_request", "credential_request_di_vp.json", published),
    ("proofs", "proofs_jwt.json", published),
    ("proof_jwt_header", "proof_jwt_header.json", published),
    ("proof_jwt_claims", "proof_jwt_claims.json", published),
    ("credential_response", "credential_response.json", published),
    ("credential_response", "credential_response_batch.json", published),
    ("credential_response", "credential_response_sd_jwt_vc.json", published),
    ("sd_jwt_vc_payload", "credential_response_sd_jwt_vc.json",
     lambda name: sd_jwt_payload(published(name))),
    ("deferred_response", "credential_response_deferred.json", published),
    ("error_response", "credential_error_response.json", published),
    ("deferred_credential_request", "deferred_credential_request.json", published),
    ("credential_response", "deferred_credential_response.json", published),
    ("deferred_response", "deferred_credential_response_pending.json", published),
    ("error_response", "deferred_credential_error_response.json", published),
]
# Published examples that contradict the normative text (MANIFEST.md): the schema keeps the
# rule, and the example fails on exactly that rule and nothing else.
DEFECTS = [
    ("issuer_metadata", "credential_issuer_metadata_sd_jwt_long.before-errata.json",
     "credential_request_encryption/jwks: [{"),  # §12.2.4: "A JSON Web Key Set"
    ("credential_configurations", "credential_metadata_ldp_vc.json",
     "credential_configurations_supported/UniversityDegree_LDP_VC: 'proof_types_supported' is "
     "a dependency of 'cryptographic_binding_methods_supported'"),  # §12.2.4 "MUST be present"
]
# What the issuer sends (b) and what it receives (c); together, every schema.
SENT = {"issuer_metadata", "credential_configurations", "authorization_server_metadata",
        "credential_offer", "token_response", "nonce_response", "credential_response",
        "sd_jwt_vc_payload", "deferred_response", "error_response"}
RECEIVED = {"token_request", "credential_request", "proofs", "proof_jwt_header",
            "proof_jwt_claims", "deferred_credential_request"}


@pytest.mark.parametrize("kind, name, read", PUBLISHED, ids=lambda v: getattr(v, "__name__", v))
def test_every_published_example_conforms_to_the_schemas(kind, name, read):
    assert schemas.errors(kind, read(name)) == []


@pytest.mark.parametrize("kind, name, only_error", DEFECTS)
def test_examples_contradicting_the_normative_text_fail_on_that_rule_alone(kind, name,
                                                                            only_error):
    [error] = schemas.errors(kind, published(name))
    assert error.startswith(only_error)


def test_every_message_kind_has_a_published_example_and_is_checked_both_ways():
    assert {kind for kind, _, _ in PUBLISHED} == set(schemas.SCHEMAS) == SENT | RECEIVED
    assert not SENT & RECEIVED


def test_the_published_proof_is_the_published_header_and_claims_signed():
    [proof] = published("proofs_jwt.json")["jwt"]
    jws = jose.decode(proof)

    assert jws.header == published("proof_jwt_header.json")
    assert jws.claims() == published("proof_jwt_claims.json")


@pytest.mark.parametrize("kind, document", [
    ("credential_offer", {"credential_issuer": ISSUER, "credential_configuration_ids": []}),
    ("credential_offer", {"credential_issuer": f"{ISSUER}?x=1",
                          "credential_configuration_ids": ["mandate"]}),
    ("issuer_metadata", {**published("credential_issuer_metadata_sd_jwt_long.json"),
                         "credential_configurations_supported": {"x": {
                             "format": "dc+sd-jwt",
                             "cryptographic_binding_methods_supported": ["jwk"]}}}),
    ("issuer_metadata", {**published("credential_issuer_metadata_sd_jwt_long.json"),
                         "batch_credential_issuance": {"batch_size": 1}}),
    ("credential_configurations", {"credential_configurations_supported": {"x": {
        "format": "dc+sd-jwt", "vct": "v", "credential_metadata": {"claims": [
            {"path": ["nationalities", None]}, {"path": ["nationalities", 0]}]}}}}),
    ("credential_configurations", {"credential_configurations_supported": {"x": {
        "format": "dc+sd-jwt", "vct": "v", "credential_metadata": {"claims": [
            {"path": ["address", "locality"]}, {"path": ["address", 0]}]}}}}),
    ("authorization_server_metadata", {"issuer": ISSUER, "token_endpoint": f"{ISSUER}/token"}),
    ("token_request", {"grant_type": schemas.PRE_AUTHORIZED_GRANT}),
    ("token_request", {"grant_type": "authorization_code", "code": "c", "tx_code": "1234"}),
    ("token_request", {**form("token_request_pre_authorized_code.txt"),
                       "authorization_details": '[{"type": "openid_credential"}]'}),
    ("credential_request", {**published("credential_request_sd_jwt_vc.json"),
                            "credential_configuration_id": "mandate"}),
    ("credential_request", {"credential_configuration_id": "mandate",
                            "proofs": {"jwt": ["a"], "di_vp": [{}]}}),
    ("credential_request", {"proofs": {"jwt": ["a"]}}),  # neither identifier nor configuration
    ("proof_jwt_header", {**published("proof_jwt_header.json"), "kid": "did:example:1#0"}),
    ("proof_jwt_header", {**published("proof_jwt_header.json"), "alg": "none"}),
    ("proof_jwt_header", {**published("proof_jwt_header.json"),
                          "jwk": {**published("proof_jwt_header.json")["jwk"], "d": "x"}}),
    ("error_response", {"error": "invalid_proof", "error_description": 'a "quoted" word'}),
    ("credential_response", {"credentials": [{"credential": "x"}], "transaction_id": "t"}),
    ("credential_response", {"credentials": ["not an object"]}),  # draft 14's plain strings
    ("deferred_response", {"transaction_id": "t", "interval": 0}),
    ("deferred_response", {"transaction_id": "t"}),
])
def test_the_schemas_refuse_what_the_specification_forbids(kind, document):
    assert schemas.errors(kind, document)


# --- (b) what the issuer sends conforms ------------------------------------------------------

def _collect(client, acme, register, mandate, open_review, on_commit) -> dict[str, list]:
    """Walk every endpoint once, keeping each message the issuer sends, by kind."""
    sent: dict[str, list] = {}

    def keep(kind: str, response, status: int = 200):
        assert response.status_code == status, response.content
        sent.setdefault(kind, []).append(response.json())
        return response.json()

    for slug in ("acme", "register"):
        metadata = keep("issuer_metadata",
                        client.get(f"/.well-known/openid-credential-issuer/orgs/{slug}"))
        sent.setdefault("credential_configurations", []).append(
            {"credential_configurations_supported":
             metadata["credential_configurations_supported"]})
        keep("authorization_server_metadata",
             client.get(f"/.well-known/oauth-authorization-server/orgs/{slug}"))

    # An offer by value and by reference, redeemed with and without authorization_details.
    wallet, created = TestWallet(dpop=False), offer_create(issuer=acme, configuration="mandate",
                                                 mandate=mandate,
                                                 actor=operator())
    sent["credential_offer"] = [wallet.resolve_offer(created.by_value),
                                wallet.resolve_offer(created.by_reference)]
    session = wallet.start(created.by_reference, created.tx_code)
    sent["token_response"] = [wallet.last_response.json()]
    keep("nonce_response", client.post("/orgs/acme/openid4vci/nonce"))
    issued = keep("credential_response", wallet.request_credential(
        session["metadata"], session["access_token"], wallet.credential_request_body(session)))
    sent["sd_jwt_vc_payload"] = [sd_jwt_payload(issued)]
    other = offer_create(actor=operator(), issuer=acme, configuration="mandate", mandate=mandate)
    offer = wallet.resolve_offer(other.by_value)
    keep("token_response", wallet.token(offer, other.tx_code, authorization_details=json.dumps(
        [{"type": "openid_credential", "credential_configuration_id": "mandate"}])))

    # Deferred issuance: 202 at the credential endpoint and the deferred one, then 200.
    deferred = offer_create(actor=operator(), issuer=register, configuration="business_identity",
                            attestation=open_review)
    later = TestWallet()
    review = later.start(deferred.by_reference, deferred.tx_code)
    pending = keep("deferred_response", later.request_credential(
        review["metadata"], review["access_token"], later.credential_request_body(review)), 202)
    keep("deferred_response", later.deferred_credential(
        review["metadata"], review["access_token"], pending["transaction_id"]), 202)
    with on_commit(execute=True):  # the signing task runs (eagerly) after the commit
        attestation_approve(request=open_review, reason="extract matches")
    ready = keep("credential_response", later.deferred_credential(
        review["metadata"], review["access_token"], pending["transaction_id"]))
    sent["sd_jwt_vc_payload"].append(sd_jwt_payload(ready))

    # Errors of every endpoint: token, credential, deferred, bearer token, unknown issuer.
    keep("error_response", wallet.token(offer, other.tx_code), 400)
    keep("error_response", later.deferred_credential(review["metadata"],
                                                      review["access_token"], "8xLOxBtZp8"), 400)
    fresh = offer_create(actor=operator(), issuer=acme, configuration="mandate", mandate=mandate)
    unknown = TestWallet(dpop=False).start(fresh.by_value, fresh.tx_code)
    keep("error_response", wallet.request_credential(
        unknown["metadata"], unknown["access_token"], published("credential_request_mdl_jwt.json")),
        400)
    keep("error_response", wallet.request_credential(session["metadata"], "spent", {}), 401)
    keep("error_response", client.get("/.well-known/openid-credential-issuer/orgs/nobody"), 404)
    return sent


def test_every_message_the_issuer_sends_conforms(client, acme, register, mandate, open_review,
                                                 django_capture_on_commit_callbacks):
    sent = _collect(client, acme, register, mandate, open_review,
                    django_capture_on_commit_callbacks)

    failures = {kind: [error for document in documents for error in schemas.errors(kind, document)]
                for kind, documents in sent.items()}
    assert failures == {kind: [] for kind in sent}
    assert set(sent) == SENT
    # Beyond the schema: a copy is bound to the proven key, dated and revocable (A.3, HAIP).
    for payload in sent["sd_jwt_vc_payload"]:
        assert {"iss", "iat", "exp", "cnf", "status", "_sd", "_sd_alg"} <= payload.keys()


def test_offer_links_use_the_published_scheme_and_parameters(acme, mandate):
    created = offer_create(actor=operator(), issuer=acme, configuration="mandate", mandate=mandate)

    for ours, theirs in ((created.by_value, "credential_offer_by_value_native.txt"),
                         (created.by_reference, "credential_offer_uri.txt")):
        assert urlsplit(ours).scheme == urlsplit(text(theirs)).scheme == "openid-credential-offer"
        assert parse_qs(urlsplit(ours).query).keys() == parse_qs(urlsplit(text(theirs)).query)\
            .keys()


# --- (c) the published requests reach the issuer ----------------------------------------------

@pytest.fixture
def offered(acme, mandate):
    return offer_create(actor=operator(), issuer=acme, configuration="mandate", mandate=mandate)


def post_token(client, fields: dict):
    return client.post("/orgs/acme/openid4vci/token", urlencode(fields), content_type=FORM)


def test_the_published_pre_authorized_token_request_with_our_code_gets_a_token(client, offered):
    fields = form("token_request_pre_authorized_code.txt")
    details = json.loads(fields["authorization_details"])
    details[0]["credential_configuration_id"] = "mandate"
    fields.update({"pre-authorized_code": offered.document["grants"][
        schemas.PRE_AUTHORIZED_GRANT]["pre-authorized_code"], "tx_code": offered.tx_code,
        "authorization_details": json.dumps(details)})

    response = post_token(client, fields)

    assert response.status_code == 200, response.content
    assert schemas.errors("token_response", response.json()) == []
    [granted] = response.json()["authorization_details"]
    assert granted["credential_configuration_id"] == "mandate"


@pytest.mark.parametrize("name, error, reason", [
    ("token_request_pre_authorized_code.txt", "invalid_grant", "pre-authorized_code unknown"),
    ("token_request_authorization_code.txt", "invalid_grant", "code unknown"),
])
def test_the_published_token_requests_as_they_are_are_refused_for_their_values(
        client, offered, name, error, reason):
    assert oauth_error(post_token(client, form(name)), 400, error) == reason


@pytest.fixture
def token(client, offered):
    """A wallet and its session after a token response without authorization_details."""
    wallet = TestWallet(client=client)
    return wallet, wallet.start(offered.by_reference, offered.tx_code)


@pytest.fixture
def identified(client, acme, mandate):
    """A wallet whose token response named credential_identifiers (§6.2)."""
    created = offer_create(actor=operator(), issuer=acme, configuration="mandate", mandate=mandate)
    wallet = TestWallet(client=client)
    offer = wallet.resolve_offer(created.by_value)
    response = wallet.token(offer, created.tx_code, authorization_details=json.dumps(
        [{"type": "openid_credential", "credential_configuration_id": "mandate"}]))
    session = {"metadata": wallet.metadata(ISSUER),
               "access_token": response.json()["access_token"],
               "identifier": response.json()["authorization_details"][0][
                   "credential_identifiers"][0]}
    return wallet, session


def fresh_proof(wallet, session) -> str:
    return wallet.proof(aud=ISSUER, nonce=wallet.nonce(session["metadata"]))


def request(wallet, session, body: dict):
    return wallet.request_credential(session["metadata"], session["access_token"], body)


def test_the_published_credential_request_by_configuration_id_issues_with_our_values(token):
    wallet, session = token
    body = published("credential_request_mdl_jwt.json")
    body["credential_configuration_id"] = "mandate"
    body["proofs"]["jwt"] = [fresh_proof(wallet, session)]

    response = request(wallet, session, body)

    assert response.status_code == 200, response.content
    assert schemas.errors("credential_response", response.json()) == []


def test_the_published_credential_request_by_identifier_issues_with_our_values(identified):
    wallet, session = identified
    body = published("credential_request_sd_jwt_vc.json")
    body["credential_identifier"] = session["identifier"]
    body["proofs"]["jwt"] = [fresh_proof(wallet, session)]

    response = request(wallet, session, body)

    assert response.status_code == 200, response.content
    assert schemas.errors("credential_response", response.json()) == []


def test_two_key_proofs_as_published_are_refused_since_no_batch_issuance_is_offered(identified):
    wallet, session = identified
    body = published("credential_request_sd_jwt_vc.json")
    body["credential_identifier"] = session["identifier"]
    body["proofs"]["jwt"] = [fresh_proof(wallet, session), fresh_proof(wallet, session)]

    response = request(wallet, session, body)

    assert "batch_credential_issuance" not in session["metadata"]  # §12.2.4: no batch offered
    assert oauth_error(response, 400, "invalid_credential_request") == (
        "one key proof per request: this issuer does not offer batch issuance")


@pytest.mark.parametrize("name, use_identifier, error, reason", [
    ("credential_request_mdl_jwt.json", False, "unknown_credential_configuration",
     "credential configuration org.iso.18013.5.1.mDL unknown"),
    ("credential_request_sd_jwt_vc.json", True, "unknown_credential_identifier",
     "credential_identifier CivilEngineeringDegree-2023 unknown"),
    # The identifier is ours; the proof type is one the metadata does not list.
    ("credential_request_di_vp.json", "ours", "invalid_proof",
     "proof type di_vp is not supported; only jwt"),
])
def test_the_published_credential_requests_as_they_are_are_refused_for_their_values(
        token, identified, name, use_identifier, error, reason):
    wallet, session = identified if use_identifier else token
    body = published(name)
    if use_identifier == "ours":
        body["credential_identifier"] = session["identifier"]

    assert oauth_error(request(wallet, session, body), 400, error) == reason


def test_the_published_key_proof_passes_every_check_but_its_audience(token):
    wallet, session = token
    body = {"credential_configuration_id": "mandate", "proofs": published("proofs_jwt.json")}

    reason = oauth_error(request(wallet, session, body), 400, "invalid_proof")

    # typ, alg, the jwk and the signature were accepted; the proof was made for another issuer.
    assert reason == ("proof aud must be the credential issuer identifier "
                      f"{ISSUER}, got https://credential-issuer.example.com")


def test_our_key_proofs_have_the_published_header_and_claims(token):
    wallet, session = token
    proof = fresh_proof(wallet, session)
    jws = jose.decode(proof)

    assert jws.header.keys() == published("proof_jwt_header.json").keys()
    assert jws.claims().keys() == published("proof_jwt_claims.json").keys()
    assert schemas.errors("proof_jwt_header", jws.header) == []
    assert schemas.errors("proof_jwt_claims", jws.claims()) == []
    response = request(wallet, session, {"credential_configuration_id": "mandate",
                                         "proofs": {"jwt": [proof]}})
    assert response.status_code == 200, response.content


def test_the_published_deferred_request_gets_the_transaction_with_our_id_and_is_refused_as_is(
        register, open_review):
    created = offer_create(actor=operator(), issuer=register, configuration="business_identity",
                           attestation=open_review)
    wallet = TestWallet(dpop=False)  # posts Bearer by hand below
    session = wallet.start(created.by_reference, created.tx_code)
    deferred = wallet.request_credential(session["metadata"], session["access_token"],
                                         wallet.credential_request_body(session)).json()

    def collect(body: dict):
        return wallet.client.post(
            local_path(session["metadata"]["deferred_credential_endpoint"]), json.dumps(body),
            content_type="application/json",
            HTTP_AUTHORIZATION=f"Bearer {session['access_token']}")

    as_published = collect(published("deferred_credential_request.json"))
    ours = collect({**published("deferred_credential_request.json"),
                    "transaction_id": deferred["transaction_id"]})

    assert oauth_error(as_published, 400, "invalid_transaction_id") == "transaction_id unknown"
    assert ours.status_code == 202, ours.content
    assert ours.json() == deferred
    assert schemas.errors("deferred_response", ours.json()) == []
