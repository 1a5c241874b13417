"""Products with issued passports, made and signed here and now."""

from __future__ import annotations

import base64
import json

from passports.models import Passport, Product
from passports.services.issuance import passport_request, passports_sign
from tests.support.factories import GTINS, battery_attributes, required_attributes
from tests.support.waiting import wait_for_state
from wallet.tenancy.authority import operator

BATTERY_FACTS = {"batteryChemistry": "NMC811", "ratedCapacity": 200,
                 "carbonFootprintPerFunctionalUnit": 61.2, "postConsumerRecycledCobaltShare": 16}


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
    """Request and sign the product's next passport version, here and now (or by the test's real
    worker, when it took the signing first: tests marked `worker`)."""
    passport = passport_request(actor=operator(), product=product)
    passports_sign([passport.pk])
    return wait_for_state(passport, Passport.State.ISSUED)


def tampered(jwt: str) -> str:
    """The same JWT with its subject's name changed and the signature kept."""
    header, payload, signature = jwt.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["credentialSubject"]["name"] = "A cheaper battery"
    changed = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    return f"{header}.{changed}.{signature}"


def without_verify_limit(settings) -> None:
    """The verifier's rate limit off: a test posts more than a person would."""
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {
        **settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "verify": "off"}}
