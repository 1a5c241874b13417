"""An EU wallet, end to end, against both halves of the service: it receives a mandate through
OpenID4VCI (issuer metadata, offer with a transaction code, key proof, credential), checks it on
its own, then answers an OpenID4VP request (DCQL, signed request object, encrypted response)
disclosing only what was asked, and the verifier accepts it. Once the mandate is revoked, the
same credential is refused naming `revoked`. A partner's wallet likewise receives its access
role and reads a passport's restricted data with it. And a wallet asks for a mandate itself
(authorization code flow with PAR, PKCE and DPoP) and presents it."""

import pytest

from credentials.signing import decode_jwt_parts
from openid4vci.services.offers import offer_create
from passports.models import Entitlement
from passports.services.issuance import passport_request
from tests.support import eu_wallet
from tests.support.api import battery_product
from tests.support.environment import generous_rate_limits
from tests.support.eu_wallet import ASKED, answer, ask, presented, result
from tests.support.factories import organisation
from tests.support.openid4vci import verify_independently
from tests.support.openid4vci_wallet import TestWallet
from tests.support.openid4vp_wallet import Wallet
from wallet.tenancy.authority import operator
from wallet.tenancy.mandates import MANDATE_VCT, mandate_revoke

parties = eu_wallet.parties  # the fixture


@pytest.fixture(autouse=True)
def _generous_rate_limits(settings):
    generous_rate_limits(settings, "openid4vci", "verify", "public")


def test_an_eu_wallet_receives_a_mandate_presents_it_and_revocation_ends_it(client, parties):
    issuer_wallet = TestWallet(client=client)  # the same wallet, its issuance side
    offered = offer_create(actor=operator(), issuer=parties["acme"], configuration="mandate",
                           mandate=parties["mandate"])

    sd_jwt = issuer_wallet.redeem_offer(offered.by_reference, offered.tx_code)
    claims = verify_independently(client, sd_jwt, issuer_wallet)
    assert claims["vct"] == MANDATE_VCT and claims["scope"] == "passports:issue"

    holder = Wallet(client, key=issuer_wallet.signer, credentials={"mandate": sd_jwt})
    verdict = presented(holder, parties["verifier"])

    disclosed = verdict["disclosed"]["mandate"]
    assert disclosed["scope"] == "passports:issue"
    assert disclosed["principal"] == {"legal_name": "Acme Batteries B.V."}  # not its id
    assert "representative" not in disclosed
    assert verdict["credentials"][0]["issuer"]["legal_person"]["name"] == "Acme Batteries B.V."

    mandate_revoke(mandate=parties["mandate"], reason="left the company")
    again = ask(parties["verifier"])
    refused = answer(holder, again)

    assert refused.status_code == 400 and refused.json()["error"] == "access_denied"
    assert "revoked" in refused.json()["error_description"]
    verdict = result(parties["verifier"], again)
    assert verdict["status"] == "failed" and verdict["error_code"] == "revoked"


def test_a_partner_wallet_gets_restricted_passport_data_with_its_access_role(
        client, parties, django_capture_on_commit_callbacks):
    acme = parties["acme"]
    recycle = organisation("recycle", "Recycle Partners B.V.")
    entitlement = Entitlement.objects.create(manufacturer=acme, partner=recycle,
                                             access_group="legitimate_interest")
    with django_capture_on_commit_callbacks(execute=True):
        passport = passport_request(actor=operator(), product=battery_product(acme))
    issuer_wallet = TestWallet(client=client)
    offered = offer_create(issuer=acme, configuration="access_role", entitlement=entitlement,
                           role="authorised battery recycler",
                           actor=operator())
    role = issuer_wallet.redeem_offer(offered.by_reference, offered.tx_code)
    holder = Wallet(client, key=issuer_wallet.signer, credentials={"role": role})

    asked = client.post(f"/api/v1/passports/{passport.pk}/access/openid4vp").json()
    request = holder.fetch(asked["authorization_request"])
    answered = holder.answer_query(request, "role")
    granted = client.get(asked["result_url"].removeprefix("http://localhost:8000"),
                         HTTP_AUTHORIZATION=f"Bearer {asked['read_secret']}",
                         HTTP_ACCEPT="application/vc+jwt")

    assert answered.status_code == 200, answered.content
    assert granted.status_code == 200, granted.content
    _, credential = decode_jwt_parts(granted.content.decode().strip('"'))
    assert credential["id"].endswith("/legitimate_interest")


