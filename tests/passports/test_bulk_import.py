"""Bulk import: CSV and JSON, all or nothing per file, every error named by row and column."""

import csv
import gc
import io
import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from passports import categories, gs1
from passports.models import Passport, Product
from passports.services.bulk_import import (
    ImportFailed,
    errors_csv,
    import_template,
    products_check,
    products_import,
)
from passports.services.products import PRODUCT_FIELDS, product_create
from tests.support.factories import GTINS, battery_attributes, required_attributes
from wallet.tenancy.authority import operator

BATTERY = battery_attributes()
COLUMNS = ["gtin", "lot", "serial", "name", "category", "country_of_production",
           "production_date", *BATTERY]


def battery_row(serial: str, **overrides) -> dict:
    return {"gtin": GTINS[0], "lot": "", "serial": serial, "name": "Li-ion pack",
            "category": "battery", "country_of_production": "NL",
            "production_date": "2025-01-15", **{k: str(v) for k, v in BATTERY.items()},
            **overrides}


def to_csv(rows: list[dict], delimiter: str = ",") -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]), delimiter=delimiter)
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode()


def test_a_good_csv_imports_every_row_with_typed_attributes(acme):
    rows = [battery_row(f"SN-{n}") for n in range(1, 4)]
    rows[0]["ratedCapacity"] = "50"

    products = products_import(actor=operator(), organisation=acme, data=to_csv(rows), format="csv")

    assert len(products) == 3
    stored = Product.objects.get(serial="SN-1")
    assert stored.organisation == acme
    assert stored.attributes["ratedCapacity"] == 50  # the CSV text became an integer
    assert stored.attributes["batteryMass"] == 12.5
    assert stored.production_date.isoformat() == "2025-01-15"


def test_semicolon_separated_csv_with_a_bom_and_trailing_empty_rows(acme):
    data = b"\xef\xbb\xbf" + to_csv([battery_row("SN-1"), battery_row("SN-2")], ";")
    data += b";" * (len(battery_row("x")) - 1) + b"\r\n"

    assert len(products_import(actor=operator(), organisation=acme, data=data, format="csv")) == 2


def test_one_bad_cell_in_row_3_imports_nothing_and_names_row_and_column(acme):
    rows = [battery_row(f"SN-{n}") for n in range(1, 6)]
    rows[2]["ratedCapacity"] = "lots"

    with pytest.raises(ImportFailed) as failed:
        products_import(actor=operator(), organisation=acme, data=to_csv(rows), format="csv")

    assert len(failed.value.errors) == 1
    error = failed.value.errors[0]
    assert (error["row"], error["column"]) == (3, "ratedCapacity")
    assert "integer" in error["error"]
    assert not Product.objects.exists()


def test_errors_of_several_rows_are_all_reported(acme):
    rows = [battery_row("SN-1", gtin="4006381333932"), battery_row("SN-2"),
            battery_row("SN 3", batteryMass="")]

    with pytest.raises(ImportFailed) as failed:
        products_import(actor=operator(), organisation=acme, data=to_csv(rows), format="csv")

    assert sorted((e["row"], e["column"]) for e in failed.value.errors) == [
        (1, "gtin"), (3, "batteryMass"), (3, "serial")]


def test_a_gs1_key_twice_in_the_file_is_refused(acme):
    # The same GTIN written as GTIN-14 and GTIN-13 is the same key.
    rows = [battery_row("SN-1"), battery_row("SN-2"), battery_row("SN-1", gtin=GTINS[0][1:])]

    with pytest.raises(ImportFailed) as failed:
        products_import(actor=operator(), organisation=acme, data=to_csv(rows), format="csv")

    assert failed.value.errors == [
        {"row": 3, "column": "gtin", "error": "The same GTIN, lot and serial as row 1."}]
    assert not Product.objects.exists()


