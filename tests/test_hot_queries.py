"""core/hot_queries.py runs the hot reads as prepared statements through libpq: the rows,
types and errors a psycopg cursor gives, inside the caller's transaction, and a database
that goes away mid-life is an OperationalError (503 upstream) after which the connection is
replaced, as with Django's own cursors."""

from __future__ import annotations

import datetime
import uuid

import pytest
from django.db import DEFAULT_DB_ALIAS, OperationalError, connection, connections, transaction

from core import hot_queries
from tests.support.environment import postgres_only

TYPED = ("SELECT %s::int, %s::text, %s::uuid, %s::bytea, %s::timestamptz, %s::bool, "
         "NULL::int, %s::jsonb")


@postgres_only
@pytest.mark.django_db
def test_rows_and_types_are_a_psycopg_cursors():
    params = [7, "naïve\u2028", uuid.uuid4(), b"\x00\xff", datetime.datetime(
        2026, 12, 7, 21, 0, tzinfo=datetime.UTC), True, '{"a": [1, 2]}']
    with connection.cursor() as cursor:
        cursor.execute(TYPED, params)
        expected = cursor.fetchall()

    assert hot_queries.rows(TYPED, params) == expected
    assert hot_queries.one(TYPED, params) == expected[0]
    big = 2**40  # another parameter type (int8): another statement, the same answer
    assert hot_queries.one("SELECT %s::bigint + 1", [big]) == (big + 1,)
    assert hot_queries.one("SELECT %s::bigint + 1", [1]) == (2,)


@postgres_only
@pytest.mark.django_db
def test_an_sql_error_is_djangos_and_leaves_the_connection_usable():
    from django.db import DataError

    with pytest.raises(DataError), transaction.atomic():
        hot_queries.one("SELECT %s::int", ["not a number"])
    assert hot_queries.one("SELECT %s::int", ["12"]) == (12,)


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_a_first_read_in_a_transaction_runs_inside_it():
    """Django leaves BEGIN to psycopg's next query; a read sent to libpq first would run
    outside the transaction (its own snapshot, its own now())."""
    with transaction.atomic():
        started = hot_queries.one("SELECT now()", [])[0]
        with connection.cursor() as cursor:
            cursor.execute("SELECT now()")
            assert cursor.fetchone()[0] == started  # one transaction, one start time


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_a_database_gone_mid_life_raises_operational_error_then_reconnects(tcp_proxy):
    default = connections[DEFAULT_DB_ALIAS]
    proxy = tcp_proxy(default.settings_dict["HOST"] or "127.0.0.1",
                      int(default.settings_dict["PORT"] or 5432))
    proxied = default.__class__({**default.settings_dict, "HOST": "127.0.0.1",
                                 "PORT": str(proxy.port)}, DEFAULT_DB_ALIAS)
    connections[DEFAULT_DB_ALIAS] = proxied
    try:
        assert hot_queries.one("SELECT %s::int", [1]) == (1,)  # prepared on this connection
        proxy.cut()
        with pytest.raises(OperationalError):
            hot_queries.one("SELECT %s::int", [2])
        assert not proxied.is_usable()  # so Django closes it when the request ends
        proxy.restore()
        proxied.close_if_unusable_or_obsolete()
        assert hot_queries.one("SELECT %s::int", [3]) == (3,)  # a new connection, prepared anew
    finally:
        proxied.close()
        connections[DEFAULT_DB_ALIAS] = default


ORDERED = hot_queries.Query("SELECT n, %s::text FROM generate_series(1, 5) n ORDER BY n DESC",
                            ("x",), 2)
EMPTY = hot_queries.Query("SELECT 1, %s::int WHERE %s::int < 0", (1, 2), 2)
TYPED_ROW = hot_queries.Query("SELECT %s::uuid, NULL::int, %s::bytea, true",
                              (uuid.UUID(int=7), b"\x01"), 4)


def alone(query: hot_queries.Query) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(query.sql, query.params)
        return cursor.fetchall()


@postgres_only
@pytest.mark.django_db
def test_queries_asked_together_get_their_own_rows_in_one_statement(
        django_assert_num_queries):
    expected = {query: alone(query) for query in (ORDERED, EMPTY, TYPED_ROW)}
    assert expected[ORDERED][0] == (5, "x") and expected[EMPTY] == []

    with django_assert_num_queries(1):  # the one statement; its answers cost no round trip
        with hot_queries.asked_together([ORDERED, EMPTY, TYPED_ROW, ORDERED]):
            for query in (TYPED_ROW, EMPTY, ORDERED):
                assert hot_queries.rows(query.sql, list(query.params)) == expected[query]
    with django_assert_num_queries(2):  # each answer serves once; outside, queries go as usual
        with hot_queries.asked_together([ORDERED, EMPTY]):
            assert hot_queries.rows(ORDERED.sql, ORDERED.params) == expected[ORDERED]
            assert hot_queries.rows(ORDERED.sql, ORDERED.params) == expected[ORDERED]
    with django_assert_num_queries(1):
        assert hot_queries.one(EMPTY.sql, EMPTY.params) is None


@postgres_only
@pytest.mark.django_db
def test_asked_together_without_prepared_statements_asks_each_when_asked(
        settings, django_assert_num_queries):
    settings.DATABASE_PREPARED_STATEMENTS = False
    expected = alone(ORDERED), alone(TYPED_ROW)
    with django_assert_num_queries(2), hot_queries.asked_together([ORDERED, TYPED_ROW]):
        assert hot_queries.rows(ORDERED.sql, ORDERED.params) == expected[0]
        assert hot_queries.rows(TYPED_ROW.sql, TYPED_ROW.params) == expected[1]
