"""HAIP 1.0 issuer identification (OPENID4VCI_ISSUER_IDENTIFICATION=x509): a copy names its
issuer by the https Credential Issuer identifier and carries the organisation's key in an `x5c`
certificate from the service's issuing CA. A wallet that knows the CA validates it with nothing
but the credential; the service's own verifier trusts it and still reads its status."""

from __future__ import annotations

import base64
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import pytest

from credentials import jose, x509
from credentials.keys import LocalSigner, PublicKey
from credentials.sd_jwt import SdJwt
from credentials.signing import decode_jwt_parts
from openid4vci.models import IssuerCertificate
from openid4vci.services import x509_issuer
from openid4vci.services.offers import offer_create
from tests.support import eu_wallet as eu_wallet_journey
from tests.support.openid4vci_wallet import TestWallet
from wallet.business.verification import verify
from wallet.tenancy.authority import operator
from wallet.tenancy.mandates import mandate_revoke

BASE = "https://dpp.example"
parties = eu_wallet_journey.parties  # the fixture of the EU wallet journey


@pytest.fixture
def base_url() -> str:
    return BASE


@pytest.fixture(autouse=True)
def x509_mode(settings, base_url):
    settings.PUBLIC_BASE_URL, settings.PUBLIC_HOST = base_url, urlsplit(base_url).hostname
    settings.OPENID4VCI_ISSUER_IDENTIFICATION = "x509"
    settings.OPENID4VCI_CA_CERTIFICATE = settings.OPENID4VCI_CA_PRIVATE_KEY = ""


def redeem(issuer, configuration, wallet=None, **source) -> str:
    created = offer_create(actor=operator(), issuer=issuer, configuration=configuration, **source)
    return (wallet or TestWallet()).redeem_offer(created.by_reference, created.tx_code)


def parts(sd_jwt: str) -> tuple[dict, dict]:
    return decode_jwt_parts(SdJwt.parse(sd_jwt).jwt)


def ca_anchor() -> x509.TrustAnchors:
    """What a wallet is given out of band: the service's issuing CA."""
    [ca] = IssuerCertificate.objects.filter(kind=IssuerCertificate.Kind.CA)
    return x509.anchors_from_der(bytes(ca.certificate))


def test_a_copy_names_its_https_issuer_and_carries_a_certificate_a_wallet_validates(
        acme, business_identity, mandate):
    wallet = TestWallet()
    copy = redeem(acme, "mandate", wallet, mandate=mandate)
    header, payload = parts(copy)

    assert payload["iss"] == f"{BASE}/orgs/acme"
    assert header["alg"] == "ES256" and header["typ"] == "dc+sd-jwt"
    assert len(header["x5c"]) == 1  # the leaf; the CA is the wallet's anchor, left out
    chain = x509.validate_chain(header["x5c"], ca_anchor())
    leaf = chain.leaf
    assert leaf.uris == (payload["iss"],)
    assert x509.names_issuer(leaf, payload["iss"])
    assert (leaf.organisation, leaf.country, leaf.organisation_identifier) == (
        "Acme Batteries B.V.", "NL", "NLNHR.12345678")
    jose.verify_signature(jose.decode(SdJwt.parse(copy).jwt), leaf.public_key)
    assert payload["cnf"]["jwk"] == wallet.key.jwk()
    assert header["kid"].startswith(acme.did + "#")  # also found in the issuer's metadata


def test_the_service_verifier_trusts_the_copy_and_names_the_legal_person(
        acme, business_identity, mandate):
    verdict = verify(redeem(acme, "mandate", mandate=mandate))

    assert verdict["verified"], verdict
    issuer = verdict["issuer"]
    assert issuer["id"] == f"{BASE}/orgs/acme"
    assert issuer["trusted"] and issuer["identified_by"] == "x5c"
    assert issuer["legal_person"]["name"] == "Acme Batteries B.V."
    assert issuer["legal_person"]["registry_id"] == "NLNHR.12345678"
    assert [c["detail"] for c in verdict["checks"] if c["check"] == "status"] == ["valid"]