def test_a_gs1_key_already_stored_is_refused(acme):
    product_create(organisation=acme, gtin=GTINS[0], serial="SN-2", name="Existing",
                   category="battery", attributes=BATTERY)
    rows = [battery_row("SN-1"), battery_row("SN-2"), battery_row("SN-3")]

    with pytest.raises(ImportFailed) as failed:
        products_import(actor=operator(), organisation=acme, data=to_csv(rows), format="csv")

    assert [(e["row"], e["column"]) for e in failed.value.errors] == [(2, "gtin")]
    assert "already exists" in failed.value.errors[0]["error"]
    assert Product.objects.count() == 1


def test_a_json_list_imports_with_typed_values(acme):
    rows = [{**battery_row("SN-1"), **BATTERY, "ratedCapacity": 50},
            {"gtin": GTINS[1], "name": "T-shirt", "category": "textile",
             "fibreComposition": "100% cotton", "recycledContentShare": 20.5}]

    products = products_import(actor=operator(), organisation=acme, data=json.dumps(rows).encode(),
                               format="json")

    assert [p.category for p in products] == ["battery", "textile"]
    assert Product.objects.get(category="textile").attributes == {
        "fibreComposition": "100% cotton", "recycledContentShare": 20.5}


def test_a_bad_json_value_names_its_row_and_column(acme):
    rows = [battery_row("SN-1"), {**battery_row("SN-2"), "name": ["not", "text"]},
            {**battery_row("SN-3"), "colour": "red"}]

    with pytest.raises(ImportFailed) as failed:
        products_import(actor=operator(), organisation=acme, data=json.dumps(rows), format="json")

    assert [(e["row"], e["column"]) for e in failed.value.errors] == [
        (2, "name"), (3, "colour")]
    assert not Product.objects.exists()


@pytest.mark.parametrize("data, format, message", [
    (b"not json", "json", "Malformed JSON"),
    (b'{"gtin": "1"}', "json", "list of objects"),
    (b"gtin,serial\n09506000134352,SN-1\n", "csv", "Missing column 'name'"),
    (b"\xff\xfe", "csv", "not UTF-8"),
])
def test_a_malformed_file_is_refused_as_a_whole(acme, data, format, message):
    with pytest.raises(ImportFailed) as failed:
        products_import(actor=operator(), organisation=acme, data=data, format=format)

    assert failed.value.errors[0]["row"] == 0
    assert message in failed.value.errors[0]["error"]


def test_issue_requests_one_passport_per_imported_product(acme):
    rows = [battery_row(f"SN-{n}") for n in range(1, 4)]

    products = products_import(organisation=acme, data=to_csv(rows), format="csv", issue=True,
                               actor=operator())

    assert Passport.objects.filter(product__in=products, version=1).count() == 3


def test_ten_thousand_rows_import_in_batched_queries(acme):
    gtins = [f"{n:013d}" for n in range(1, 10_001)]
    rows = [{"gtin": gtin + str(gs1.check_digit(gtin)), "name": f"Widget {n}",
             "category": "generic", "material": "steel", "mass": "1.25"}
            for n, gtin in enumerate(gtins)]
    data = to_csv(rows)

    with CaptureQueriesContext(connection) as queries:
        products = products_import(actor=operator(), organisation=acme, data=data, format="csv")

    assert len(products) == Product.objects.count() == 10_000
    # One uniqueness query per batch of 1,000, never one per row (and on PostgreSQL one that
    # takes the 10,000 keys from the sequence for COPY). INSERTs are batched by the
    # database's parameter limit on SQLite; PostgreSQL gets one COPY. How long it takes is the
    # benchmarks' business (bench/), not a test's: here, the work is bounded.
    selects = [q for q in queries.captured_queries if q["sql"].startswith("SELECT")]
    assert len(selects) <= 11
    inserts = [q for q in queries.captured_queries if q["sql"].startswith(("INSERT", "COPY"))]
    assert 1 <= len(inserts) <= 10_000 // 50  # at least 50 rows a statement
    assert len(queries.captured_queries) <= len(selects) + len(inserts) + 10


