"""A copy in a wallet shares its source's fate: revoking, suspending or reinstating the source
changes what a verifier finds for the copy, through the copy's own status entry."""

import pytest
from django.utils import timezone

from credentials.sd_jwt import SdJwt
from credentials.signing import decode_jwt_parts
from openid4vci.services.offers import offer_create
from passports.services.status import passport_reinstate, passport_revoke, passport_suspend
from tests.support.api import battery_product
from tests.support.openid4vci_wallet import TestWallet
from tests.support.public import issue
from wallet.business.verification import verify
from wallet.tenancy.authority import actor_of, operator
from wallet.tenancy.credential_status import wallet_credential_revoke
from wallet.tenancy.legal_models import WalletCredential
from wallet.tenancy.mandates import (
    mandate_grant,
    mandate_reinstate,
    mandate_revoke,
    mandate_suspend,
)


def issue_copy(issuer, configuration, **source) -> str:
    created = offer_create(actor=operator(), issuer=issuer, configuration=configuration, **source)
    return TestWallet().redeem_offer(created.by_reference, created.tx_code)


def status_of(sd_jwt: str) -> str:
    verdict = verify(sd_jwt)
    [check] = [c for c in verdict["checks"] if c["check"] == "status"]
    assert verdict["verified"] == check["ok"], verdict
    return check["detail"]


def status_entry(sd_jwt: str) -> dict:
    return decode_jwt_parts(SdJwt.parse(sd_jwt).jwt)[1]["status"]["status_list"]


def test_a_revoked_mandate_makes_its_wallet_copy_verify_as_revoked(acme, mandate):
    copy = issue_copy(acme, "mandate", mandate=mandate)
    assert status_of(copy) == "valid"

    mandate_suspend(mandate=mandate, reason="holiday")
    assert status_of(copy) == "suspended"
    mandate_reinstate(mandate=mandate)
    assert status_of(copy) == "valid"
    mandate_revoke(mandate=mandate, reason="left the company")

    assert status_of(copy) == "revoked"


def test_a_revoked_passport_makes_its_wallet_copy_verify_as_revoked(acme, passport):
    copy = issue_copy(acme, "product_passport", passport=passport)
    other = issue_copy(acme, "product_passport", passport=passport)
    assert status_entry(copy) != status_entry(other)  # each copy has an entry of its own
    assert status_of(copy) == "valid"

    passport_suspend(actor=operator(), passport=passport, reason="under investigation")
    assert status_of(copy) == status_of(other) == "suspended"
    passport_reinstate(actor=operator(), passport=passport)
    assert status_of(copy) == "valid"
    passport_revoke(actor=operator(), passport=passport, reason="recall")

    assert status_of(copy) == status_of(other) == "revoked"


def test_only_the_copies_of_the_revoked_passport_change(acme, passport):
    copy = issue_copy(acme, "product_passport", passport=passport)
    unrelated = issue_copy(acme, "product_passport",
                           passport=issue(battery_product(acme, "SN-0002")))

    passport_revoke(actor=operator(), passport=passport, reason="recall")

    assert status_of(copy) == "revoked"
    assert status_of(unrelated) == "valid"


def test_a_withdrawn_entitlement_revokes_the_access_role(acme, entitlement):
    copy = issue_copy(acme, "access_role", entitlement=entitlement)
    assert status_of(copy) == "valid"

    entitlement.delete()

    assert status_of(copy) == "revoked"


def test_a_revoked_business_identity_makes_its_copy_revoked(register, business_identity):
    copy = issue_copy(register, "business_identity", wallet_credential=business_identity)

    wallet_credential_revoke(credential=business_identity, reason="struck off the register")

    assert status_of(copy) == "revoked"


def test_a_source_without_a_status_entry_gives_its_copy_one_that_follows_it(acme, mandate):
    WalletCredential.objects.filter(pk=mandate.credential_id).update(status_list=None,
                                                                     status_index=None)
    mandate.refresh_from_db()
    copy = issue_copy(acme, "mandate", mandate=mandate)
    assert status_of(copy) == "valid"

    mandate_suspend(mandate=mandate)
    assert status_of(copy) == "suspended"
    mandate_revoke(mandate=mandate)

    assert status_of(copy) == "revoked"


@pytest.mark.parametrize("change", ["revoke", "suspend", "supersede"])
def test_a_passport_no_longer_issued_cannot_be_copied(client, acme, passport, change):
    created = offer_create(issuer=acme, configuration="product_passport", passport=passport,
                           actor=operator())
    wallet = TestWallet()
    session = wallet.start(created.by_reference, created.tx_code)
    if change == "revoke":
        passport_revoke(actor=operator(), passport=passport, reason="recall")
    elif change == "suspend":
        passport_suspend(actor=operator(), passport=passport, reason="check")
    else:
        type(passport).objects.filter(pk=passport.pk).update(state="superseded",
                                                             updated_at=timezone.now())

    response = wallet.request_credential(session["metadata"], session["access_token"],
                                         wallet.credential_request_body(session))

    assert response.status_code == 400
    assert response.json()["error"] == "credential_request_denied"
    assert response.json()["error_description"].startswith("the passport is ")


def test_a_passport_offer_stops_when_its_makers_mandate_is_revoked(acme, staff, passport):
    """Issue #15: a passport copy is signed under the mandate of whoever made the offer, read
    again when the wallet asks for it."""
    mandate = mandate_grant(organisation=acme, scope="passports:issue", user=staff)
    created = offer_create(issuer=acme, configuration="product_passport", passport=passport,
                           actor=actor_of(staff))
    wallet = TestWallet()
    session = wallet.start(created.by_reference, created.tx_code)
    mandate_revoke(mandate=mandate, reason="left the team")

    response = wallet.request_credential(session["metadata"], session["access_token"],
                                         wallet.credential_request_body(session))

    assert response.status_code == 400
    assert response.json()["error"] == "credential_request_denied"
    assert "no longer holds the passports:issue mandate" in response.json()["error_description"]
    created.offer.refresh_from_db()
    assert created.offer.state == "denied" and not created.offer.credential
