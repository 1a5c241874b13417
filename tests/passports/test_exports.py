"""Exports from the admin: products in the bulk import's format (an export imports again as it
is, CSV or JSON), passports with their state and addresses; only what the staff may see."""

from __future__ import annotations

import csv
import io
import json

import pytest
from django.urls import reverse

from passports.models import Passport, Product
from passports.services.bulk_import import products_import
from passports.services.status import passport_revoke
from tests.support.factories import GTINS, organisation
from tests.support.public import issue, make_product
from wallet.tenancy.authority import operator

FIELDS = ["gtin", "lot", "serial", "name", "category", "country_of_production",
          "production_date", "attributes"]


def stored(product) -> str:
    """What is stored of a product, comparable across rows."""
    return json.dumps(Product.objects.filter(pk=product.pk).values(*FIELDS)[0], sort_keys=True,
                      default=str)


def export(client, model: str, action: str, objects):
    return client.post(reverse(f"admin:passports_{model}_changelist"),
                       {"action": action, "_selected_action": [o.pk for o in objects]})


@pytest.mark.parametrize("format", ["csv", "json"])
def test_an_export_of_products_imports_again_as_it_is(client, staff, acme, format):
    products = [make_product(acme, serial="SN-1"),
                make_product(acme, gtin=GTINS[1], serial="", lot="L-7", category="textile",
                             name="Shirt")]
    make_product(organisation("bolt"), gtin=GTINS[2])  # not Acme's: never exported
    before = {stored(product) for product in products}

    response = export(client, "product", f"export_{format}", Product.objects.all())
    assert response["Content-Disposition"] == f'attachment; filename="products.{format}"'
    Product.objects.filter(organisation=acme).delete()
    imported = products_import(organisation=acme, data=response.content, format=format,
                               actor=operator())

    assert {stored(product) for product in imported} == before


def test_a_product_cell_like_a_formula_is_kept_text_and_imports_as_it_was(client, staff, acme):
    product = make_product(acme, serial="SN-1")
    Product.objects.filter(pk=product.pk).update(name='=HYPERLINK("http://x")', lot="-7")
    before = stored(product)

    response = export(client, "product", "export_csv", [product])

    [row] = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert (row["name"], row["lot"]) == ("\'=HYPERLINK(\"http://x\")", "\'-7")
    Product.objects.filter(organisation=acme).delete()
    [imported] = products_import(organisation=acme, data=response.content, format="csv",
                                 actor=operator())
    assert stored(imported) == before


def test_passports_export_with_their_state_reason_and_addresses(client, staff, acme):
    first = issue(make_product(acme))
    passport_revoke(actor=operator(), passport=first, reason="Cell defect")
    other = issue(make_product(organisation("bolt"), gtin=GTINS[1]))

    as_csv = export(client, "passport", "export_csv", [first, other])
    as_json = export(client, "passport", "export_json", [first, other])

    rows = list(csv.DictReader(io.StringIO(as_csv.content.decode())))
    assert [(row["id"], row["state"], row["state_reason"]) for row in rows] == [
        (str(first.pk), "revoked", "Cell defect")]
    assert rows[0]["public_page"] == first.product.digital_link
    assert rows[0]["credential"] == Passport.objects.get(pk=first.pk).credential_url
    assert [item["id"] for item in json.loads(as_json.content)] == [str(first.pk)]
