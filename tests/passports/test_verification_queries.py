"""What an uncached verification of one of our passports asks the database: a partner
verifies each passport once, so this is what every verification costs (issue #20). Three
questions; on PostgreSQL asked in one statement (read ahead: core/hot_queries.py)."""

import pytest

from passports.api.verifying import verify
from passports.services.products import product_create
from tests.support.environment import ON_POSTGRES
from tests.support.factories import (
    GTINS,
    acme_with_legal_details,
    battery_attributes,
    organisation,
    trust_anchor,
)
from tests.support.public import issue
from wallet.business.identity.services import attestation_approve, attestation_request

QUERIES = 1 if ON_POSTGRES else 3


def issued(org, serial):
    product = product_create(organisation=org, gtin=GTINS[0], serial=serial, name="Pack",
                             category="battery", country_of_production="NL",
                             attributes=battery_attributes())
    return issue(product)


@pytest.fixture
def uncached(settings):
    settings.API_VERDICT_CACHE_SECONDS = 0


@pytest.fixture
def attested(db):
    acme = acme_with_legal_details()
    register = trust_anchor(registry_name="Demo Handelsregister")
    attestation_approve(request=attestation_request(organisation=acme, anchor=register,
                                                    evidence="KvK extract 12345678"))
    return acme


def test_a_passport_of_an_attested_issuer_costs_three_questions(attested, uncached,
                                                               django_assert_num_queries):
    """The issuer's organisation with its identity credentials and both parties' places in
    the trust registry, the one status entry, the passport's state. (The issuer's key is the
    API's, cached for KEY_TTL: the first verification warms it.)"""
    first, second = issued(attested, "B-1"), issued(attested, "B-2")
    assert verify(first.jwt)["verified"] is True

    with django_assert_num_queries(QUERIES):
        verdict = verify(second.jwt)

    assert verdict["verified"] is True, verdict["errors"]
    assert verdict["issuer"]["trusted"] is True
    assert verdict["issuer"]["legal_person"]["anchor"] == "did:web:localhost%3A8000:orgs:register"
    assert {c["check"]: c for c in verdict["checks"]}["status"]["detail"] == "valid"


def test_a_passport_of_an_unattested_issuer_costs_three_questions_too(
        db, uncached, django_assert_num_queries):
    """Without an identity credential the organisation comes from the same query."""
    org = organisation("bolt", "Bolt Cells B.V.")  # not acme: the API keeps keys for KEY_TTL
    first, second = issued(org, "B-1"), issued(org, "B-2")
    assert verify(first.jwt)["verified"] is True, verify(first.jwt)["errors"]

    with django_assert_num_queries(QUERIES):
        verdict = verify(second.jwt)

    assert verdict["verified"] is True, verdict["errors"]
    assert verdict["issuer"]["trusted"] is False
    assert "issuer not trusted: no identity credential from a trust anchor" in \
        verdict["warnings"]
