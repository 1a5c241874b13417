"""Legal identity from trust anchors: the review step, the two identity credentials, and the
trust chain every passport verdict carries."""

from datetime import UTC, datetime

import pytest
from django.core.exceptions import ValidationError

from credentials import jsonld, schemas
from credentials.signing import decode_jwt_parts
from credentials.suites import get_suite
from passports.services.issuance import passport_request, passports_sign
from passports.services.products import product_create
from passports.services.verification import verify_passport_uncached
from tests.support.factories import GTINS, acme_with_legal_details, trust_anchor
from tests.support.wallet import attest
from wallet.business.identity.services import attestation_approve, attestation_reject
from wallet.business.identity.services import attestation_request as request_attestation
from wallet.tenancy.authority import operator
from wallet.tenancy.credential_status import wallet_credential_revoke, wallet_credential_suspend
from wallet.tenancy.errors import WalletError
from wallet.tenancy.legal_models import AttestationRequest, TrustedAnchor
from wallet.tenancy.legal_models import WalletCredential as Held


@pytest.fixture
def register(db):
    anchor = trust_anchor(registry_name="Demo Handelsregister")
    return anchor


@pytest.fixture
def acme(db):
    return acme_with_legal_details()


def issued_passport(org):
    product = product_create(organisation=org, gtin=GTINS[2], serial="X-1", name="Widget",
                             category="generic", country_of_production="NL")
    passport = passport_request(actor=operator(), product=product)
    passports_sign([passport.pk])
    passport.refresh_from_db()
    return passport


def test_the_anchor_issues_a_untp_identity_anchor_that_validates(acme, register):
    anchor_credential, _ = attest(acme, register)

    header, credential = decode_jwt_parts(anchor_credential.credential)
    assert header["kid"].startswith(register.did + "#")
    assert credential["type"] == ["DigitalIdentityAnchor", "VerifiableCredential"]
    assert credential["credentialSubject"]["id"] == acme.did
    assert credential["credentialSubject"]["registeredId"] == "12345678"
    assert schemas.schema_errors("untp-dia-0.7.0", credential) == []
    assert schemas.vcdm2_errors(credential) == []
    assert isinstance(credential["credentialStatus"]["statusListIndex"], int)
    assert jsonld.expand(credential)  # no undefined term (DigitalIdentityAnchor is ours)


def test_the_business_identity_sd_jwt_passes_the_engines_checks(acme, register):
    _, identity = attest(acme, register)
    suite = get_suite("dc+sd-jwt")
    from credentials.did_web import DidResolver
    from credentials.sd_jwt import present
    from credentials.signing import signer_for

    presented = present(identity.credential, disclose=["legal_name", "euid"],
                        holder_signer=signer_for(acme.did), aud="https://verifier.example",
                        nonce="n-123")
    result = suite.verify(presented, DidResolver(allow_remote=False),
                          now=datetime.now(UTC), aud="https://verifier.example",
                          nonce="n-123", require_key_binding=True)

    assert result.ok, result.errors
    assert result.credential["legal_name"] == "Acme Batteries B.V."
    assert result.credential["euid"] == "NLNHR.12345678"
    assert "vat_id" not in result.credential  # not disclosed
    assert result.credential["status"]["status_list"]["uri"].startswith(
        "http://localhost:8000/status/")
    wrong = suite.verify(presented, DidResolver(allow_remote=False), now=datetime.now(UTC),
                         aud="https://elsewhere.example", nonce="n-123",
                         require_key_binding=True)
    assert not wrong.ok and "aud" in wrong.errors[0]


def test_a_passport_of_an_attested_issuer_names_its_legal_person(acme, register):
    attest(acme, register)

    verdict = verify_passport_uncached(issued_passport(acme))

    assert verdict["verified"] is True, verdict["errors"]
    assert verdict["issuer"]["trusted"] is True
    assert verdict["issuer"]["legal_person"]["name"] == "Acme Batteries B.V."
    assert verdict["issuer"]["legal_person"]["registry_id"] == "12345678"
    assert verdict["issuer"]["legal_person"]["anchor"] == register.did


def test_passports_name_the_registry_identity_in_issuer_also_known_as(acme, register):
    attest(acme, register)

    _, credential = decode_jwt_parts(issued_passport(acme).jwt)

    [alias] = credential["issuer"]["issuerAlsoKnownAs"]
    assert alias["registeredId"] == "12345678"
    assert alias["name"] == "Acme Batteries B.V."
    assert schemas.schema_errors("untp-dpp-0.7.0", credential) == []


def test_without_attestation_the_passport_verifies_but_is_not_trusted(acme, register):
    verdict = verify_passport_uncached(issued_passport(acme))

    assert verdict["verified"] is True
    assert verdict["issuer"]["trusted"] is False
    assert any("no identity credential" in w for w in verdict["warnings"])


def test_after_the_identity_credential_is_revoked_trust_is_gone(acme, register):
    anchor_credential, _ = attest(acme, register)
    passport = issued_passport(acme)

    wallet_credential_revoke(credential=anchor_credential, reason="company dissolved")

    verdict = verify_passport_uncached(passport)
    assert verdict["issuer"]["trusted"] is False
    assert any("revoked" in w for w in verdict["warnings"])


def test_an_anchor_outside_the_trust_registry_gives_no_trust(acme, register):
    attest(acme, register)
    TrustedAnchor.objects.all().delete()

    verdict = verify_passport_uncached(issued_passport(acme))

    assert verdict["issuer"]["trusted"] is False
    assert any("not in the trust registry" in w for w in verdict["warnings"])


def test_a_rejection_needs_a_reason_and_issues_nothing(acme, register):
    request = request_attestation(organisation=acme, anchor=register, evidence="-")

    with pytest.raises(ValidationError):
        attestation_reject(request=request, reviewer=None, reason=" ")
    attestation_reject(request=request, reviewer=None, reason="extract does not match")

    request.refresh_from_db()
    assert request.state == AttestationRequest.State.REJECTED
    assert not Held.objects.exists()
    with pytest.raises(WalletError, match="already rejected"):
        attestation_approve(request=request)


def test_only_anchors_attest(acme, register):
    with pytest.raises(WalletError, match="not a trust anchor"):
        request_attestation(organisation=register, anchor=acme, evidence="-")


def test_the_identity_anchor_credential_cannot_be_suspended_only_revoked(acme, register):
    anchor_credential, identity = attest(acme, register)

    with pytest.raises(WalletError, match="only SD-JWT"):
        wallet_credential_suspend(credential=anchor_credential, reason="check")
    wallet_credential_suspend(credential=identity, reason="check")

    identity.refresh_from_db()
    assert identity.state == Held.State.SUSPENDED
