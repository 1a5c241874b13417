"""Reads asked on every request of a hot path (an uncached verification's trust, status entry
and passport; the public page's rows), run as prepared statements on PostgreSQL through libpq.

Django binds parameters on the client and never prepares (`prepare_threshold` None, so that
transaction-mode connection poolers keep working): PostgreSQL then parses and plans each of
these joins on every request. Prepared, the database's own CPU per uncached verification fell
from ~1.3 ms to ~0.35 ms (docs/performance.md).

The statements go to libpq directly (psycopg's `PGconn.prepare` and `exec_prepared`), with
psycopg's own Transformer dumping the parameters and loading the rows: the same values, types
and errors as a psycopg cursor, without its per-execution machinery (~110 µs of Python per
query of the ~160 µs a cursor with `prepare=True` cost, measured per query in one process).
Each connection keeps its statements while it lives (DATABASE_CONN_MAX_AGE), one per text and
parameter types, as psycopg keys its own. A connection whose transaction psycopg has still to
BEGIN (autocommit off, nothing run yet) gets the query through a psycopg cursor, which BEGINs.

Behind a pooler in transaction mode that cannot carry prepared statements,
DATABASE_PREPARED_STATEMENTS=0 turns this off (the queries then run as Django runs them).
Elsewhere (SQLite) the queries go through Django's cursor. Either way the rows are the same;
Django's query log (tests' query counts, DEBUG's connection.queries) still sees every query,
and a database error is Django's (503 while the database is down, config/outages.py)."""

from __future__ import annotations

import contextlib
import contextvars
import hashlib
import time
import weakref
from collections.abc import Iterator, Sequence
from typing import NamedTuple

import psycopg
from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections
from psycopg import errors, pq
from psycopg.adapt import PyFormat, Transformer


class Query(NamedTuple):
    """A hot query: its text (psycopg's `%s` placeholders), parameters and number of columns."""

    sql: str
    params: tuple
    columns: int


def rows(sql: str, params: Sequence) -> list[tuple]:
    """Every row of `sql` with `params` (psycopg's `%s` placeholders), as tuples."""
    answered = _answered.get()
    if answered:  # asked ahead with others (asked_together)
        found = answered.pop((sql, tuple(params)), None)
        if found is not None:
            return found
    database = connections[DEFAULT_DB_ALIAS]  # the thread's own (one lookup, not one per use)
    if not _prepares(database):
        with database.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchall()
    logged = database.queries_logged
    started = time.monotonic() if logged else 0.0
    database.ensure_connection()
    with database.wrap_database_errors:  # psycopg's errors as Django's (503, not 500)
        found = _prepared_rows(database.connection, sql, params)
    if logged:
        database.queries_log.append({"sql": sql, "params": list(params),
                                     "time": f"{time.monotonic() - started:.3f}"})
    return found


def one(sql: str, params: Sequence) -> tuple | None:
    """The first row of `sql`, or None."""
    found = rows(sql, params)
    return found[0] if found else None


_answered: contextvars.ContextVar[dict | None] = contextvars.ContextVar("hot_answers",
                                                                      default=None)


@contextlib.contextmanager
def asked_together(queries: Sequence[Query]) -> Iterator[None]:
    """Ask `queries` in one statement (one round trip, one execution in PostgreSQL instead of
    one each): inside the block, `rows()` of each of them (the same text and parameters) is
    answered from that statement once; anything else is asked as usual. Each query's rows keep
    their order (see _joined).

    Only with prepared statements on PostgreSQL; elsewhere each query is asked when it is."""
    distinct = list(dict.fromkeys(queries))
    if len(distinct) < 2 or not _prepares(connections[DEFAULT_DB_ALIAS]):
        yield
        return
    found = rows(*_joined(distinct))
    answers = {(query.sql, query.params): [] for query in distinct}
    offsets = _offsets(distinct)
    for row in found:
        query, start = distinct[row[0]], offsets[row[0]]
        if row[start]:  # the query's own row, not the NULLs of the other branches
            answers[(query.sql, query.params)].append(row[start + 1:start + 1 + query.columns])
    token = _answered.set(answers)
    try:
        yield
    finally:
        _answered.reset(token)


