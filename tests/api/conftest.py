"""The partner API's world: a manufacturer (acme) with an issued battery passport that has
restricted data in three groups, another manufacturer (other), a recycler (recycle) that acme
entitled to `legitimate_interest`, and an API key with every scope for each of them."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from rest_framework.test import APIClient

from passports import categories
from passports.api import verifying
from passports.models import Entitlement, Passport, Product
from passports.services.issuance import passport_request
from tests.conftest import generous_rate_limits
from tests.passports import sample_value
from tests.passports.factories import organisation
from wallet.tenancy.api_tokens import api_token_create
from wallet.tenancy.models import ApiToken, Organisation

ALL_SCOPES = ApiToken.Scope.values


@dataclass
class Party:
    organisation: Organisation
    key: str
    client: APIClient


def api_client(key: str | None = None) -> APIClient:
    client = APIClient()
    if key:
        client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


def party(org: Organisation, scopes=ALL_SCOPES) -> Party:
    _token, key = api_token_create(organisation=org, name="test", scopes=scopes)
    return Party(org, key, api_client(key))


def battery_product(org: Organisation, serial: str = "SN-0001") -> Product:
    category = categories.get("battery")
    return Product.objects.create(
        organisation=org, gtin="09506000134352", serial=serial, name="75 kWh battery pack",
        category="battery", category_version=category.version, country_of_production="NL",
        attributes=categories.clean_attributes(
            category, {item.key: sample_value(item) for item in category.attributes}))


def issue(product: Product, django_capture_on_commit_callbacks) -> Passport:
    with django_capture_on_commit_callbacks(execute=True):
        passport = passport_request(product=product)
    passport.refresh_from_db()
    assert passport.state == Passport.State.ISSUED, passport.state_reason
    return passport


@pytest.fixture(autouse=True)
def _fresh_key_cache():
    """Every test makes its organisations anew, with new keys under the same key ids."""
    verifying._keys.clear()


@pytest.fixture(autouse=True)
def _generous_rate_limits(settings):
    """The open endpoints stay rate limited (the code path runs), but far above what a test
    sends; test_rate_limit.py sets its own low limit."""
    generous_rate_limits(settings, "verify")


@pytest.fixture
def acme(db) -> Party:
    return party(organisation("acme", "Acme Batteries B.V."))


@pytest.fixture
def other(db) -> Party:
    return party(organisation("other", "Other Batteries GmbH"))


@pytest.fixture
def recycle(db, acme) -> Party:
    partner = party(organisation("recycle", "Recycle B.V."))
    Entitlement.objects.create(manufacturer=acme.organisation, partner=partner.organisation,
                               access_group="legitimate_interest")
    return partner


@pytest.fixture
def anonymous() -> APIClient:
    return api_client()


@pytest.fixture
def product(acme) -> Product:
    return battery_product(acme.organisation)


@pytest.fixture
def passport(product, django_capture_on_commit_callbacks) -> Passport:
    return issue(product, django_capture_on_commit_callbacks)