def test_revoking_the_source_makes_the_x509_copy_verify_revoked(
        acme, business_identity, mandate):
    copy = redeem(acme, "mandate", mandate=mandate)

    mandate_revoke(mandate=mandate, reason="left the company")

    verdict = verify(copy)
    [status] = [c for c in verdict["checks"] if c["check"] == "status"]
    assert not verdict["verified"] and status["detail"] == "revoked", verdict


def test_an_organisation_no_anchor_attested_keeps_did_issuance(acme, mandate):
    copy = redeem(acme, "mandate", mandate=mandate)  # acme has no business identity here
    header, payload = parts(copy)

    assert payload["iss"] == acme.did and "x5c" not in header
    assert verify(copy)["verified"]
    assert not IssuerCertificate.objects.filter(kind=IssuerCertificate.Kind.LEAF).exists()


def test_the_leaf_is_made_once_and_again_when_the_key_rotates(
        acme, business_identity, mandate):
    from credentials.key_store import rotate_key

    first = parts(redeem(acme, "mandate", mandate=mandate))[0]["x5c"]
    again = parts(redeem(acme, "mandate", mandate=mandate))[0]["x5c"]
    rotate_key(acme.did, key_type="P-256")
    rotated = parts(redeem(acme, "mandate", mandate=mandate))[0]["x5c"]

    assert first == again and rotated != first
    assert IssuerCertificate.objects.filter(kind=IssuerCertificate.Kind.CA).count() == 1
    assert IssuerCertificate.objects.filter(kind=IssuerCertificate.Kind.LEAF).count() == 2


def test_a_leaf_near_its_end_is_replaced(acme, business_identity):
    now = datetime.now(UTC)
    first = x509_issuer.issuer_certificate(acme, now=now)
    later = x509_issuer.issuer_certificate(acme, now=now + timedelta(days=100))
    near_end = x509_issuer.issuer_certificate(acme, now=now + timedelta(days=340))

    assert later.certificate == first.certificate
    assert near_end.certificate != first.certificate
    assert x509.not_after(near_end.certificate) > now + timedelta(days=700)


def test_the_jwt_vc_issuer_metadata_serves_the_issuer_and_its_keys(
        client, acme, business_identity, mandate):
    from credentials.key_store import rotate_key

    header = parts(redeem(acme, "mandate", mandate=mandate))[0]
    rotate_key(acme.did, key_type="P-256")

    response = client.get("/.well-known/jwt-vc-issuer/orgs/acme")

    assert response.status_code == 200 and response["Content-Type"] == "application/json"
    assert "public" in response["Cache-Control"]
    metadata = response.json()
    assert metadata["issuer"] == f"{BASE}/orgs/acme"
    keys = metadata["jwks"]["keys"]
    assert len(keys) == 2 and all(k["kid"].startswith(acme.did + "#") for k in keys)
    assert all("d" not in k for k in keys)  # public keys only
    signed_with = next(k for k in keys if k["kid"] == header["kid"])  # the retired one
    leaf = x509.read_x5c(header["x5c"])
    assert PublicKey.from_jwk(signed_with).jwk() == leaf.public_key.jwk()
    assert client.get("/.well-known/jwt-vc-issuer/orgs/nobody").status_code == 404


def test_a_configured_ca_is_used_instead_of_a_generated_one(
        settings, acme, business_identity, mandate):
    ca_signer = LocalSigner.generate(key_type="P-256")
    ca = x509.self_signed_ca(ca_signer, "Configured Test CA")
    settings.OPENID4VCI_CA_CERTIFICATE = ca.pem()
    settings.OPENID4VCI_CA_PRIVATE_KEY = _private_pem(ca_signer)

    copy = redeem(acme, "mandate", mandate=mandate)

    header, _ = parts(copy)
    x509.validate_chain(header["x5c"], x509.anchors_from_der(ca.certificate))
    assert not IssuerCertificate.objects.filter(kind=IssuerCertificate.Kind.CA).exists()
    assert verify(copy)["issuer"]["trusted"]