def _prepares(database) -> bool:
    """Whether the hot reads run as prepared statements on `database` (see the module's doc)."""
    return database.vendor == "postgresql" and settings.DATABASE_PREPARED_STATEMENTS


def _offsets(queries: Sequence[Query]) -> list[int]:
    """Where each query's columns start in a row of the joined statement (after the branch
    number), each after a column that says whether the row is the query's own."""
    offsets, start = [], 1
    for query in queries:
        offsets.append(start)
        start += 1 + query.columns
    return offsets


def _joined(queries: Sequence[Query]) -> tuple[str, list]:
    """One statement for `queries`: a numbered branch per query, whose row(s) fill that query's
    columns (typed as the query types them) and leave the others NULL. (A UNION ALL would need
    the NULLs of the other branches' columns cast to their types.) PostgreSQL runs each query
    only in its own branch (a one-time filter on the branch number), its rows in their order."""
    numbers = ", ".join(f"({number})" for number in range(len(queries)))
    joins, params = [], []
    for number, query in enumerate(queries):
        joins.append(f"LEFT JOIN LATERAL (SELECT true, q.* FROM ({query.sql}) q "  # noqa: S608
                     f"WHERE branch.number = {number}) q{number} ON true")
        params.extend(query.params)
    columns = ", ".join(f"q{number}.*" for number in range(len(queries)))
    return (f"SELECT branch.number, {columns} "  # noqa: S608 - the queries are our own SQL
            f"FROM (VALUES {numbers}) branch(number) " + " ".join(joins)), params


class _Statements:
    """One connection's prepared statements and the Transformer that dumps and loads for it."""

    def __init__(self, raw):
        self.transformer = Transformer(raw)
        self.names: dict[tuple[str, tuple[int, ...]], bytes] = {}


_by_connection: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_IDLE = pq.TransactionStatus.IDLE
_TUPLES_OK, _COMMAND_OK = pq.ExecStatus.TUPLES_OK, pq.ExecStatus.COMMAND_OK


def _prepared_rows(raw, sql: str, params: Sequence) -> list[tuple]:
    pgconn = raw.pgconn
    if not raw.autocommit and pgconn.transaction_status == _IDLE:
        return _cursor_rows(raw, sql, params)  # psycopg BEGINs first, as Django expects
    statements = _by_connection.get(raw)
    if statements is None:
        statements = _by_connection[raw] = _Statements(raw)
    transformer = statements.transformer
    values = transformer.dump_sequence(params, [PyFormat.AUTO] * len(params))
    key = (sql, transformer.types)
    name = statements.names.get(key)
    if name is None:
        name = _name(key)
        _check(raw, pgconn.prepare(name, _numbered(sql).encode(), transformer.types))
        statements.names[key] = name
    result = pgconn.exec_prepared(name, values, transformer.formats)
    _check(raw, result)
    transformer.set_pgresult(result)
    return transformer.load_rows(0, result.ntuples, tuple)


def _check(raw, result) -> None:
    """Raise what a psycopg cursor raises for a result that is not rows."""
    status = result.status
    if status == _TUPLES_OK or status == _COMMAND_OK:
        return
    if raw.pgconn.status == pq.ConnStatus.BAD:  # the connection is gone: psycopg's `closed`
        raise psycopg.OperationalError(result.get_error_message(raw.info.encoding))
    if status == pq.ExecStatus.FATAL_ERROR:
        raise errors.error_from_result(result, encoding=raw.info.encoding)
    raise errors.InternalError(f"unexpected result status from query: {result.status}")


def _cursor_rows(raw, sql: str, params: Sequence) -> list[tuple]:
    with psycopg.Cursor(raw) as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _numbered(sql: str) -> str:
    """psycopg's `%s` placeholders as PostgreSQL's `$1, $2, ...`."""
    parts = sql.split("%s")
    if any("%" in part for part in parts):
        raise ValueError(f"a hot query holds only %s placeholders: {sql}")
    return "".join(f"{part}${n}" for n, part in enumerate(parts[:-1], 1)) + parts[-1]


def _name(key: tuple[str, tuple[int, ...]]) -> bytes:
    digest = hashlib.sha1(repr(key).encode(), usedforsecurity=False).hexdigest()
    return f"dpp_{digest[:24]}".encode()
