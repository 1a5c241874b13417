"""An uncached verification asks PostgreSQL three questions (the issuer's trust, the status
entry, the passport's state) in one prepared statement (core/hot_queries.py, read ahead by
passports/services/verification.py): parsed and planned once per connection, one round trip
per request. The answers are the ones Django's cursor gives, the query still shows in Django's
query log, and DATABASE_PREPARED_STATEMENTS=0 (a pooler in transaction mode) turns it off:
then each question is its own query, and every verdict is the same."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from core import hot_queries
from passports.services.status import passport_revoke
from tests.support.environment import postgres_only
from wallet.tenancy.authority import operator

HOT = ("wallet_organisation o LEFT JOIN", "credentials_statuschange", "passports_passport p")


def executions() -> dict[str, int]:
    """This connection's prepared statements of the hot queries, with how often each ran."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement, generic_plans + custom_plans FROM "
                       "pg_prepared_statements")
        rows = cursor.fetchall()
    return {words: sum(count for statement, count in rows if words in statement)
            for words in HOT}


def verify(anonymous, passport) -> dict:
    credential = passport if isinstance(passport, str) else passport.jwt
    response = anonymous.post("/api/v1/verify/", {"credential": credential}, format="json")
    assert response.status_code == 200
    return response.json()


@pytest.fixture(autouse=True)
def _uncached(settings):
    settings.API_VERDICT_CACHE_SECONDS = 0


@postgres_only
def test_a_verification_asks_its_three_questions_in_one_prepared_statement(anonymous,
                                                                           passport):
    verify(anonymous, passport)  # the issuer's key is looked up once, then kept (KEY_TTL)
    before = executions()
    with CaptureQueriesContext(connection) as queries:
        assert verify(anonymous, passport)["verified"] is True
    after = executions()

    assert len(queries.captured_queries) == 1
    for words in HOT:
        assert after[words] == before[words] + 1, words  # ran prepared, in that statement
        assert words in queries.captured_queries[0]["sql"], words
    passport_revoke(actor=operator(), passport=passport, reason="stolen")

    verdict = verify(anonymous, passport)  # the same statements, the new answer
    assert verdict["verified"] is False
    assert {"check": "status", "ok": False, "purpose": "revocation", "detail": "revoked",
            "reason": "stolen"} in verdict["checks"]
    assert executions() == {words: count + 1 for words, count in after.items()}


@postgres_only
def test_turned_off_nothing_runs_prepared_and_the_verdict_is_the_same(anonymous, passport,
                                                                      settings):
    prepared = verify(anonymous, passport)
    before = executions()
    settings.DATABASE_PREPARED_STATEMENTS = False

    plain = verify(anonymous, passport)

    assert executions() == before
    assert plain["checks"] == prepared["checks"] and plain["verified"] is True


def test_rows_are_those_of_djangos_cursor(passport):
    sql = ("SELECT p.version, p.state, o.slug FROM passports_passport p JOIN passports_product "
           "pr ON pr.id = p.product_id JOIN wallet_organisation o ON o.id = pr.organisation_id "
           "WHERE p.state = %s ORDER BY p.version")
    with connection.cursor() as cursor:
        cursor.execute(sql, ["issued"])
        expected = cursor.fetchall()

    assert hot_queries.rows(sql, ["issued"]) == expected == [(1, "issued", "acme")]
    assert hot_queries.one(sql, ["issued"]) == expected[0]
    assert hot_queries.one(sql, ["revoked"]) is None


@postgres_only
def test_read_ahead_or_not_every_verdict_is_the_same(anonymous, acme, other, product,
                                                     django_capture_on_commit_callbacks,
                                                     settings):
    """Trusted and untrusted issuers; issued, suspended, revoked and superseded passports; a
    restricted group's credential (no status entry); a credential of another manufacturer's
    passport id signed by acme (its state must not be read into acme's verdict)."""
    from passports.services.status import passport_suspend
    from tests.support.api import battery_product, issue
    from tests.support.factories import trust_anchor
    from wallet.business.identity.services import attestation_approve, attestation_request
    from wallet.tenancy.legal_models import LegalDetails

    LegalDetails.objects.create(organisation=acme.organisation, registry_id="12345678")
    attestation_approve(request=attestation_request(organisation=acme.organisation,
                                                    anchor=trust_anchor(),
                                                    evidence="KvK extract 12345678"))
    issued = issue(product, django_capture_on_commit_callbacks)
    suspended = issue(battery_product(acme.organisation, serial="S-2"),
                      django_capture_on_commit_callbacks)
    passport_suspend(actor=operator(), passport=suspended, reason="inspection")
    revoked = issue(battery_product(acme.organisation, serial="S-3"),
                    django_capture_on_commit_callbacks)
    passport_revoke(actor=operator(), passport=revoked, reason="stolen")
    replaced = battery_product(acme.organisation, serial="S-4")
    old = issue(replaced, django_capture_on_commit_callbacks)
    issue(replaced, django_capture_on_commit_callbacks)  # version 2 supersedes it
    untrusted = issue(battery_product(other.organisation, serial="O-1"),
                      django_capture_on_commit_callbacks)
    credentials = [p.jwt for p in (issued, suspended, revoked, old, untrusted)]
    credentials += [issued.restricted_credentials.first().jwt]

    read_ahead = [verify(anonymous, credential) for credential in credentials]
    settings.DATABASE_PREPARED_STATEMENTS = False
    asked_one_by_one = [verify(anonymous, credential) for credential in credentials]

    assert read_ahead == asked_one_by_one
    assert [v["verified"] for v in read_ahead] == [True, False, False, True, True, True]
    assert read_ahead[0]["issuer"]["trusted"] is True
    assert read_ahead[4]["issuer"]["trusted"] is False
    assert read_ahead[3]["superseded_by"]["version"] == 2
