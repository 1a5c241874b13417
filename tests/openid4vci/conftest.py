"""The issuer's world: a trust anchor (register) that attested acme, acme with a staff member
holding a mandate, an issued battery passport, and a recycler acme entitled to
`legitimate_interest` data."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model

from openid4vci.services.offers import offer_create
from passports import categories
from passports.models import Entitlement, Passport, Product
from passports.services.issuance import passport_request, passports_sign
from tests.openid4vci.wallet import TestWallet
from tests.passports import sample_value
from tests.passports.factories import organisation, trust_anchor
from wallet.identity import attestation_approve, attestation_request
from wallet.identity_models import LegalDetails, Mandate
from wallet.mandates import mandate_grant


@pytest.fixture(autouse=True)
def _generous_rate_limits(settings):
    """The endpoints stay rate limited (the code path runs), far above what a test sends."""
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {
        **settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "openid4vci": "100000/minute",
        "verify": "100000/minute"}}


@pytest.fixture
def register(db):
    anchor = trust_anchor(registry_name="Demo Handelsregister")
    return anchor


@pytest.fixture
def acme(db):
    org = organisation("acme", "Acme Batteries B.V.")
    LegalDetails.objects.create(organisation=org, euid="NLNHR.12345678", registry_id="12345678",
                                vat_id="NL001234567B01", lei="724500VKKSH9QOLTFR81",
                                street="Stationsplein 1", postal_code="5611 AB",
                                city="Eindhoven", country="NL")
    return org


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
    from wallet.models import Member

    Member.objects.create(user=user, organisation=acme)
    return user


@pytest.fixture
def mandate(acme, staff) -> Mandate:
    return mandate_grant(organisation=acme, scope=Mandate.Scope.PASSPORTS_ISSUE, user=staff)


@pytest.fixture
def entitlement(acme, recycle) -> Entitlement:
    return Entitlement.objects.create(manufacturer=acme, partner=recycle,
                                      access_group="legitimate_interest")


def battery_product(org, serial: str = "SN-0001") -> Product:
    category = categories.get("battery")
    return Product.objects.create(
        organisation=org, gtin="09506000134352", serial=serial, name="75 kWh battery pack",
        category="battery", category_version=category.version, country_of_production="NL",
        attributes=categories.clean_attributes(
            category, {item.key: sample_value(item) for item in category.attributes}))


def issued_passport(product: Product) -> Passport:
    passport = passport_request(product=product)
    passports_sign([passport.pk])
    passport.refresh_from_db()
    assert passport.state == Passport.State.ISSUED, passport.state_reason
    return passport


@pytest.fixture
def passport(acme) -> Passport:
    return issued_passport(battery_product(acme))


@pytest.fixture
def wallet() -> TestWallet:
    return TestWallet()


@pytest.fixture
def session(acme, mandate):
    """A wallet holding an access token for a mandate offer."""
    created = offer_create(issuer=acme, configuration="mandate", mandate=mandate)
    wallet = TestWallet()
    return wallet, {**wallet.start(created.by_reference, created.tx_code),
                    "offer_id": created.offer.pk}
