"""The statements of the request path stay index lookups however many passports there are
(bench/scale.py: at most 1.2x slower at 1,000,000 passports than at 10,000). They run as
prepared statements (core/hot_queries.py), and after five executions PostgreSQL may keep a
generic plan, made without the parameters' values: that is the plan checked here, with the
tables filled far beyond the handful of rows where a sequential scan is the cheaper plan."""

import datetime
import json
import re
import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from passports.views import _rows_sql
from tests.support.environment import postgres_only

FILLER = 20_000
BIG_TABLES = {"passports_passport", "passports_product", "passports_passportevent"}
TYPES = {int: "integer", str: "text", uuid.UUID: "uuid", datetime.datetime: "timestamptz"}


@pytest.fixture(autouse=True)
def _uncached(settings):
    settings.API_VERDICT_CACHE_SECONDS = 0


def fill(product) -> None:
    """FILLER more products, each with an issued passport and its event (what grows with
    the passports issued), then ANALYZE, as autovacuum would by then."""
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO passports_product (organisation_id, gtin, lot, serial, name, "
            "description, category, category_version, facility_name, facility_id, "
            "country_of_production, attributes, created_at, updated_at) "
            "SELECT %s, %s, '', 'F' || n, 'filler', '', %s, %s, '', '', 'NL', %s::jsonb, "
            "now(), now() FROM generate_series(1, %s) AS n",
            [product.organisation_id, product.gtin, product.category,
             product.category_version, json.dumps(product.attributes), FILLER])
        cursor.execute(
            "INSERT INTO passports_passport (id, product_id, version, state, state_reason, jwt, "
            "attempts, issued_at, created_at, updated_at) "
            "SELECT gen_random_uuid(), id, 1, 'issued', '', 'filler', 1, now(), now(), now() "
            "FROM passports_product WHERE serial LIKE 'F%%'")
        cursor.execute(
            "INSERT INTO passports_passportevent (passport_id, action, from_state, to_state, "
            "reason, details, created_at) SELECT id, 'issued', 'pending', 'issued', '', '{}', "
            "now() FROM passports_passport WHERE jwt = 'filler'")
        for table in BIG_TABLES:
            cursor.execute(f"ANALYZE {table}")


def generic_plan(sql: str, params: list) -> dict:
    """EXPLAIN of `sql` (psycopg's %s placeholders) as the generic plan of a prepared
    statement."""
    numbered = iter(range(1, len(params) + 1))
    prepared = re.sub(r"%s", lambda _: f"${next(numbered)}", sql)
    types = ", ".join(TYPES[type(value)] for value in params)
    with connection.cursor() as cursor:
        cursor.execute(f"PREPARE hot_plan_check ({types}) AS {prepared}")
        try:
            cursor.execute("SET LOCAL plan_cache_mode = force_generic_plan")
            placeholders = ", ".join("%s" for _ in params)
            cursor.execute(f"EXPLAIN (FORMAT JSON) EXECUTE hot_plan_check ({placeholders})",
                           params)
            (plan,), = cursor.fetchall()
        finally:
            cursor.execute("DEALLOCATE hot_plan_check")
    plan = json.loads(plan) if isinstance(plan, str) else plan
    return plan[0]["Plan"]


def nodes(plan: dict):
    yield plan
    for child in plan.get("Plans", []):
        yield from nodes(child)


@postgres_only
@pytest.mark.django_db
def test_the_hot_statements_generic_plans_are_index_lookups_on_big_tables(anonymous, passport):
    fill(passport.product)
    with CaptureQueriesContext(connection) as queries:
        response = anonymous.post("/api/v1/verify/", {"credential": passport.jwt},
                                  format="json")
    assert response.json()["verified"] is True
    statements = [(query["sql"], query["params"]) for query in queries.captured_queries
                  if query.get("params") is not None]
    # trust, status entry and passport state: one statement (core.hot_queries.asked_together)
    assert statements
    sql, order = _rows_sql()
    keys = (passport.product.gtin, passport.product.lot, passport.product.serial)
    statements.append((sql, [keys[index] for index in order]))  # the page's rows

    for sql, params in statements:  # each as hot_queries prepares it
        plan = generic_plan(sql, params)
        scanned = {node.get("Relation Name") for node in nodes(plan)
                   if node["Node Type"] == "Seq Scan"}
        assert not scanned & BIG_TABLES, (sql, scanned)
        # a few index pages each (the verify's joined statement: ~72, the page's rows: ~17)
        assert plan["Total Cost"] < 100, (sql, plan["Total Cost"])
