"""A wallet made by others receives each credential configuration through the pre-authorized
code flow, and checks what it got on its own: the signature against the issuer's DID document
as this service serves it, the holder binding to its own key, every claim selectively
disclosable, and a Token Status List entry."""

import pytest

from credentials import x509
from credentials.foreign_issuers import ForeignIssuers
from credentials.keys import PublicKey
from credentials.sd_jwt import SdJwt
from credentials.suites import get_suite
from openid4vci.configurations import CONFIGURATIONS, PRODUCT_PASSPORT_VCT
from openid4vci.models import CredentialOffer
from openid4vci.services.metadata import issuer_identifier
from openid4vci.services.offers import offer_create
from tests.openid4vci.wallet import TestWallet, local_path, service_issuing_ca
from wallet.authority import operator
from wallet.identity import BUSINESS_IDENTITY_VCT
from wallet.mandates import MANDATE_VCT
from wallet.presentations import ACCESS_ROLE_VCT
from wallet.verification import verify

REGISTERED = {"iss", "sub", "iat", "exp", "nbf", "jti", "vct", "cnf", "status"}


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
