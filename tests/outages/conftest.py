"""A manufacturer with an API key and issued passports, committed (the web process under test
reads them from its own connections), for the outage tests."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from passports.models import Passport
from passports.services.issuance import passport_request, passports_sign
from tests.support.api import battery_product
from tests.support.factories import api_key, organisation
from tests.support.waiting import wait_for_state
from wallet.tenancy.authority import operator
from wallet.tenancy.models import Organisation


@dataclass
class Manufacturer:
    organisation: Organisation
    headers: dict  # the API key, as a header
    passports: list[Passport]

    def passport(self, index: int = 0) -> Passport:
        return self.passports[index]


def issue(product) -> Passport:
    """Signed here, or by the test's worker when it got there first (tests marked `worker`)."""
    passport = passport_request(product=product, actor=operator())
    passports_sign([passport.pk])
    return wait_for_state(passport, Passport.State.ISSUED)


@pytest.fixture
def acme(transactional_db) -> Manufacturer:
    org = organisation("acme", "Acme Batteries B.V.")
    _token, key = api_key(org, name="outage test")
    passports = [issue(battery_product(org, serial)) for serial in ("SN-0001", "SN-0002")]
    return Manufacturer(org, {"Authorization": f"Token {key}"}, passports)
