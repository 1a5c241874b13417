"""The authorization code flow (OpenID4VCI 1.0 §5, HAIP 1.0 §4): a wallet starts from the
issuer's metadata, pushes its request (RFC 9126) with a PKCE S256 challenge (RFC 7636), the
person logs in at the service and consents, and the wallet redeems the code with its verifier
and a DPoP proof for a token, then its credential. And what goes wrong is refused, spending
nothing it should not."""

from urllib.parse import parse_qs, urlsplit

import pytest
from django.test import Client

from credentials.sd_jwt import SdJwt
from credentials.signing import decode_jwt_parts
from openid4vci.models import AuthorizationRequest, CredentialOffer
from openid4vci.services.metadata import issuer_identifier
from tests.support.openid4vci import verify_independently
from tests.support.openid4vci_wallet import TestWallet, local_path
from wallet.business.verification import verify
from wallet.tenancy.mandates import MANDATE_VCT, mandate_revoke


@pytest.fixture
def browser(staff) -> Client:
    """The person's browser, logged in at the service (the admin login)."""
    browser = Client()
    browser.force_login(staff)
    return browser


@pytest.fixture
def issuer(acme) -> str:
    return issuer_identifier(acme)


@pytest.mark.parametrize("by_details", [False, True])
def test_a_person_gets_their_mandate_into_their_wallet(client, issuer, mandate, browser,
                                                      by_details):
    wallet = TestWallet()

    sd_jwt = wallet.authorize_and_redeem(issuer, "mandate", browser, by_details=by_details)

    claims = verify_independently(client, sd_jwt, wallet)
    assert claims["vct"] == MANDATE_VCT and claims["scope"] == "passports:issue"
    assert claims["representative"] == {"name": "Jan Jansen"}
    assert wallet.token_type == "DPoP"
    pushed = AuthorizationRequest.objects.get()
    assert pushed.status == "redeemed" and pushed.user.username == "jan"
    assert pushed.dpop_jkt  # the code was bound to the wallet's DPoP key at the push
    assert pushed.offer.state == "issued"
    assert [e.action for e in pushed.offer.events.all()][:2] == ["offered", "authorized"]
    mandate_revoke(mandate=mandate, reason="left the company")
    [status] = [c for c in verify(sd_jwt)["checks"] if c["check"] == "status"]
    assert status["detail"] == "revoked"  # the copy shares its mandate's fate


def test_the_person_logs_in_at_the_service_first(issuer, mandate):
    wallet, stranger = TestWallet(), Client()
    flow = wallet.push_authorization(issuer, "mandate")

    answer = stranger.get(local_path(wallet.authorization_url(flow)))

    assert answer.status_code == 302
    assert answer["Location"].startswith("/admin/login/?next=")


def test_a_person_who_declines_sends_the_wallet_access_denied(issuer, mandate, browser):
    wallet = TestWallet()
    flow = wallet.push_authorization(issuer, "mandate")

    declined = browser.post(local_path(wallet.authorization_url(flow)), {"decision": "deny"})

    assert declined.status_code == 302
    answer = {k: v[0] for k, v in parse_qs(urlsplit(declined["Location"]).query).items()}
    assert answer["error"] == "access_denied" and answer["state"] == flow["state"]
    assert not CredentialOffer.objects.exists()
    again = browser.get(local_path(wallet.authorization_url(flow)))  # request_uri: once
    assert again.status_code == 400


def test_a_person_without_a_mandate_gets_nothing_to_approve(issuer, mandate, acme):
    from django.contrib.auth import get_user_model

    from wallet.tenancy.models import Member

    other = get_user_model().objects.create_user(username="piet", is_staff=True)
    Member.objects.create(user=other, organisation=acme)
    browser, wallet = Client(), TestWallet()
    browser.force_login(other)
    flow = wallet.push_authorization(issuer, "mandate")

    page = browser.get(local_path(wallet.authorization_url(flow)))
    taken = browser.post(local_path(wallet.authorization_url(flow)),
                         {"decision": "approve", "mandate": str(mandate.pk)})

    assert b"You hold no active mandate" in page.content
    assert taken.status_code == 400  # jan's mandate is not piet's to give
    assert not CredentialOffer.objects.exists()


def approved(wallet, browser, issuer, **options) -> tuple[dict, str]:
    flow = wallet.push_authorization(issuer, "mandate", **options)
    consent = browser.get(local_path(wallet.authorization_url(flow)))
    choice = consent.context["choices"][0].pk
    decided = browser.post(local_path(wallet.authorization_url(flow)),
                           {"decision": "approve", "mandate": str(choice)})
    return flow, wallet.receive_redirect(flow, decided["Location"])


@pytest.mark.parametrize("change, reason", [
    ({"code_verifier": "x" * 43}, "code_verifier does not match"),
    ({"code_verifier": "short"}, "code_verifier missing or malformed"),
    ({"redirect_uri": "https://attacker.example/cb"}, "redirect_uri is not the one"),
    ({"client_id": "https://attacker.example"}, "client_id is not the one"),
])
def test_the_code_needs_the_verifier_client_and_redirect_uri_of_the_request(
        issuer, mandate, browser, change, reason):
    wallet = TestWallet()
    flow, code = approved(wallet, browser, issuer)

    refused = wallet.token_for_code(flow, code, **change)

    assert refused.status_code == 400
    assert refused.json()["error"] in ("invalid_grant", "invalid_request")
    assert reason in refused.json()["error_description"]
    assert AuthorizationRequest.objects.get().offer.state == "offered"  # nothing issued


