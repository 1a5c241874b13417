"""Writing many rows at once, for the paths that write thousands (bulk import, issuance).

On PostgreSQL `bulk_insert` streams the rows with COPY and `bulk_update` sends one UPDATE
... FROM unnest(one array per column) per batch: both a fraction of the time of Django's
multi-row INSERT and of one UPDATE per row. The rows are the same either way: every field's
value goes through its own `pre_save` (auto_now_add, defaults) and `get_db_prep_save`, as
`bulk_create` does, and the database checks every constraint as for any INSERT or UPDATE.
Other databases (SQLite in the embedded mode) get Django's own `bulk_create` and
`executemany`."""

from __future__ import annotations

import time
from collections.abc import Sequence

from django.db import connections
from django.db.models import (
    AutoField,
    CharField,
    EmailField,
    Model,
    SlugField,
    TextField,
    URLField,
)

_PLAIN_TEXT = frozenset({CharField, TextField, URLField, SlugField, EmailField})
UPDATE_BATCH = 1000  # rows per UPDATE statement (one array parameter per column)


def bulk_insert(model: type[Model], objects: Sequence[Model]) -> list[Model]:
    """Insert `objects` (unsaved instances of `model`) and set their primary keys: what
    `model.objects.bulk_create(objects)` does, without signals (as bulk_create)."""
    if not objects:
        return list(objects)
    connection = connections[model.objects.db]
    if connection.vendor != "postgresql":
        return model.objects.bulk_create(objects, batch_size=UPDATE_BATCH)
    meta = model._meta
    pk = meta.pk
    if isinstance(pk, AutoField) or pk.get_internal_type() in ("BigAutoField", "SmallAutoField"):
        # COPY returns nothing: take the keys from the column's sequence first, in one query.
        with connection.cursor() as cursor:
            cursor.execute("SELECT nextval(pg_get_serial_sequence(%s, %s)) "
                           "FROM generate_series(1, %s)",
                           [meta.db_table, pk.column, len(objects)])
            for instance, (key,) in zip(objects, cursor.fetchall(), strict=True):
                setattr(instance, pk.attname, key)
    fields = [field for field in meta.concrete_fields if not field.generated]
    quote = connection.ops.quote_name
    columns = ", ".join(quote(field.column) for field in fields)
    # Text fields store a str as it is (their get_db_prep_save returns it unchanged): skipping
    # the call for them halves the preparation of a typical row.
    plain = [type(field) in _PLAIN_TEXT for field in fields]
    rows = []
    for instance in objects:
        row = []
        for field, as_is in zip(fields, plain, strict=True):
            value = field.pre_save(instance, True)
            row.append(value if as_is and type(value) is str
                       else field.get_db_prep_save(value, connection))
        rows.append(row)
    sql = f"COPY {quote(meta.db_table)} ({columns}) FROM STDIN"
    started = time.monotonic()
    # Django's error classes (IntegrityError, ...) for COPY as for any statement of its own.
    with connection.cursor() as cursor, connection.wrap_database_errors, \
            cursor.cursor.copy(sql) as copy:
        for row in rows:
            copy.write_row(row)
    if connection.queries_logged:  # counted like any statement (tests, the debug toolbar)
        connection.queries_log.append({"sql": f"{sql} ({len(rows)} rows)",
                                       "time": f"{time.monotonic() - started:.3f}"})
    for instance in objects:
        instance._state.adding = False
        instance._state.db = connection.alias
    return list(objects)


def bulk_update(model: type[Model], objects: Sequence[Model], names: Sequence[str]) -> None:
    """Write the fields `names` of every instance in `objects` (saved instances of `model`)
    by primary key: one statement per UPDATE_BATCH rows on PostgreSQL, else one UPDATE per
    row through executemany. Unlike Django's bulk_update no CASE per column and row, whose
    planning costs more than the rows' work."""
    if not objects:
        return
    meta = model._meta
    fields = [meta.get_field(name) for name in names]
    pk = meta.pk
    connection = connections[model.objects.db]
    quote = connection.ops.quote_name
    table, key = quote(meta.db_table), quote(pk.column)
    rows = [[field.get_db_prep_save(getattr(instance, field.attname), connection)
             for field in fields] + [pk.get_db_prep_value(instance.pk, connection)]
            for instance in objects]
    with connection.cursor() as cursor:
        if connection.vendor != "postgresql":
            assignments = ", ".join(f"{quote(field.column)} = %s" for field in fields)
            cursor.executemany(f"UPDATE {table} SET {assignments} "  # noqa: S608 - model names
                               f"WHERE {key} = %s", rows)
            return
        # One array per column, unnested into rows: the statement's text is the same for every
        # batch (psycopg parses it once; a VALUES list of one placeholder per value was parsed
        # again for each batch, and cost more than the rows). Typed arrays: unnest has no
        # column types of its own to infer them from.
        arrays = ", ".join(f"%b::{field.db_type(connection)}[]" for field in [*fields, pk])
        names_sql = ", ".join(f"c{number}" for number in range(len(fields)))
        assignments = ", ".join(f"{quote(field.column)} = v.c{number}"
                                for number, field in enumerate(fields))
        sql = (f"UPDATE {table} SET {assignments} FROM unnest({arrays}) "  # noqa: S608
               f"AS v({names_sql}, k) WHERE {table}.{key} = v.k")
        for start in range(0, len(rows), UPDATE_BATCH):
            execute_arrays(connection, sql, [list(column) for column in
                                             zip(*rows[start:start + UPDATE_BATCH], strict=True)])


def execute_arrays(connection, sql: str, arrays: list[list]) -> None:
    """Run `sql` on PostgreSQL with one `%b` parameter per list in `arrays`, each sent as a
    binary array (unnest them into rows). Django's cursors bind on the client: they write each
    array as a literal, which scans every element for characters to escape (~0.7 us per KB:
    more than the rest of a chunk's UPDATE for its JWTs). This one binds on the server, on the
    same connection and transaction; errors are Django's, the statement is logged as Django
    logs its own."""
    from psycopg import Cursor

    started = time.monotonic()
    with connection.cursor() as cursor, connection.wrap_database_errors, \
            Cursor(cursor.cursor.connection) as bound:
        bound.execute(sql, arrays)
    if connection.queries_logged:
        connection.queries_log.append({"sql": f"{sql} ({len(arrays[0])} rows)",
                                       "time": f"{time.monotonic() - started:.3f}"})
