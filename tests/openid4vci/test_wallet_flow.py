"""A wallet made by others receives each credential configuration through the pre-authorized
code flow, and checks what it got on its own: the signature against the issuer's DID document
as this service serves it, the holder binding to its own key, every claim selectively
disclosable, and a Token Status List entry."""

import pytest

from credentials.suites import get_suite
from openid4vci.configurations import CONFIGURATIONS, PRODUCT_PASSPORT_VCT
from openid4vci.models import CredentialOffer
from openid4vci.services.metadata import issuer_identifier
from openid4vci.services.offers import offer_create
from tests.support.openid4vci import verify_independently
from tests.support.openid4vci_wallet import TestWallet
from wallet.business.identity.services import BUSINESS_IDENTITY_VCT
from wallet.business.presentations import ACCESS_ROLE_VCT
from wallet.business.verification import verify
from wallet.tenancy.authority import operator
from wallet.tenancy.mandates import MANDATE_VCT


def _offer(issuer, configuration, **source):
    return offer_create(actor=operator(), issuer=issuer, configuration=configuration, **source)


@pytest.mark.parametrize("key_type", ["P-256", "Ed25519"])
def test_a_wallet_receives_a_mandate_bound_to_its_key(client, acme, mandate, key_type):
    wallet = TestWallet(key_type=key_type)
    created = _offer(acme, "mandate", mandate=mandate)

    sd_jwt = wallet.redeem_offer(created.by_reference, created.tx_code)

    claims = verify_independently(client, sd_jwt, wallet)
    assert claims["vct"] == MANDATE_VCT
    assert claims["iss"] == acme.did
    assert claims["scope"] == "passports:issue"
    assert claims["principal"] == {"id": acme.did, "legal_name": "Acme Batteries B.V."}
    assert claims["representative"] == {"name": "Jan Jansen"}
    # The copy carries the mandate's own status entry: they share one fate.
    assert claims["status"]["status_list"]["idx"] == mandate.credential.status_index
    verdict = verify(sd_jwt)
    assert verdict["verified"], verdict["errors"]
    offer = CredentialOffer.objects.get(pk=created.offer.pk)
    assert offer.state == "issued" and offer.redeemed_at and offer.issued_at
    assert offer.holder_jwk == wallet.key.jwk()


def test_a_wallet_receives_the_business_identity_from_its_anchor(client, register, acme,
                                                                 business_identity, wallet):
    created = _offer(register, "business_identity", wallet_credential=business_identity)

    sd_jwt = wallet.redeem_offer(created.by_value, created.tx_code)

    claims = verify_independently(client, sd_jwt, wallet)
    assert claims["vct"] == BUSINESS_IDENTITY_VCT
    # The register is a trust anchor: it identifies itself by x5c (HAIP 1.0, the default).
    assert claims["iss"] == issuer_identifier(register) and claims["sub"] == acme.did
    assert claims["legal_name"] == "Acme Batteries B.V."
    assert claims["euid"] == "NLNHR.12345678"
    assert claims["address"]["locality"] == "Eindhoven"
    assert claims["status"]["status_list"]["idx"] == business_identity.status_index
    verdict = verify(sd_jwt)
    assert verdict["verified"], verdict["errors"]


def test_a_partner_wallet_receives_its_access_role(client, acme, entitlement, wallet):
    created = _offer(acme, "access_role", entitlement=entitlement,
                     role="authorised battery recycler")

    sd_jwt = wallet.redeem_offer(created.by_reference, created.tx_code)

    claims = verify_independently(client, sd_jwt, wallet)
    assert claims["vct"] == ACCESS_ROLE_VCT
    assert claims["sub"] == entitlement.partner.did
    assert claims["role"] == "authorised battery recycler"
    assert claims["access_group"] == "legitimate_interest"
    assert verify(sd_jwt)["verified"]


def test_a_wallet_receives_a_product_passport(client, acme, passport, wallet):
    created = _offer(acme, "product_passport", passport=passport)

    sd_jwt = wallet.redeem_offer(created.by_reference, created.tx_code)

    claims = verify_independently(client, sd_jwt, wallet)
    assert claims["vct"] == PRODUCT_PASSPORT_VCT
    assert claims["passport_id"] == str(passport.pk)
    assert claims["passport_credential"] == passport.credential_url
    assert claims["gtin"] == "09506000134352" and claims["serial_number"] == "SN-0001"
    assert claims["manufacturer"] == {"id": acme.did, "name": "Acme Batteries B.V."}
    assert claims["category"] == "battery"
    assert claims["sub"] == passport.product.digital_link
    # The public characteristics only, each one disclosable on its own.
    assert "manufacturingPlace" in claims["characteristics"]
    assert "remainingCapacity" not in claims["characteristics"]  # legitimate_interest
    assert verify(sd_jwt)["verified"]


def test_the_holder_presents_a_chosen_claim_with_key_binding(client, acme, mandate, wallet):
    created = _offer(acme, "mandate", mandate=mandate)
    sd_jwt = wallet.redeem_offer(created.by_reference, created.tx_code)

    presentation = wallet.present(sd_jwt, ["scope"], aud="https://verifier.example",
                                  nonce="n-0S6")

    result = get_suite("dc+sd-jwt").verify(
        presentation, _ServiceKeys(), aud="https://verifier.example", nonce="n-0S6",
        require_key_binding=True)
    assert result.ok, result.errors
    assert result.credential["scope"] == "passports:issue"
    assert "principal" not in result.credential and "representative" not in result.credential


class _ServiceKeys:
    def public_key(self, verification_method):
        from credentials.did_web import DidResolver

        return DidResolver().public_key(verification_method)


def test_every_configuration_is_issuable(acme, register):
    assert set(CONFIGURATIONS) == set(CredentialOffer.Configuration.values)
