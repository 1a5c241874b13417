"""The partner API's world: a manufacturer (acme) with an issued battery passport that has
restricted data in three groups, another manufacturer (other), a recycler (recycle) that acme
entitled to `legitimate_interest`, and an API key with every scope for each of them."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from passports.models import Entitlement, Passport, Product
from tests.support.api import Party, api_client, battery_product, issue, party
from tests.support.environment import generous_rate_limits
from tests.support.factories import organisation


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
