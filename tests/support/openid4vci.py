"""OpenID4VCI test helpers: OAuth error answers, a credential still deferred, and checking an
issued SD-JWT VC independently of the service's own verifier."""

from __future__ import annotations

from credentials import x509
from credentials.foreign_issuers import ForeignIssuers
from credentials.keys import PublicKey
from credentials.sd_jwt import SdJwt
from credentials.suites import get_suite
from openid4vci.models import CredentialOffer
from openid4vci.services.offers import offer_create
from tests.support import openid4vci_schemas as schemas
from tests.support.openid4vci_wallet import TestWallet, local_path, service_issuing_ca
from wallet.tenancy.authority import operator


def oauth_error(response, status: int, error: str) -> str:
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/json"
    assert response["Cache-Control"] == "no-store"
    body = response.json()
    assert schemas.errors("error_response", body) == []
    assert body["error"] == error, body
    return body["error_description"]


def verify_independently(client, sd_jwt: str, wallet: TestWallet) -> dict:
    """What a careful wallet checks, with nothing but the served DID document."""
    suite = get_suite("dc+sd-jwt")
    header, payload = _decode(SdJwt.parse(sd_jwt).jwt)
    assert header["typ"] == "dc+sd-jwt"
    assert header["alg"] == "ES256"  # HAIP 1.0: what every EU wallet verifies
    if "x5c" in header:  # HAIP 1.0: the leaf names iss, the chain leads to the CA it knows
        chain = x509.validate_chain(header["x5c"], service_issuing_ca())
        assert x509.names_issuer(chain.leaf, payload["iss"])
        result = suite.verify(sd_jwt, _NoDids(),
                              foreign_issuers=ForeignIssuers(anchors=service_issuing_ca()))
    else:
        result = suite.verify(sd_jwt, did_document_keys(client, header, payload["iss"]))
    assert result.ok, result.errors
    claims = result.credential
    assert claims["cnf"]["jwk"] == wallet.key.jwk()
    for name in REGISTERED - {"nbf"}:
        assert name in payload, name  # in the clear, never disclosable
    disclosed = {tuple(path) for path in result.details["disclosed"]}
    for name, value in claims.items():
        if name in REGISTERED:
            continue
        assert (name,) in disclosed, f"{name} is not selectively disclosable"
        if isinstance(value, dict):
            assert {(name, member) for member in value} <= disclosed, name
    status = payload["status"]["status_list"]
    assert isinstance(status["idx"], int) and status["uri"].startswith("http")
    assert client.get(local_path(status["uri"])).status_code == 200
    assert payload["exp"] > payload["iat"]
    return claims


def did_document_keys(client, header: dict, did: str):
    """The issuer's key from its did:web document as served, read as JWK (`publicKeyJwk` and
    nothing else)."""
    slug = did.rsplit(":", 1)[1]
    document = client.get(f"/orgs/{slug}/did.json").json()
    method = next(m for m in document["verificationMethod"] if m["id"] == header["kid"])
    assert method["type"] == "JsonWebKey"

    class Served:
        def public_key(self, verification_method):
            assert verification_method == method["id"]
            return PublicKey.from_jwk(method["publicKeyJwk"], method["id"])

    return Served()


class _NoDids:
    def public_key(self, verification_method):
        raise AssertionError(f"an x5c credential needs no DID ({verification_method})")


def _decode(jwt: str) -> tuple[dict, dict]:
    from credentials.signing import decode_jwt_parts

    return decode_jwt_parts(jwt)


def still_waiting(session) -> None:
    """Nothing was stored: the offer still waits, and a correct request still succeeds."""
    wallet, state = session
    assert CredentialOffer.objects.get(pk=state["offer_id"]).state == "token_issued"
    response = send(session, proof=wallet.proof(aud=AUD, nonce=fresh_nonce(session)))
    assert response.status_code == 200, response.content
    assert schemas.errors("credential_response", response.json()) == []
    assert response["Cache-Control"] == "no-store"


REGISTERED = {"iss", "sub", "iat", "exp", "nbf", "jti", "vct", "cnf", "status"}


def _decode(jwt: str) -> tuple[dict, dict]:
    from credentials.signing import decode_jwt_parts

    return decode_jwt_parts(jwt)


AUD = "http://localhost:8000/orgs/acme"


def send(session, *, proof=None, body=None, token=None):
    wallet, state = session
    if body is None:
        body = {"credential_configuration_id": "mandate", "proofs": {"jwt": [proof]}}
    return wallet.request_credential(state["metadata"], token or state["access_token"], body)


def fresh_nonce(session) -> str:
    wallet, state = session
    return wallet.nonce(state["metadata"])


def deferred_session(register, review):
    created = offer_create(actor=operator(), issuer=register, configuration="business_identity",
                           attestation=review)
    wallet = TestWallet()
    session = wallet.start(created.by_reference, created.tx_code)
    response = wallet.request_credential(session["metadata"], session["access_token"],
                                         wallet.credential_request_body(session))
    assert response.status_code == 202, response.content
    assert response["Cache-Control"] == "no-store"
    body = response.json()
    assert schemas.errors("deferred_response", body) == []
    assert body["interval"] == 5
    return wallet, session, body["transaction_id"], created.offer.pk


def collect(wallet, session, transaction_id):
    return wallet.deferred_credential(session["metadata"], session["access_token"],
                                      transaction_id)
