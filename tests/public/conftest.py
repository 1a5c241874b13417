"""Products with issued passports for the public views; the open endpoints' rate limit is off
here unless a test turns it on."""

from __future__ import annotations

import pytest

from passports.models import Passport, Product
from tests.support.factories import organisation
from tests.support.public import issue, make_product


@pytest.fixture(autouse=True)
def _no_rate_limit(settings):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {
        **settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "public": "off"}}


@pytest.fixture
def acme(db):
    return organisation("acme", "Acme Batteries B.V.")


@pytest.fixture
def battery(acme) -> Product:
    return make_product(acme)


@pytest.fixture
def issued(battery) -> Passport:
    return issue(battery)