def test_a_code_presented_twice_is_refused_and_its_token_revoked(issuer, mandate, browser):
    wallet = TestWallet()
    flow, code = approved(wallet, browser, issuer)
    first = wallet.token_for_code(flow, code)
    assert first.status_code == 200

    again = wallet.token_for_code(flow, code)

    assert again.status_code == 400 and again.json()["error"] == "invalid_grant"
    assert "revoked" in again.json()["error_description"]
    spent = wallet.request_credential(flow["metadata"], first.json()["access_token"], {})
    assert spent.status_code == 401


def test_a_code_bound_to_a_dpop_key_is_refused_with_another_key(issuer, mandate, browser):
    from credentials.keys import LocalSigner

    wallet = TestWallet()
    flow, code = approved(wallet, browser, issuer)
    wallet.dpop_signer = LocalSigner.generate(key_type="P-256")  # a thief's key

    refused = wallet.token_for_code(flow, code)

    assert refused.status_code == 400 and refused.json()["error"] == "invalid_dpop_proof"


@pytest.mark.parametrize("change, error", [
    ({"code_challenge_method": "plain"}, "invalid_request"),
    ({"code_challenge_method": None}, "invalid_request"),
    ({"code_challenge": None}, "invalid_request"),
    ({"redirect_uri": "javascript:alert(1)"}, "invalid_request"),
    ({"redirect_uri": "http://wallet.example/cb"}, "invalid_request"),
    ({"response_type": "token"}, "unsupported_response_type"),
    ({"scope": "product_passport"}, "invalid_scope"),
    ({"request_uri": "urn:ietf:params:oauth:request_uri:x"}, "invalid_request"),
])
def test_a_pushed_request_without_pkce_s256_or_with_a_bad_value_is_refused(issuer, mandate,
                                                                           change, error):
    wallet = TestWallet()

    flow = wallet.push_authorization(issuer, "mandate", **change)

    assert flow["pushed"].status_code == 400, flow["pushed"].content
    assert flow["pushed"].json()["error"] == error
    assert not AuthorizationRequest.objects.exists()


def test_the_authorization_endpoint_takes_only_pushed_requests(client, issuer, mandate,
                                                               browser):
    plain = browser.get("/orgs/acme/openid4vci/authorize?response_type=code&client_id=x"
                        "&redirect_uri=https%3A%2F%2Fwallet.example%2Fcb&code_challenge=x")

    assert plain.status_code == 400
    assert b"push its request first" in plain.content


def test_the_copy_names_its_issuer_as_the_pre_authorized_one_does(issuer, mandate, browser,
                                                                  business_identity):
    wallet = TestWallet()

    sd_jwt = wallet.authorize_and_redeem(issuer, "mandate", browser)

    header, payload = decode_jwt_parts(SdJwt.parse(sd_jwt).jwt)
    assert payload["iss"] == issuer and "x5c" in header  # attested: HAIP identification
    assert verify(sd_jwt)["verified"]


# --- issuer-initiated: the organisation's offer with an authorization code grant ----------------

def offered_to_jan(acme, mandate):
    from openid4vci.services.offers import offer_create
    from wallet.tenancy.authority import operator

    return offer_create(actor=operator(), issuer=acme, configuration="mandate", mandate=mandate)


def test_an_offer_of_a_persons_mandate_can_be_taken_by_logging_in(issuer, acme, mandate,
                                                                  browser):
    created = offered_to_jan(acme, mandate)
    wallet = TestWallet()
    offer = wallet.resolve_offer(created.by_reference)
    grant = offer["grants"]["authorization_code"]  # HAIP 1.0 §4.2, beside the pre-authorized

    sd_jwt = wallet.authorize_and_redeem(offer["credential_issuer"], "mandate", browser,
                                         issuer_state=grant["issuer_state"])

    assert decode_jwt_parts(SdJwt.parse(sd_jwt).jwt)[1]["vct"] == MANDATE_VCT
    taken = CredentialOffer.objects.get(pk=created.offer.pk)
    assert taken.state == "issued" and AuthorizationRequest.objects.get().offer == taken
    late = TestWallet().token(offer, created.tx_code)  # the pre-authorized code: spent too
    assert late.status_code == 400 and late.json()["error"] == "invalid_grant"


def test_an_offer_for_jan_cannot_be_taken_by_someone_else(issuer, acme, mandate):
    from django.contrib.auth import get_user_model

    from wallet.tenancy.models import Member

    created = offered_to_jan(acme, mandate)
    piet = get_user_model().objects.create_user(username="piet", is_staff=True)
    Member.objects.create(user=piet, organisation=acme)
    browser, wallet = Client(), TestWallet()
    browser.force_login(piet)
    state = wallet.resolve_offer(created.by_value)["grants"]["authorization_code"]["issuer_state"]
    flow = wallet.push_authorization(issuer, "mandate", issuer_state=state)

    taken = browser.post(local_path(wallet.authorization_url(flow)),
                         {"decision": "approve", "mandate": str(mandate.pk)})

    assert taken.status_code == 400
    assert CredentialOffer.objects.get(pk=created.offer.pk).state == "offered"


@pytest.mark.parametrize("forged", ["x.y", "1.2.3", "00000000-0000-0000-0000-000000000000.abc"])
def test_a_forged_issuer_state_is_refused_at_the_push(issuer, acme, mandate, forged):
    offered_to_jan(acme, mandate)

    flow = TestWallet().push_authorization(issuer, "mandate", issuer_state=forged)

    assert flow["pushed"].status_code == 400
    assert flow["pushed"].json()["error_description"] == "issuer_state unknown"
