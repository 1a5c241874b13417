"""An uncached verification asks PostgreSQL three questions (the issuer's trust, the status
entry, the passport's state) as prepared statements (core/hot_queries.py): parsed and planned
once per connection, not on every request. The answers are the ones Django's cursor gives,
the queries still show in Django's query log, and DATABASE_PREPARED_STATEMENTS=0 (a pooler in
transaction mode) turns it off."""

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
    response = anonymous.post("/api/v1/verify/", {"credential": passport.jwt}, format="json")
    assert response.status_code == 200
    return response.json()


@pytest.fixture(autouse=True)
def _uncached(settings):
    settings.API_VERDICT_CACHE_SECONDS = 0


@postgres_only
def test_a_verification_asks_its_three_questions_as_prepared_statements(anonymous, passport):
    before = executions()
    with CaptureQueriesContext(connection) as queries:
        assert verify(anonymous, passport)["verified"] is True
    after = executions()

    for words in HOT:
        assert after[words] == before[words] + 1, words  # ran prepared
        assert any(words in query["sql"] for query in queries.captured_queries), words
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
