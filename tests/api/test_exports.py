"""Exports of the organisation's own data (passports/services/exports.py, /api/v1/exports/):
streamed CSV and JSON, keyset pages, only the organisation's own rows, clear errors."""

from __future__ import annotations

import csv
import io
import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from passports.models import Product
from passports.services.exports import CHUNK_ROWS
from passports.services.status import passport_revoke
from tests.support.api import battery_product, party
from tests.support.factories import organisation
from wallet.tenancy.authority import operator


def body(response) -> str:
    assert response.streaming
    return b"".join(response.streaming_content).decode()


def test_products_as_csv_and_json_are_the_organisations_own(acme, other, product):
    battery_product(other.organisation, serial="OTHER-1")

    as_csv = acme.client.get("/api/v1/exports/products.csv")
    as_json = acme.client.get("/api/v1/exports/products.json")

    assert as_csv.status_code == 200 and as_csv["Content-Type"] == "text/csv; charset=utf-8"
    rows = list(csv.DictReader(io.StringIO(body(as_csv))))
    assert [row["serial"] for row in rows] == ["SN-0001"]
    assert rows[0]["gtin"] == "09506000134352"
    assert rows[0]["digital_link"].endswith("/01/09506000134352/21/SN-0001")
    items = json.loads(body(as_json))
    assert [item["id"] for item in items] == [product.pk]
    assert "Link" not in as_json


def test_passports_and_their_events(acme, recycle, passport):
    passport_revoke(actor=operator(), passport=passport, reason="Cell defect")

    passports = json.loads(body(acme.client.get("/api/v1/exports/passports.json")))
    events = list(csv.DictReader(io.StringIO(body(
        acme.client.get("/api/v1/exports/events.csv")))))

    assert [(p["id"], p["state"], p["state_reason"]) for p in passports] == [
        (str(passport.pk), "revoked", "Cell defect")]
    assert [event["action"] for event in events][-1] == "revoked"
    assert {event["passport_id"] for event in events} == {str(passport.pk)}
    # An entitled partner reads acme's passports in the API, but exports only its own data.
    assert json.loads(body(recycle.client.get("/api/v1/exports/passports.json"))) == []
    assert body(recycle.client.get("/api/v1/exports/events.csv")).strip() == (
        "id,passport_id,product_id,gtin,serial,action,from_state,to_state,reason,created_at")


def test_pages_follow_the_cursor_without_gaps_or_repeats(acme):
    products = [battery_product(acme.organisation, serial=f"SN-{n:04d}") for n in range(7)]

    seen, url, pages = [], "/api/v1/exports/products.json?limit=3", 0
    while url:
        response = acme.client.get(url)
        seen += [item["id"] for item in json.loads(body(response))]
        pages += 1
        url = response.get("Link", "").partition("<")[2].partition(">")[0] or None
    assert seen == [p.pk for p in products]
    assert pages == 3


def test_a_large_export_is_read_in_chunks(acme, settings):
    organisation_products = [Product(organisation=acme.organisation, gtin="09506000134352",
                                     serial=f"S{n:05d}", name="Pack", category="battery")
                             for n in range(CHUNK_ROWS * 2 + 1)]
    Product.objects.bulk_create(organisation_products)

    response = acme.client.get("/api/v1/exports/products.csv")
    with CaptureQueriesContext(connection) as queries:
        chunks = list(response.streaming_content)

    assert len(chunks) >= 3  # streamed: not one string built in memory
    lines = b"".join(chunks).decode().splitlines()
    assert len(lines) == CHUNK_ROWS * 2 + 2  # and the header
    if connection.vendor == "postgresql":  # a server-side cursor
        assert sum("DECLARE" in q["sql"] or "FETCH" in q["sql"]
                   for q in queries.captured_queries) >= 1


def test_a_cell_like_a_formula_is_kept_text(acme):
    battery_product(acme.organisation, serial="SN-1").__class__.objects.filter(
        serial="SN-1").update(name="=HYPERLINK(\"http://x\")")
    rows = list(csv.DictReader(io.StringIO(body(acme.client.get(
        "/api/v1/exports/products.csv")))))
    assert rows[0]["name"].startswith("'=")


@pytest.mark.parametrize(("url", "code"), [
    ("/api/v1/exports/products.xml", "unknown_format"),
    ("/api/v1/exports/products.csv?limit=0", "invalid_limit"),
    ("/api/v1/exports/products.csv?limit=many", "invalid_limit"),
    ("/api/v1/exports/passports.json?after=not-a-uuid", "invalid_cursor"),
    ("/api/v1/exports/events.json?after=x", "invalid_cursor"),
])
def test_bad_requests_get_a_problem(acme, url, code):
    response = acme.client.get(url)
    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["code"] == code


def test_a_key_without_the_scope_is_refused(db):
    reader = party(organisation("reader", "Reader B.V."), scopes=["passports:read"])
    assert reader.client.get("/api/v1/exports/products.csv").status_code == 403
    assert reader.client.get("/api/v1/exports/passports.csv").status_code == 200
    from rest_framework.test import APIClient
    assert APIClient().get("/api/v1/exports/passports.csv").status_code == 401
