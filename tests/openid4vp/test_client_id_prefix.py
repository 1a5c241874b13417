"""OPENID4VP_CLIENT_ID_PREFIX: the Verifier names itself `x509_hash:<hash>` (the default) or
`x509_san_dns:<host of PUBLIC_BASE_URL>` (OpenID4VP 1.0 §5.9.3), the host being a dNSName SAN
of its certificate and the host of its response_uri. A wallet's KB-JWT `aud` must equal the
client id the request was made under, whatever the setting says later."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import pytest
from django.core.exceptions import ImproperlyConfigured

from credentials import jose, x509
from credentials.sd_jwt import SdJwt
from openid4vp import identity, services
from openid4vp.checks import verifier_certificate
from openid4vp.models import PresentationRequest
from tests.support import openid4vp_schemas as schemas
from tests.support.openid4vp import create_request, failed, refused, result_of
from tests.support.pki import key_pem, root_ca

ROOT = Path(__file__).resolve().parents[2]
SAN_DNS_CLIENT_ID = "x509_san_dns:localhost"  # the tests' PUBLIC_BASE_URL is localhost:8000
ASKED = [["family_name"], ["given_name"], ["address", "street_address"]]


@pytest.fixture
def san_dns(settings):
    settings.OPENID4VP_CLIENT_ID_PREFIX = "x509_san_dns"
    assert settings.PUBLIC_HOST == "localhost"


def configure(settings, certificate_pem: str, key_pem: str) -> None:
    settings.OPENID4VP_CERTIFICATE, settings.OPENID4VP_PRIVATE_KEY = certificate_pem, key_pem


# --- x509_san_dns end to end ---------------------------------------------------------------------

def test_under_x509_san_dns_the_link_and_the_request_object_name_the_host(world, san_dns):
    created = create_request(world)
    link = dict(parse_qsl(urlsplit(created["authorization_request"]).query))

    request = world.wallet.fetch(created["authorization_request"])  # the wallet's checks pass

    assert created["client_id"] == link["client_id"] == request.client_id == SAN_DNS_CLIENT_ID
    assert request.claims["iss"] == SAN_DNS_CLIENT_ID
    assert "localhost" in request.certificate.dns_names  # the leaf of x5c
    assert urlsplit(request.claims["response_uri"]).hostname == "localhost"
    assert schemas.errors("request_object", request.claims) == []
    assert schemas.request_object_binding_errors(request.header, request.claims) == []
    assert PresentationRequest.objects.get(pk=created["id"]).client_id == SAN_DNS_CLIENT_ID


@pytest.mark.parametrize("mode", ["direct_post", "direct_post.jwt"])
def test_a_presentation_bound_to_the_x509_san_dns_client_id_is_verified(world, san_dns, mode):
    created = create_request(world, mode=mode)
    request = world.wallet.fetch(created["authorization_request"])
    presentation = world.wallet.presentation(request, "identity", ASKED)

    answer = world.wallet.answer(request, {"my_credential": [presentation]})

    assert answer.status_code == 200, answer.content
    assert jose.decode(SdJwt.parse(presentation).kb_jwt).claims()["aud"] == SAN_DNS_CLIENT_ID
    result = result_of(world, created)
    assert result["status"] == "verified", result
    assert result["disclosed"]["my_credential"]["family_name"] == "Mustermann"


def test_a_kb_jwt_for_the_x509_hash_client_id_is_refused_for_an_x509_san_dns_request(world,
                                                                                      san_dns):
    created = create_request(world)
    request = world.wallet.fetch(created["authorization_request"])
    same_certificate = identity.verifier_identity().client_id  # x509_hash:<its hash>
    presentation = world.wallet.presentation(request, "identity", ASKED, aud=same_certificate)

    answer = world.wallet.answer(request, {"my_credential": [presentation]})

    refused(answer, "invalid_request", "aud mismatch")
    result = failed(world, created, "audience", "aud")
    assert result["disclosed"] == {}


@pytest.mark.parametrize("made_under, changed_to", [("x509_san_dns", "x509_hash"),
                                                    ("x509_hash", "x509_san_dns")])
def test_a_request_keeps_its_client_id_when_the_setting_changes(world, settings, made_under,
                                                                changed_to):
    settings.OPENID4VP_CLIENT_ID_PREFIX = made_under
    created = create_request(world)
    request = world.wallet.fetch(created["authorization_request"])
    settings.OPENID4VP_CLIENT_ID_PREFIX = changed_to

    answer = world.wallet.answer_query(request, "identity")  # aud: the request's client id

    assert answer.status_code == 200, answer.content
    assert result_of(world, created)["status"] == "verified"
    assert request.client_id.startswith(made_under + ":")
    assert create_request(world)["client_id"].startswith(changed_to + ":")


def test_by_default_the_client_id_is_the_certificates_hash(world):
    created = create_request(world)

    assert created["client_id"] == identity.verifier_identity().client_id
    assert created["client_id"].startswith("x509_hash:")


# --- certificates ----------------------------------------------------------------------------

def test_a_ca_issued_certificate_for_the_host_passes_a_wallet_that_knows_the_ca(world, san_dns,
                                                                                settings):
    # What real wallets need: a certificate from a CA they trust, sent with its intermediate.
    root = root_ca("Verifier Access CA")
    intermediate = root.intermediate("Verifier Issuing CA")
    leaf = intermediate.issue(uris=(), dns_names=("verifier.example", "localhost"))
    configure(settings, leaf.pem + intermediate.pem, key_pem(leaf.signer))
    world.wallet.verifier_anchors = x509.TrustAnchors((root.certificate,))

    created = create_request(world)
    request = world.wallet.fetch(created["authorization_request"])

    assert request.client_id == SAN_DNS_CLIENT_ID
    assert len(request.header["x5c"]) == 2  # the leaf and its intermediate, not the root
    assert world.wallet.answer_query(request, "identity").status_code == 200
    assert result_of(world, created)["status"] == "verified"


def test_a_wallet_that_does_not_know_the_ca_refuses_the_request(world, san_dns, settings):
    leaf = root_ca("Verifier Access CA").issue(uris=(), dns_names=("localhost",))
    configure(settings, leaf.pem, key_pem(leaf.signer))
    world.wallet.verifier_anchors = x509.TrustAnchors((root_ca("Another CA").certificate,))

    created = create_request(world)

    with pytest.raises(x509.ChainError, match="does not lead to a trusted anchor"):
        world.wallet.fetch(created["authorization_request"])


def test_a_configured_certificate_that_does_not_name_the_host_is_a_configuration_error(
        world, san_dns, settings):
    leaf = root_ca("Verifier Access CA").issue(uris=(), dns_names=("verifier.example",))
    configure(settings, leaf.pem, key_pem(leaf.signer))

    [error] = verifier_certificate()  # manage.py check, at start
    with pytest.raises(ImproperlyConfigured) as raised:  # and at first use
        services.presentation_request_create(
            organisation=world.verifier, dcql_query={"credentials": [{
                "id": "x", "format": "dc+sd-jwt", "meta": {"vct_values": ["urn:x"]}}]},
            purpose="Check who signs the contract")

    assert error.id == "openid4vp.E002"
    for message in (error.msg, str(raised.value)):
        assert "x509_san_dns:localhost" in message
        assert "verifier.example" in message
        assert "OPENID4VP_CERTIFICATE" in message
    assert not PresentationRequest.objects.exists()
    settings.OPENID4VP_CLIENT_ID_PREFIX = "x509_hash"  # the same certificate is fine by hash
    assert verifier_certificate() == []


def test_a_wildcard_san_does_not_stand_for_the_host():
    leaf = root_ca().issue(uris=(), dns_names=("*.example.org",))
    certified = x509.load_pem(leaf.pem, key_pem(leaf.signer))

    with pytest.raises(x509.CertificateError, match=r"\(\*\.example\.org\)"):
        certified.client_id_for("x509_san_dns", "verifier.example.org")
    assert certified.client_id_for("x509_hash") == certified.client_id


def test_the_services_own_certificate_made_for_another_host_is_a_configuration_error(
        db, san_dns, settings):
    settings.PUBLIC_HOST = "old.example"
    identity.verifier_identity()  # made while PUBLIC_BASE_URL had another host
    settings.PUBLIC_HOST = "localhost"

    with pytest.raises(ImproperlyConfigured, match="old.example") as raised:
        identity.verifier_client_id(identity.verifier_identity())

    assert "x509_san_dns:localhost" in str(raised.value)


def test_a_configured_certificate_that_cannot_be_loaded_is_reported_at_start(settings,
                                                                             tmp_path):
    configure(settings, str(tmp_path / "missing.pem"), str(tmp_path / "missing-key.pem"))

    [error] = verifier_certificate()

    assert error.id == "openid4vp.E001"
    assert "missing.pem" in error.msg


def test_a_response_uri_on_another_host_is_refused_before_anything_is_signed(world, san_dns,
                                                                              settings):
    # PUBLIC_BASE_URL gives both the host and the response_uri; should they ever part, a wallet
    # would refuse the request (§5.9.3), so the Verifier does not make it.
    settings.PUBLIC_BASE_URL = "https://elsewhere.example"

    with pytest.raises(ImproperlyConfigured, match="https://elsewhere.example/openid4vp/response "
                                                   "is not on localhost"):
        services.presentation_request_create(
            organisation=world.verifier, dcql_query={"credentials": [{
                "id": "x", "format": "dc+sd-jwt", "meta": {"vct_values": ["urn:x"]}}]},
            purpose="Check who signs the contract")

    assert not PresentationRequest.objects.exists()


# --- the setting, at start -----------------------------------------------------------------------

def start(**env) -> subprocess.CompletedProcess:
    code = ("import django, os; os.environ.setdefault('DJANGO_SETTINGS_MODULE', "
            "'config.settings'); django.setup(); from django.conf import settings; "
            "print(settings.OPENID4VP_CLIENT_ID_PREFIX)")
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, env={**os.environ, **env},
                          capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("env, message", [
    ({"OPENID4VP_CLIENT_ID_PREFIX": "did"},
     "OPENID4VP_CLIENT_ID_PREFIX must be x509_hash or x509_san_dns, not 'did'"),
    ({"OPENID4VP_CLIENT_ID_PREFIX": "x509_san_dns", "PUBLIC_BASE_URL": "http://127.0.0.1:8000"},
     "x509_san_dns needs a DNS name as the host of PUBLIC_BASE_URL, not the address 127.0.0.1"),
])
def test_an_unknown_prefix_or_no_dns_name_is_refused_at_start(env, message):
    result = start(**env)

    assert result.returncode != 0
    assert message in result.stderr


def test_the_prefixes_are_read_at_start():
    assert start(OPENID4VP_CLIENT_ID_PREFIX="").stdout.strip() == "x509_hash"
    assert start(OPENID4VP_CLIENT_ID_PREFIX="x509_san_dns").stdout.strip() == "x509_san_dns"
