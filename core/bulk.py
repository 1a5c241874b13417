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
import uuid
from collections.abc import Iterable, Sequence
from datetime import date
from decimal import Decimal
from itertools import repeat

from django.db import connections
from django.db.models import (
    AutoField,
    BigAutoField,
    BigIntegerField,
    BooleanField,
    CharField,
    DateField,
    EmailField,
    F,
    Field,
    ForeignKey,
    IntegerField,
    Model,
    PositiveBigIntegerField,
    PositiveIntegerField,
    PositiveSmallIntegerField,
    SlugField,
    SmallAutoField,
    SmallIntegerField,
    TextField,
    URLField,
    UUIDField,
)
from django.db.models.lookups import In

_MISSING = object()
_PLAIN_TEXT = frozenset({CharField, TextField, URLField, SlugField, EmailField})
UPDATE_BATCH = 1000  # rows per UPDATE statement (one array parameter per column)


def instances(model: type[Model], rows: Iterable[dict]) -> list[Model]:
    """`model(**row)` for each row, unsaved, through __init__'s positional path (each concrete
    field's value in order, no descriptor per keyword): a field a row does not name takes its
    default, as __init__ gives it (a callable default is called per row). Keys are attribute
    names: `product_id`, not `product`. Several times cheaper than keywords, for the paths
    that make thousands of rows to insert."""
    fields = model._meta.concrete_fields
    return [model(*[row[field.attname] if field.attname in row else field.get_default()
                    for field in fields]) for row in rows]


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
        for instance, key in zip(objects, next_keys(model, len(objects)), strict=True):
            setattr(instance, pk.attname, key)
    fields = [field for field in meta.concrete_fields if not field.generated]
    quote = connection.ops.quote_name
    columns = ", ".join(quote(field.column) for field in fields)
    # Each field's value goes through its own pre_save and get_db_prep_save, except where
    # they return the value unchanged (_as_is): fields that save what the instance holds, with
    # a value of the one type their preparation passes through as it is.
    plan = [(field, field.attname, _as_is(field)) for field in fields]
    rows = []
    for instance in objects:
        values = instance.__dict__
        row = []
        for field, attname, as_is in plan:
            if as_is is not None:
                value = values.get(attname, _MISSING)  # deferred: ask the field
                if type(value) is as_is or value is None:
                    row.append(value)
                    continue
            row.append(field.get_db_prep_save(field.pre_save(instance, True), connection))
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


def insert_rows(model: type[Model], rows: Sequence[dict]) -> None:
    """Insert `rows` (attribute names to values, as `instances` takes them; every row names
    the same fields) when the caller needs neither instances nor keys back: on PostgreSQL
    column by column through COPY (`copy_columns`), no model instance per row (a Django
    instance costs ~15 µs, more than its row's share of the COPY); elsewhere `bulk_insert`.
    The rows are the same: each value goes through its field's `get_db_prep_save`."""
    if not rows:
        return
    connection = connections[model.objects.db]
    if connection.vendor != "postgresql":
        bulk_insert(model, instances(model, rows))
        return
    meta = model._meta
    columns = {}
    for name in rows[0]:
        field = meta.get_field(name)
        values = [row[name] for row in rows]
        first = values[0]
        if all(value is first for value in values):  # one object for all: written once
            columns[name] = field_copy_text(field, first, connection)
        else:
            columns[name] = field_copy_texts(field, values, connection)
    copy_columns(model, len(rows), columns)


def next_keys(model: type[Model], count: int) -> list[int]:
    """`count` new keys of `model`'s automatic primary key, from its sequence (PostgreSQL), in
    one query: for rows written by COPY, which returns nothing."""
    meta = model._meta
    with connections[model.objects.db].cursor() as cursor:
        cursor.execute(NEXT_KEYS, [meta.db_table, meta.pk.column, count])
        return [key for (key,) in cursor.fetchall()]


# The sequence's name is looked up once, in a subquery (an InitPlan): as a plain argument of
# nextval, pg_get_serial_sequence (stable, not immutable) ran again for every key, a catalog
# look-up that cost 7 times the nextval itself (~37 of ~42 ms for 10,000 keys).
NEXT_KEYS = ("SELECT nextval((SELECT pg_get_serial_sequence(%s, %s))::regclass) "
             "FROM generate_series(1, %s)")


def _as_is(field) -> type | None:
    """The type of value that `field`'s pre_save and get_db_prep_save (on PostgreSQL, with
    psycopg 3) return unchanged, or None: text for text fields, int for integer fields and
    keys to them, UUID, date; and None (NULL) for these (not for JSON, which has no type
    here: its None is not SQL's NULL)."""
    if type(field).pre_save is not Field.pre_save:  # auto_now and the like set the value
        return None
    target = field.target_field if isinstance(field, ForeignKey) else field
    if type(target) in _PLAIN_TEXT:
        return str
    if isinstance(target, _INTEGERS) and not isinstance(target, BooleanField):
        return int
    if isinstance(target, UUIDField):
        return uuid.UUID
    if type(target) is DateField:
        return date
    return None


_INTEGERS = (IntegerField, BigIntegerField, SmallIntegerField, PositiveIntegerField,
             PositiveSmallIntegerField, PositiveBigIntegerField, AutoField, BigAutoField,
             SmallAutoField)


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


