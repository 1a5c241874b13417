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

pytestmark = postgres_only
TYPED = ("SELECT %s::int, %s::text, %s::uuid, %s::bytea, %s::timestamptz, %s::bool, "
         "NULL::int, %s::jsonb")


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


@pytest.mark.django_db
def test_an_sql_error_is_djangos_and_leaves_the_connection_usable():
    from django.db import DataError

    with pytest.raises(DataError), transaction.atomic():
        hot_queries.one("SELECT %s::int", ["not a number"])
    assert hot_queries.one("SELECT %s::int", ["12"]) == (12,)


@pytest.mark.django_db(transaction=True)
def test_a_first_read_in_a_transaction_runs_inside_it():
    """Django leaves BEGIN to psycopg's next query; a read sent to libpq first would run
    outside the transaction (its own snapshot, its own now())."""
    with transaction.atomic():
        started = hot_queries.one("SELECT now()", [])[0]
        with connection.cursor() as cursor:
            cursor.execute("SELECT now()")
            assert cursor.fetchone()[0] == started  # one transaction, one start time


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