def test_the_wallet_journey_refuses_each_wrong_step_naming_why(client, parties, settings):
    """The same journey, with each thing a wallet (or an attacker) can get wrong: a second
    redemption and an expired pre-authorised code at issuance; a replayed presentation, a wrong
    nonce and a wrong audience at presentation. Each is refused and says why."""
    wallet = TestWallet(client=client)
    offered = offer_create(actor=operator(), issuer=parties["acme"], configuration="mandate",
                           mandate=parties["mandate"])
    offer = wallet.resolve_offer(offered.by_reference)
    assert wallet.token(offer, offered.tx_code).status_code == 200

    second = wallet.token(offer, offered.tx_code)
    assert second.status_code == 400 and second.json()["error"] == "invalid_grant"
    assert "already redeemed" in second.json()["error_description"]

    settings.OPENID4VCI_PRE_AUTHORIZED_CODE_SECONDS = 0
    stale = offer_create(actor=operator(), issuer=parties["acme"], configuration="mandate",
                         mandate=parties["mandate"])
    expired = wallet.token(stale.document, stale.tx_code)
    assert expired.status_code == 400 and expired.json()["error"] == "invalid_grant"
    assert expired.json()["error_description"] == "pre-authorized_code expired"
    settings.OPENID4VCI_PRE_AUTHORIZED_CODE_SECONDS = 600

    fresh = offer_create(actor=operator(), issuer=parties["acme"], configuration="mandate",
                         mandate=parties["mandate"])
    holder = Wallet(client, key=wallet.signer,
                    credentials={"mandate": wallet.redeem_offer(fresh.by_reference,
                                                                fresh.tx_code)})

    first = ask(parties["verifier"])
    request = holder.fetch(first["authorization_request"])
    presentation = holder.presentation(request, "mandate", ASKED)
    assert holder.answer(request, {"mandate": [presentation]}).status_code == 200

    refusals = {}
    replay_to = holder.fetch(ask(parties["verifier"])["authorization_request"])
    refusals["replay"] = holder.answer(replay_to, {"mandate": [presentation]})
    wrong_nonce = holder.fetch(ask(parties["verifier"])["authorization_request"])
    refusals["nonce"] = holder.answer(wrong_nonce, {"mandate": [holder.presentation(
        wrong_nonce, "mandate", ASKED, nonce=request.nonce)]})
    wrong_aud = holder.fetch(ask(parties["verifier"])["authorization_request"])
    refusals["aud"] = holder.answer(wrong_aud, {"mandate": [holder.presentation(
        wrong_aud, "mandate", ASKED, aud="x509_hash:somebody-else")]})

    for reason, response in refusals.items():
        assert response.status_code == 400, (reason, response.content)
        assert reason in response.json()["error_description"], (reason, response.json())


def test_an_eu_wallet_asks_for_a_mandate_itself_and_presents_it(client, parties):
    """Wallet-initiated (HAIP 1.0 §4): from the issuer's metadata, a pushed request with PKCE
    S256 and DPoP; the person logs in at the service and consents; then the same wallet
    answers an OpenID4VP request whose certificate chains to the CA it was given."""
    from django.test import Client

    from openid4vci.services.metadata import issuer_identifier

    browser = Client()
    browser.force_login(parties["mandate"].grantee_user)
    issuer_wallet = TestWallet(client=client)

    sd_jwt = issuer_wallet.authorize_and_redeem(issuer_identifier(parties["acme"]), "mandate",
                                                browser)
    assert issuer_wallet.token_type == "DPoP"
    verify_independently(client, sd_jwt, issuer_wallet)

    holder = Wallet(client, key=issuer_wallet.signer, credentials={"mandate": sd_jwt})
    verdict = presented(holder, parties["verifier"])

    assert verdict["disclosed"]["mandate"]["scope"] == "passports:issue"