def test_an_import_sets_off_no_garbage_collection_while_it_runs(acme):
    # The cyclic collector would traverse the file's rows, alive until stored, over and over
    # (core/collector.py): on 10,000 rows a quarter of the import.
    data = to_csv([battery_row(f"GC-{n}") for n in range(2000)])
    collections = []

    def on_collection(phase, info):
        if phase == "start":
            collections.append(info["generation"])

    gc.callbacks.append(on_collection)
    try:
        products_import(actor=operator(), organisation=acme, data=data, format="csv", issue=True)
    finally:
        gc.callbacks.remove(on_collection)

    assert Product.objects.count() == 2000
    assert len(collections) <= 1  # the one that follows when the collector resumes (was 43)
    assert gc.isenabled()


def test_the_command_prints_the_count(acme, tmp_path, capsys):
    path = tmp_path / "products.csv"
    path.write_bytes(to_csv([battery_row("SN-1"), battery_row("SN-2")]))

    call_command("import_products", str(path), "--org", "acme", "--issue")

    assert "Imported 2 products" in capsys.readouterr().out
    assert Passport.objects.count() == 2


def test_the_command_prints_the_errors_and_fails(acme, tmp_path, capsys):
    path = tmp_path / "products.json"
    path.write_text(json.dumps([battery_row("SN-1"), battery_row("SN-2", lot="LOT 1")]))

    with pytest.raises(CommandError, match="Nothing imported: 1 error"):
        call_command("import_products", str(path), "--org", "acme")

    assert "row 2, lot:" in capsys.readouterr().err
    assert not Product.objects.exists()


def test_the_command_refuses_an_unknown_organisation(db, tmp_path):
    path = tmp_path / "products.csv"
    path.write_bytes(to_csv([battery_row("SN-1")]))

    with pytest.raises(CommandError, match="No organisation"):
        call_command("import_products", str(path), "--org", "nobody")


def test_a_key_already_stored_is_listed_with_every_other_error(acme):
    product_create(organisation=acme, gtin=GTINS[0], serial="SN-2", name="Existing",
                   category="battery", attributes=BATTERY)
    rows = [battery_row("SN-1"), battery_row("SN-2"), {**battery_row("SN-3"), "name": ""}]

    with pytest.raises(ImportFailed) as failed:
        products_check(actor=operator(), organisation=acme, data=to_csv(rows), format="csv")

    assert [(e["row"], e["column"]) for e in failed.value.errors] == [(2, "gtin"), (3, "name")]
    assert Product.objects.count() == 1


def test_a_check_stores_nothing_and_counts_the_products(acme):
    rows = [battery_row("SN-1"), battery_row("SN-2")]

    assert products_check(actor=operator(), organisation=acme, data=to_csv(rows),
                          format="csv") == 2
    assert not Product.objects.exists()


@pytest.mark.parametrize("name", ["battery", "textile", "electronics", "generic"])
def test_the_template_of_a_category_imports_once_filled_in(acme, name):
    category = categories.get(name)
    header, first = list(csv.reader(io.StringIO(import_template(category))))
    values = {**dict(zip(header, first, strict=True)), "gtin": GTINS[0], "name": "Sample",
              **required_attributes(name)}

    assert header[:len(PRODUCT_FIELDS)] == list(PRODUCT_FIELDS)
    assert header[len(PRODUCT_FIELDS):] == list(category.keys)
    assert first[header.index("category")] == name
    imported = products_import(actor=operator(), organisation=acme, format="json",
                               data=json.dumps([{k: v for k, v in values.items() if v != ""}]))
    assert [p.category for p in imported] == [name]


def test_the_errors_download_as_csv():
    errors = [{"row": 2, "column": "gtin", "error": 'Bad, "quoted"'}]

    assert list(csv.DictReader(io.StringIO(errors_csv(errors)))) == [
        {"row": "2", "column": "gtin", "error": 'Bad, "quoted"'}]