def test_a_configured_certificate_that_is_not_a_ca_is_refused(settings):
    leaf_pem, key_pem = x509.generate_pem_pair("not-a-ca.example")
    settings.OPENID4VCI_CA_CERTIFICATE, settings.OPENID4VCI_CA_PRIVATE_KEY = leaf_pem, key_pem

    with pytest.raises(x509.CertificateError, match="not a CA certificate"):
        x509_issuer.issuing_ca()


def test_the_leaf_is_refused_by_a_wallet_that_does_not_know_the_ca(
        acme, business_identity, mandate):
    header, _ = parts(redeem(acme, "mandate", mandate=mandate))
    other = x509.anchors_from_der(
        x509.self_signed_ca(LocalSigner.generate(key_type="P-256"), "Other CA").certificate)

    with pytest.raises(x509.ChainError, match="trusted anchor"):
        x509.validate_chain(header["x5c"], other)


def test_default_mode_still_names_the_did(settings, acme, business_identity, mandate):
    settings.OPENID4VCI_ISSUER_IDENTIFICATION = "did"

    header, payload = parts(redeem(acme, "mandate", mandate=mandate))

    assert payload["iss"] == acme.did and "x5c" not in header
    assert header["kid"].startswith(acme.did + "#")
    assert not IssuerCertificate.objects.exists()


@pytest.mark.parametrize("variables, message", [
    ({"OPENID4VCI_ISSUER_IDENTIFICATION": "x5c"}, "must be did or x509"),
    ({"OPENID4VCI_CA_CERTIFICATE": "/etc/ca.pem"}, "set both or neither"),
])
def test_a_wrong_setting_stops_the_service_at_start(variables, message):
    environment = {**os.environ, **variables}
    started = subprocess.run([sys.executable, "-c", "import config.settings"],
                             env=environment, capture_output=True, text=True, timeout=60)

    assert started.returncode != 0 and message in started.stderr, started.stderr


def _private_pem(signer: LocalSigner) -> str:
    der = signer.private_bytes()
    body = base64.encodebytes(der).decode("ascii").replace("\n", "")
    lines = [body[i:i + 64] for i in range(0, len(body), 64)]
    return "\n".join(["-----BEGIN PRIVATE KEY-----", *lines, "-----END PRIVATE KEY-----", ""])


def test_a_leaf_never_outlives_its_ca():
    ca = x509.self_signed_ca(LocalSigner.generate(key_type="P-256"), "Short CA",
                             validity=timedelta(days=10))
    der = x509.issue_signing_certificate(
        ca, LocalSigner.generate(key_type="P-256").public_key(), uri=f"{BASE}/orgs/x",
        organisation="X B.V.")

    assert x509.not_after(der) <= x509.not_after(ca.certificate)
    assert x509.not_after(der) > datetime.now(UTC)


# The OpenID4VP test wallet knows the service as http://localhost:8000 (the test default).
@pytest.mark.parametrize("base_url", ["http://localhost:8000"])
def test_an_eu_wallet_presents_an_x509_issued_mandate_over_openid4vp(client, parties,
                                                                       base_url):
    from tests.support.openid4vp_wallet import Wallet
    ask, answer = eu_wallet_journey.ask, eu_wallet_journey.answer

    issuer_wallet = TestWallet(client=client)
    copy = redeem(parties["acme"], "mandate", issuer_wallet, mandate=parties["mandate"])
    assert "x5c" in parts(copy)[0]
    holder = Wallet(client, key=issuer_wallet.signer, credentials={"mandate": copy})

    verdict = eu_wallet_journey.presented(holder, parties["verifier"])

    issuer = verdict["credentials"][0]["issuer"]
    assert issuer["id"] == f"{base_url}/orgs/acme" and issuer["trusted"]
    assert issuer["legal_person"]["name"] == "Acme Batteries B.V."

    mandate_revoke(mandate=parties["mandate"], reason="left the company")
    again = ask(parties["verifier"])
    refused = answer(holder, again)
    assert refused.status_code == 400 and "revoked" in refused.json()["error_description"]
