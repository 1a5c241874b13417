"""The issuer's world: a trust anchor (register) that attested acme, acme with a staff member
holding a mandate, an issued battery passport, and a recycler acme entitled to
`legitimate_interest` data."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model

from openid4vci.services.offers import offer_create
from passports.models import Entitlement, Passport
from tests.support.api import battery_product
from tests.support.environment import generous_rate_limits
from tests.support.factories import acme_with_legal_details, organisation, trust_anchor
from tests.support.openid4vci_wallet import TestWallet
from tests.support.public import issue
from wallet.business.identity.services import attestation_approve, attestation_request
from wallet.tenancy.authority import operator
from wallet.tenancy.legal_models import LegalDetails, Mandate
from wallet.tenancy.mandates import mandate_grant


@pytest.fixture(autouse=True)
def _generous_rate_limits(settings):
    """The endpoints stay rate limited (the code path runs), far above what a test sends."""
    generous_rate_limits(settings, "openid4vci", "verify")


@pytest.fixture
def register(db):
    return trust_anchor(registry_name="Demo Handelsregister")


@pytest.fixture
def acme(db):
    return acme_with_legal_details()


@pytest.fixture
def recycle(db):
    org = organisation("recycle", "Recycle Partners B.V.")
    LegalDetails.objects.create(organisation=org, registry_id="87654321", euid="NLNHR.87654321")
    return org


@pytest.fixture
def business_identity(acme, register):
    """acme's business identity credential, issued by the register after review."""
    _, identity = attestation_approve(request=attestation_request(
        organisation=acme, anchor=register, evidence="KvK extract 12345678"))
    return identity


@pytest.fixture
def open_review(recycle, register):
    """recycle asked the register to attest it; the review is still open."""
    return attestation_request(organisation=recycle, anchor=register,
                               evidence="KvK extract 87654321")


@pytest.fixture
def staff(acme):
    user = get_user_model().objects.create_user(username="jan", first_name="Jan",
                                                last_name="Jansen", is_staff=True)
    from wallet.tenancy.models import Member

    Member.objects.create(user=user, organisation=acme)
    return user


@pytest.fixture
def mandate(acme, staff) -> Mandate:
    return mandate_grant(organisation=acme, scope=Mandate.Scope.PASSPORTS_ISSUE, user=staff)


@pytest.fixture
def entitlement(acme, recycle) -> Entitlement:
    return Entitlement.objects.create(manufacturer=acme, partner=recycle,
                                      access_group="legitimate_interest")


@pytest.fixture
def passport(acme) -> Passport:
    return issue(battery_product(acme))


@pytest.fixture
def wallet() -> TestWallet:
    return TestWallet()


@pytest.fixture
def session(acme, mandate):
    """A wallet holding a Bearer access token for a mandate offer (tests post by hand)."""
    created = offer_create(actor=operator(), issuer=acme, configuration="mandate", mandate=mandate)
    wallet = TestWallet(dpop=False)
    return wallet, {**wallet.start(created.by_reference, created.tx_code),
                    "offer_id": created.offer.pk}