def execute_arrays(connection, sql: str, arrays: list[list]) -> list[tuple]:
    """Run `sql` on PostgreSQL with one `%b` parameter per list in `arrays`, each sent as a
    binary array (unnest them into rows). Django's cursors bind on the client: they write each
    array as a literal, which scans every element for characters to escape (~0.7 us per KB:
    more than the rest of a chunk's UPDATE for its JWTs). This one binds on the server, on the
    same connection and transaction; errors are Django's, the statement is logged as Django
    logs its own. Returns the rows it selected, if any."""
    from psycopg import Cursor

    started = time.monotonic()
    with connection.cursor() as cursor, connection.wrap_database_errors, \
            Cursor(cursor.cursor.connection) as bound:
        bound.execute(sql, arrays)
        rows = bound.fetchall() if bound.description else []
    if connection.queries_logged:
        connection.queries_log.append({"sql": f"{sql} ({len(arrays[0])} rows)",
                                       "time": f"{time.monotonic() - started:.3f}"})
    return rows


def copy_text(value) -> str:
    """`value` in COPY's text format, as psycopg sends it (None is NULL): text, integers,
    booleans, UUIDs, dates and times, Decimal; TypeError for anything else."""
    if value is None:
        return "\\N"
    kind = type(value)
    if isinstance(value, str):  # str.__str__: a str subclass's text (TextChoices)
        return copy_escape(value if kind is str else str.__str__(value))
    if kind is bool:
        return "t" if value else "f"
    if isinstance(value, int | uuid.UUID | Decimal):  # int: psycopg's Int2 and the like too
        return str(int(value)) if isinstance(value, int) else str(value)
    if isinstance(value, date):  # datetime too
        return value.isoformat()
    raise TypeError(f"no COPY text for {kind.__name__}")


def field_copy_text(field: Field, value, connection) -> str:
    """`value` of `field` in COPY text, as `bulk_insert` would send it (get_db_prep_save)."""
    return field_copy_texts(field, [value], connection)[0]


def field_copy_texts(field: Field, values: Iterable, connection) -> list[str]:
    """`field_copy_text` of each of `values`."""
    as_is = _as_is(field)
    texts = []
    for value in values:
        if as_is is None or not (type(value) is as_is or value is None):  # see bulk_insert
            value = field.get_db_prep_save(value, connection)
        if hasattr(value, "obj") and hasattr(value, "dumps"):  # psycopg's Json(b): its dumps
            value = value.dumps(value.obj)
        texts.append(copy_text(value))
    return texts


def copy_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("\n", "\\n").replace("\r", "\\r") \
        .replace("\t", "\\t")


def copy_columns(model: type[Model], count: int, columns: dict[str, Sequence[str] | str]) -> None:
    """COPY `count` new rows of `model` given column by column, on PostgreSQL: for callers that
    check and normalise a file column by column (each distinct value once), so that no model
    instance is made per row. `columns` maps a field's attname to its `count` values in COPY
    text (`copy_text`), or to one text for every row. A field not named gets what a new
    instance's `pre_save` and `get_db_prep_save` give (its default, auto_now): the same value
    for every row, so a field with a callable default (a UUID key) must be named; an automatic
    primary key not named is left to its sequence. Errors are Django's, as for bulk_insert."""
    connection = connections[model.objects.db]
    meta = model._meta
    template = model()
    names, texts = [], []
    for field in meta.concrete_fields:
        if field.generated:
            continue
        given = columns.get(field.attname, _MISSING)
        if given is _MISSING:
            if field.primary_key and isinstance(field, AutoField | BigAutoField | SmallAutoField):
                continue
            if field.has_default() and callable(field.default):
                raise ValueError(f"{meta.label}.{field.attname} has a default per row: name it")
            given = field_copy_text(field, field.pre_save(template, True), connection)
        if isinstance(given, str):
            given = repeat(given, count)
        elif len(given) != count:
            raise ValueError(f"{meta.label}.{field.attname}: {len(given)} values, not {count}")
        names.append(connection.ops.quote_name(field.column))
        texts.append(given)
    sql = f"COPY {connection.ops.quote_name(meta.db_table)} ({', '.join(names)}) FROM STDIN"
    started = time.monotonic()
    join = "\t".join
    lines = [join(row) for row in zip(*texts, strict=True)]
    with connection.cursor() as cursor, connection.wrap_database_errors, \
            cursor.cursor.copy(sql) as copy:
        for start in range(0, len(lines), COPY_LINES):
            copy.write("\n".join(lines[start:start + COPY_LINES]) + "\n")
    if connection.queries_logged:
        connection.queries_log.append({"sql": f"{sql} ({count} rows)",
                                       "time": f"{time.monotonic() - started:.3f}"})


COPY_LINES = 2000  # rows per write of copy_columns


def any_of(name: str, values: Iterable) -> In:
    """A filter, `name IN values`, for the long lists of the bulk paths (hundreds of keys):
    `.filter(any_of("pk", keys))`. On PostgreSQL it is sent as `name = ANY(array)`, one
    parameter: psycopg binds on the client and parses a statement of more than 50
    placeholders anew each time (~1.7 ms for 500 keys, more than the database's own work for
    a small batch). The array has the column's type, so PostgreSQL plans both forms alike (an
    IN list is a `= ANY` to its planner); elsewhere it is Django's own IN."""
    return _AnyOf(F(name), list(values))


class _AnyOf(In):
    def as_postgresql(self, compiler, connection):
        if not self.rhs_is_direct_value():
            return self.as_sql(compiler, connection)
        lhs, lhs_params = self.process_lhs(compiler, connection)
        _placeholders, values = self.process_rhs(compiler, connection)  # NULLs and repeats gone
        # Typed as the column: psycopg would type small integers int2[], and a bigint column
        # compared with int2[] was scanned row by row, each row against the whole array.
        column_type = self.lhs.output_field.db_type(connection)
        return f"{lhs} = ANY(%s::{column_type}[])", (*lhs_params, list(values))
