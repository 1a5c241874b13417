"""core.bulk's tools for the bulk status changes (issue #20): `any_of` finds what Django's IN
finds, with one parameter however long the list on PostgreSQL (psycopg parses a statement of
more than 50 placeholders anew each time); `insert_rows` writes the rows `bulk_insert` writes,
without a model instance per row."""

import json
import uuid

import pytest
from django.db import connection

from core.bulk import any_of, bulk_insert, insert_rows, instances
from passports.models import Passport, PassportEvent, Product
from passports.services.issuance import first_passports_request
from tests.support.factories import organisation, staff_member
from tests.support.public import make_product
from wallet.tenancy.authority import operator


@pytest.fixture
def products(db):
    acme, other = organisation("acme"), organisation("other")
    return ([make_product(acme, serial=f"A-{n}") for n in range(4)]
            + [make_product(other, serial="O-1")])


def keys(queryset) -> list:
    return sorted(queryset.values_list("pk", flat=True), key=str)


def test_any_of_finds_what_in_finds(products):
    asked = [products[0].pk, products[2].pk, products[2].pk, None, 10**9]  # a repeat, a NULL

    assert keys(Product.objects.filter(any_of("pk", asked))) == \
        keys(Product.objects.filter(pk__in=asked)) == sorted([products[0].pk, products[2].pk])
    assert not Product.objects.filter(any_of("pk", [])).exists()
    assert not Product.objects.filter(any_of("pk", [None])).exists()


def test_any_of_finds_uuid_keys_and_follows_relations(products):
    ids = first_passports_request(products=products, actor=operator())
    asked = [ids[0], str(ids[1]), uuid.uuid4()]  # UUIDs as objects and as text

    assert keys(Passport.objects.filter(any_of("pk", asked))) == sorted(ids[:2], key=str)
    acme = products[0].organisation_id
    assert keys(Passport.objects.filter(any_of("product__organisation", [acme]))) == \
        sorted(ids[:4], key=str)
    assert keys(Passport.objects.exclude(any_of("pk", ids[1:]))) == [ids[0]]


def test_any_of_is_one_parameter_whatever_the_length_on_postgresql(products):
    if connection.vendor != "postgresql":
        pytest.skip("Django's own IN elsewhere")
    short = Product.objects.filter(any_of("pk", range(3))).query.sql_with_params()
    long = Product.objects.filter(any_of("pk", range(500))).query.sql_with_params()

    assert short[0] == long[0]  # one statement text: psycopg parses it once
    assert [len(params) for _, params in (short, long)] == [1, 1]


def test_insert_rows_writes_what_bulk_insert_writes(products):
    ids = first_passports_request(products=products[:2], actor=operator())
    person = staff_member(products[0].organisation, "acme-staff")
    odd = 'tab\there, new\nline, back\\slash, quote " and ü'
    rows = [{"passport_id": ids[0], "action": "revoked", "from_state": "issued",
             "to_state": "revoked", "actor_id": person.pk, "reason": odd,
             "details": {"authority": "mandate", "status_index": 7, "note": odd}},
            {"passport_id": ids[1], "action": "revoked", "from_state": "suspended",
             "to_state": "revoked", "actor_id": None, "reason": "",
             "details": {"nested": [1, None, {"x": 1.5}]}}]
    fields = ("passport_id", "action", "from_state", "to_state", "actor_id", "reason",
              "details")
    PassportEvent.objects.filter(passport__in=ids).delete()

    insert_rows(PassportEvent, rows)
    written = list(PassportEvent.objects.filter(passport__in=ids).order_by("reason")
                   .values_list(*fields, "created_at"))
    PassportEvent.objects.filter(passport__in=ids).delete()
    bulk_insert(PassportEvent, instances(PassportEvent, rows))
    reference = list(PassportEvent.objects.filter(passport__in=ids).order_by("reason")
                     .values_list(*fields, "created_at"))

    assert [row[:-1] for row in written] == [row[:-1] for row in reference]
    assert all(row[-1] is not None for row in written)  # auto_now_add, as for any insert


def test_insert_rows_writes_one_shared_value_on_every_row(products):
    ids = first_passports_request(products=products, actor=operator())
    details = {"authority": "operator"}  # one object for all rows: converted once
    PassportEvent.objects.filter(passport__in=ids).delete()

    insert_rows(PassportEvent, [{"passport_id": pk, "action": "suspended", "from_state": "issued",
                                 "to_state": "suspended", "reason": "recall",
                                 "details": details} for pk in ids])

    assert set(PassportEvent.objects.filter(passport__in=ids)
               .values_list("passport_id", "reason")) == {(pk, "recall") for pk in ids}
    assert all(event.details == details
               for event in PassportEvent.objects.filter(passport__in=ids))


def plan(queryset) -> list[str]:
    """The nodes of PostgreSQL's plan for `queryset`, outermost first, with their indexes and
    estimated costs (a filter against an array of another type is not hashed: the same nodes,
    each row compared with every key, at a higher cost)."""
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}", params)
        found = cursor.fetchone()[0]
    nodes, pending = [], [(found if isinstance(found, list) else json.loads(found))[0]["Plan"]]
    while pending:
        node = pending.pop(0)
        nodes.append(f"{node['Node Type']} {node.get('Index Name', '')} {node['Total Cost']}")
        pending += node.get("Plans", [])
    return nodes


def test_any_of_is_planned_as_in_is(products):
    if connection.vendor != "postgresql":
        pytest.skip("Django's own IN elsewhere")
    with connection.cursor() as cursor:  # enough rows that a bad plan is not the cheap one
        cursor.execute(
            "INSERT INTO passports_product (organisation_id, gtin, lot, serial, name, "
            "description, category, category_version, facility_name, facility_id, "
            "country_of_production, attributes, created_at, updated_at) "
            "SELECT %s, %s, '', 'F' || n, 'filler', '', 'generic', %s, '', '', 'NL', '{}', "
            "now(), now() FROM generate_series(1, 20000) AS n",
            [products[0].organisation_id, products[0].gtin, products[0].category_version])
        cursor.execute("ANALYZE passports_product")
    keys = list(Product.objects.values_list("pk", flat=True)[:2000])  # small integers

    assert plan(Product.objects.filter(any_of("pk", keys))) == \
        plan(Product.objects.filter(pk__in=keys))
