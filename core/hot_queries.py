"""Reads asked on every request of a hot path (an uncached verification's trust, status entry
and passport; the public page's rows), run as prepared statements on PostgreSQL.

Django binds parameters on the client and never prepares (`prepare_threshold` None, so that
transaction-mode connection poolers keep working): PostgreSQL then parses and plans each of
these joins on every request. Measured per uncached verification (bench/profile_verify.py and
docs/performance.md): the database's own CPU fell from ~1.3 ms to ~0.35 ms with the three
queries prepared, and the client's from ~0.8 to ~0.45 ms with psycopg's cursor called directly.

A statement is prepared on a connection the first time it is run there (psycopg keeps up to
100 per connection) and reused while the connection lives (DATABASE_CONN_MAX_AGE). Behind a
pooler in transaction mode that cannot carry prepared statements, DATABASE_PREPARED_STATEMENTS=0
turns this off (the queries then run as Django runs them). Elsewhere (SQLite) the queries go
through Django's cursor. Either way the rows are the same; Django's query log (tests' query
counts, DEBUG's connection.queries) still sees every query."""

from __future__ import annotations

import time
from collections.abc import Sequence

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections


def rows(sql: str, params: Sequence) -> list[tuple]:
    """Every row of `sql` with `params` (psycopg's `%s` placeholders), as tuples."""
    database = connections[DEFAULT_DB_ALIAS]  # the thread's own (one lookup, not one per use)
    if not (database.vendor == "postgresql" and settings.DATABASE_PREPARED_STATEMENTS):
        with database.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchall()
    import psycopg

    logged = database.queries_logged
    started = time.monotonic() if logged else 0.0
    database.ensure_connection()
    raw = database.connection
    if raw.prepare_threshold is None:
        raw.prepare_threshold = PREPARE_ON_REQUEST  # Django's own cursors never prepare
    with database.wrap_database_errors:  # psycopg's errors as Django's (503, not 500)
        with psycopg.Cursor(raw) as cursor:  # server-side binding: the one that prepares
            cursor.execute(sql, params, prepare=True)
            found = cursor.fetchall()
    if logged:
        database.queries_log.append({"sql": sql, "params": list(params),
                                     "time": f"{time.monotonic() - started:.3f}"})
    return found


def one(sql: str, params: Sequence) -> tuple | None:
    """The first row of `sql`, or None."""
    found = rows(sql, params)
    return found[0] if found else None


# A threshold the statements run with `prepare=True` pass at once; set on a connection only
# when it asks for none (Django's default), so a pooler-minded OPTIONS value stays as given.
PREPARE_ON_REQUEST = 0
