"""API parties: an organisation with an API key and a client that sends it; a battery
product with sample values in every attribute, and its passport issued after commit."""

from __future__ import annotations

from dataclasses import dataclass

from rest_framework.test import APIClient

from passports import categories
from passports.models import Passport, Product
from passports.services.issuance import passport_request
from tests.support.attributes import sample_value
from tests.support.factories import api_key
from wallet.tenancy.authority import operator
from wallet.tenancy.models import Organisation

ALL_SCOPES = None  # every scope the organisation may have (see factories.api_key)


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
    _token, key = api_key(org, scopes)
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
        passport = passport_request(actor=operator(), product=product)
    passport.refresh_from_db()
    assert passport.state == Passport.State.ISSUED, passport.state_reason
    return passport
