"""Products with issued passports for the public views; the open endpoints' rate limit is off
here unless a test turns it on."""

from __future__ import annotations

import pytest

from passports.models import Passport, Product
from passports.services.issuance import passport_request, passports_sign
from tests.passports.factories import GTINS, battery_attributes, organisation, required_attributes
from wallet.authority import operator

BATTERY_FACTS = {"batteryChemistry": "NMC811", "ratedCapacity": 200,
                 "carbonFootprintPerFunctionalUnit": 61.2, "postConsumerRecycledCobaltShare": 16}


@pytest.fixture(autouse=True)
def _no_rate_limit(settings):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {
        **settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "public": "off"}}


def make_product(org, *, gtin: str = GTINS[0], serial: str = "SN-0001", lot: str = "",
                 category: str = "battery", name: str = "75 kWh EV battery pack",
                 attributes: dict | None = None) -> Product:
    if attributes is None:
        attributes = (battery_attributes(**BATTERY_FACTS) if category == "battery"
                      else required_attributes(category))
    return Product.objects.create(organisation=org, gtin=gtin, serial=serial, lot=lot,
                                  name=name, category=category, country_of_production="NL",
                                  facility_name="Acme Plant Eindhoven", attributes=attributes)


def issue(product: Product) -> Passport:
    """Request and sign the product's next passport version, here and now."""
    passport = passport_request(actor=operator(), product=product)
    passports_sign([passport.pk])
    passport.refresh_from_db()
    assert passport.state == Passport.State.ISSUED, passport.state_reason
    return passport


@pytest.fixture
def acme(db):
    return organisation("acme", "Acme Batteries B.V.")


@pytest.fixture
def battery(acme) -> Product:
    return make_product(acme)


@pytest.fixture
def issued(battery) -> Passport:
    return issue(battery)
