"""Wallet Attestation (HAIP 1.0 §4.4.1, OpenID4VCI 1.0 Appendix E): with wallet providers
configured, the PAR and token endpoints take only a wallet that authenticates with its
provider's attestation (x5c chaining to a configured root, sub its client_id) and a fresh
proof of possession by the attested key, for this issuer, used once."""

import pytest
from django.test import Client

from credentials import jose
from credentials.keys import LocalSigner
from openid4vci.models import AuthorizationRequest, CredentialOffer
from openid4vci.services.metadata import issuer_identifier
from openid4vci.services.offers import offer_create
from tests.support.openid4vci_wallet import FORM, TestWallet
from tests.support.pki import root_ca
from wallet.tenancy.authority import operator

PROVIDER_URI = "https://wallet-provider.example"


@pytest.fixture(scope="module")
def provider_root():
    return root_ca("Wallet Provider Root CA", "Wallet Provider")


@pytest.fixture
def provider(provider_root):
    return provider_root.intermediate("Wallet Provider CA").issue(uris=(PROVIDER_URI,))


@pytest.fixture
def required(settings, provider_root):
    settings.OPENID4VCI_WALLET_ATTESTATION_ANCHORS = provider_root.pem


@pytest.fixture
def browser(staff) -> Client:
    browser = Client()
    browser.force_login(staff)
    return browser


def test_the_metadata_says_wallets_authenticate_by_attestation(client, acme, required):
    metadata = client.get("/.well-known/oauth-authorization-server/orgs/acme").json()

    assert metadata["token_endpoint_auth_methods_supported"] == ["attest_jwt_client_auth"]


def test_an_attested_wallet_gets_its_credential_by_both_flows(acme, mandate, browser, required,
                                                              provider):
    wallet = TestWallet()
    wallet.provider = provider
    created = offer_create(actor=operator(), issuer=acme, configuration="mandate",
                           mandate=mandate)

    wallet.redeem_offer(created.by_reference, created.tx_code)
    wallet.authorize_and_redeem(issuer_identifier(acme), "mandate", browser)

    assert CredentialOffer.objects.filter(state="issued").count() == 2


def test_a_wallet_without_attestation_is_refused_at_par_and_token(acme, mandate, required):
    wallet = TestWallet()
    created = offer_create(actor=operator(), issuer=acme, configuration="mandate",
                           mandate=mandate)

    flow = wallet.push_authorization(issuer_identifier(acme), "mandate")
    token = wallet.token(wallet.resolve_offer(created.by_value), created.tx_code)

    for refused in (flow["pushed"], token):
        assert refused.status_code == 401 and refused.json()["error"] == "invalid_client"
        assert "Wallet Attestation is required" in refused.json()["error_description"]
    assert not AuthorizationRequest.objects.exists()
    assert CredentialOffer.objects.get(pk=created.offer.pk).state == "offered"  # not spent


def test_an_attestation_from_an_unknown_provider_is_refused(acme, mandate, required):
    wallet = TestWallet()
    wallet.provider = root_ca("Rogue Provider").issue(uris=(PROVIDER_URI,))

    flow = wallet.push_authorization(issuer_identifier(acme), "mandate")

    assert flow["pushed"].status_code == 401
    assert "does not lead to a trusted anchor" in flow["pushed"].json()["error_description"]


@pytest.mark.parametrize("fault, reason", [
    ("other client", "client_id is not the sub"),
    ("other audience", "aud must be"),
    ("pop by another key", "PoP is not valid"),
    ("replayed pop", "used before"),
])
def test_a_wrong_attestation_or_pop_is_refused(client, acme, mandate, required, provider, fault,
                                               reason):
    wallet = TestWallet()
    wallet.provider = provider
    issuer = issuer_identifier(acme)
    headers = wallet.attestation_headers(issuer)
    if fault == "other client":
        headers = wallet.attestation_headers(issuer, client_id="https://other.example")
    if fault == "other audience":
        headers = wallet.attestation_headers("https://elsewhere.example")
    if fault == "pop by another key":
        wallet.instance_key, attested = LocalSigner.generate(key_type="P-256"), \
            wallet.instance_key
        forged = wallet.attestation_headers(issuer)
        wallet.instance_key = attested
        headers["HTTP_OAUTH_CLIENT_ATTESTATION_POP"] = forged["HTTP_OAUTH_CLIENT_ATTESTATION_POP"]
    if fault == "replayed pop":
        first = client.post("/orgs/acme/openid4vci/par",
                            "client_id=https%3A%2F%2Fwallet.example.eu", content_type=FORM,
                            **headers)
        assert first.status_code == 400  # authenticated; the request itself is empty
    decoded = jose.decode(headers["HTTP_OAUTH_CLIENT_ATTESTATION"]).claims()
    assert decoded["sub"]

    refused = client.post("/orgs/acme/openid4vci/par", "client_id=https%3A%2F%2Fwallet.example.eu",
                          content_type=FORM, **headers)

    assert refused.status_code == 401, refused.content
    assert reason in refused.json()["error_description"]
