"""The bulk paths against the reference paths (issue #20): a bulk import, which checks a CSV
file column by column (each distinct value once) and writes with COPY from its columns on
PostgreSQL (core.bulk), stores exactly the products that product_build validates row by row and
Django's bulk_create writes, and refuses a file with exactly the errors row-by-row validation
finds; on 1,000 generated rows of every category, and of all categories in one file. The first
passports of imported products (written column by column) are the rows passports_request
writes."""

import csv
import io
import random

import pytest
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext

from core.bulk import bulk_insert, bulk_update, next_keys
from passports import categories
from passports.models import Passport, PassportEvent, Product
from passports.services import bulk_import
from passports.services.bulk_import import ImportFailed, products_check, products_import
from passports.services.issuance import first_passports_request, passports_request
from passports.services.products import product_build
from tests.credentials.generated import _value, all_categories
from tests.support.environment import postgres_only
from tests.support.factories import GTINS
from wallet.tenancy.authority import operator

ROWS = 1000
STORED = ("gtin", "lot", "serial", "name", "description", "category", "category_version",
          "facility_name", "facility_id", "country_of_production", "production_date",
          "attributes", "organisation_id")
BROKEN_TEXT = ["", " ", "n/a", "12,5", "-1", "1e999", "2020-13-45", "2024-02-30", "yes please",
               "ftp://example.com/x", "http://", "x" * 5000, "NaN"]


def as_text(value) -> str:
    """A value as a spreadsheet writes it in a CSV cell."""
    if value is True or value is False:
        return "true" if value else "false"
    return str(value)


def generated_rows(category_name: str, count: int, *, broken: float = 0.0,
                   seed: int = 3) -> list[dict]:
    rng = random.Random(f"{category_name}-{seed}")
    category = categories.get(category_name)
    rows = []
    for number in range(count):
        row = {"gtin": rng.choice(GTINS), "lot": rng.choice(["", "L1", "L-2"]),
               "serial": f"S{number:06d}", "name": rng.choice(["Pack", "Zelle", "电池"]),
               "category": category_name,
               "country_of_production": rng.choice(["NL", "de", "Germany", ""]),
               "production_date": rng.choice(["", "2025-01-15"]),
               "facility_id": rng.choice(["", "https://example.com/facility/1"])}
        for attribute in category.attributes:
            if attribute.required or rng.random() < 0.7:
                row[attribute.key] = as_text(_value(attribute, rng))
            if rng.random() < broken:
                row[attribute.key] = rng.choice(BROKEN_TEXT)
        rows.append(row)
    return rows


def to_csv(rows: list[dict], blank_rows: tuple[int, ...] = ()) -> str:
    """The rows as CSV; a row of empty cells before each 0-based position in `blank_rows`."""
    columns = list(dict.fromkeys(key for row in rows for key in row))
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns, restval="")
    writer.writeheader()
    for position, row in enumerate(rows):
        if position in blank_rows:
            writer.writerow({})
        writer.writerow(row)
    return out.getvalue()


@pytest.fixture
def by_columns(monkeypatch):
    """How many files the column-wise checks passed whole (the others went row by row)."""
    passed = []
    table = bulk_import._RowChecker.table

    def counted(self, rows):
        columns = table(self, rows)
        passed.append(columns is not None)
        return columns

    monkeypatch.setattr(bulk_import._RowChecker, "table", counted)
    return passed


def assert_stored_as_reference(organisation, rows: list[dict]) -> None:
    stored = {product["serial"]: product for product in Product.objects.filter(
        organisation=organisation).values(*STORED)}
    assert len(stored) == len(rows)
    for row in rows:
        expected = reference(organisation, row)
        expected.full_clean(exclude=["organisation"], validate_unique=False,
                            validate_constraints=False)  # production_date as a date
        assert stored[row["serial"]] == {name: getattr(expected, name) for name in STORED}


def reference(organisation, row: dict) -> Product:
    """The row validated alone, as product_create validates (no memory of other rows)."""
    fields = {key: row.get(key, "") for key in ("gtin", "lot", "serial", "name", "description",
                                                "category", "facility_name", "facility_id",
                                                "country_of_production")}
    attributes = {key: value for key, value in row.items()
                  if key not in fields and key != "production_date" and value != ""}
    return product_build(organisation=organisation, validate_unique=False,
                         production_date=row.get("production_date") or None,
                         attributes=attributes, **fields)


@pytest.mark.parametrize("category", all_categories())
def test_an_import_stores_what_row_by_row_validation_makes(acme, category, by_columns):
    rows = generated_rows(category, ROWS)

    products = products_import(organisation=acme, data=to_csv(rows), format="csv",
                               actor=operator())

    assert by_columns == [True]
    assert_stored_as_reference(acme, rows)
    # The instances returned are the stored rows.
    assert [{name: getattr(product, name) for name in STORED} for product in products] == \
        list(Product.objects.filter(pk__in=[p.pk for p in products]).order_by("id")
             .values(*STORED))


def test_an_import_of_every_category_in_one_file_stores_what_row_by_row_validation_makes(
        acme, by_columns):
    rows = [row for category in all_categories()
            for row in generated_rows(category, ROWS // 10, seed=5)]
    random.Random(5).shuffle(rows)
    keys = sorted({key for name in all_categories() for key in categories.get(name).keys})
    for number, row in enumerate(rows):
        row["serial"] = f"M{number:06d}"
        if number % 7 == 0:  # formula-looking text, as an export guards it
            row["name"] = "'=SUM(A1)"
        if number % 5 == 0:  # whitespace in another category's column: not given
            row[next(key for key in keys if key not in categories.get(row["category"]))] = " "
    # Rows of empty cells are skipped.
    data = to_csv(rows, blank_rows=(0, 17, len(rows) - 1))

    products_import(organisation=acme, data=data, format="csv", actor=operator())

    assert by_columns == [True]
    read = bulk_import._read_rows(data, "csv").rows()
    assert_stored_as_reference(acme, [row for row in read if any(row.values())])


def test_a_file_whose_only_fault_is_a_stored_key_names_its_row_as_row_by_row(acme, by_columns):
    rows = generated_rows("battery", 50)
    products_import(organisation=acme, data=to_csv(rows[30:31]), format="csv",
                    actor=operator())

    with pytest.raises(ImportFailed) as refused:
        products_check(organisation=acme, data=to_csv(rows, blank_rows=(3, 10)),
                       format="csv", actor=operator())

    assert by_columns == [True, True]
    # The file's 34th row (two rows of empty cells before it): numbered as they are read.
    assert refused.value.errors == [{"row": 33, "column": "gtin", "error": bulk_import
                                     ._STORED_KEY}]


@pytest.mark.parametrize("change", [
    {"gtin": GTINS[0], "lot": "", "serial": "S000001"},  # row 2's key (set below) again
    {"category": "unknown"},
    {"gtin": "12345678"},
    {"facility_id": "not a url"},
    {"production_date": "2025-02-30"},
    {"type": "Characteristics"},  # ignored by clean_attributes: row by row decides
])
def test_a_row_the_column_checks_refuse_goes_row_by_row(acme, by_columns, change):
    rows = generated_rows("battery", 20)
    rows[1].update(gtin=GTINS[0], lot="")
    rows[7].update(change)

    try:
        products_import(organisation=acme, data=to_csv(rows), format="csv", actor=operator())
    except ImportFailed as refused:
        found = sorted((e["row"], e["column"], e["error"]) for e in refused.errors)
        assert found and all(row in (2, 8) for row, *_ in found)
        assert Product.objects.count() == 0
    else:
        assert_stored_as_reference(acme, rows)
    assert by_columns == [False]


def test_first_passports_are_the_rows_passports_request_writes(acme):
    def products(prefix):
        return bulk_insert(Product, [
            Product(organisation=acme, gtin=GTINS[0], serial=f"{prefix}{n}", name="x",
                    category="generic") for n in range(20)])

    requested = passports_request(products=products("A"), actor=operator(), reason="bulk import")
    first = first_passports_request(products=products("B"), actor=operator(),
                                    reason="bulk import")

    def stored(passports):
        fields = [field.attname for field in Passport._meta.concrete_fields
                  if field.attname not in ("id", "product_id", "created_at", "updated_at")]
        return [(row, list(PassportEvent.objects.filter(passport_id=pk).values(
                    "action", "from_state", "to_state", "actor_id", "reason", "details")))
                for pk, *row in Passport.objects.filter(pk__in=passports).order_by("product_id")
                .values_list("pk", *fields)]

    assert len(first) == 20 and len(set(first)) == 20
    assert stored(first) == stored([p.pk for p in requested])
    assert all(p.product.serial.startswith("B") for p in Passport.objects.filter(pk__in=first))


@pytest.mark.parametrize("category", all_categories())
def test_an_import_refuses_with_the_errors_row_by_row_validation_finds(acme, category):
    rows = generated_rows(category, ROWS, broken=0.004)  # fewer errors than MAX_ERRORS
    expected = []
    for number, row in enumerate(rows, start=1):
        try:
            reference(acme, row)
        except Exception as invalid:  # noqa: BLE001 - a ValidationError, compared below
            expected += [(number, key.removeprefix("attributes."), message)
                         for key, messages in invalid.message_dict.items()
                         for message in messages]
    assert expected, "the generator broke no value"

    with pytest.raises(ImportFailed) as refused:
        products_check(organisation=acme, data=to_csv(rows), format="csv", actor=operator())

    found = [(error["row"], error["column"], error["error"]) for error in refused.value.errors]
    assert sorted(found) == sorted(expected)
    assert Product.objects.count() == 0


def test_bulk_insert_stores_what_bulk_create_stores(acme):
    def products(prefix):
        return [Product(organisation=acme, gtin=GTINS[0], serial=f"{prefix}{n}", name="电池\t\"x\"",
                        description="line\nbreak \\ backslash", category="generic",
                        attributes={"material": "steel", "mass": 1.25, "nested": {"a": [1, None]}},
                        production_date="2025-01-15" if n % 2 else None) for n in range(50)]

    created = Product.objects.bulk_create(products("A"))
    inserted = bulk_insert(Product, products("B"))

    assert all(product.pk for product in inserted)
    fields = [name for name in STORED if name != "serial"]
    reference_rows = list(Product.objects.filter(pk__in=[p.pk for p in created])
                          .order_by("serial").values(*fields))
    assert list(Product.objects.filter(pk__in=[p.pk for p in inserted])
                .order_by("serial").values(*fields)) == reference_rows
    passport = Passport.objects.create(product=inserted[0], version=1)
    events = [PassportEvent(passport=passport, action="requested", to_state="pending",
                            details={"note": "ü\ttab", "n": n}) for n in range(3)]
    bulk_insert(PassportEvent, events)
    assert [(e.details, e.actor_id) for e in passport.events.order_by("id")] == \
        [({"note": "ü\ttab", "n": n}, None) for n in range(3)]


def test_bulk_insert_refuses_a_stored_key_with_djangos_integrity_error(acme):
    Product.objects.create(organisation=acme, gtin=GTINS[0], serial="TAKEN", name="x",
                           category="generic")

    with pytest.raises(IntegrityError), transaction.atomic():
        bulk_insert(Product, [Product(organisation=acme, gtin=GTINS[0], serial=serial, name="x",
                                      category="generic") for serial in ("NEW", "TAKEN")])

    assert list(Product.objects.values_list("serial", flat=True)) == ["TAKEN"]


@postgres_only
def test_new_keys_look_their_sequence_up_once_not_once_per_key(db):
    with CaptureQueriesContext(connection) as queries:
        keys = next_keys(Product, 3)

    assert len(set(keys)) == 3
    [query] = queries.captured_queries
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (VERBOSE, FORMAT JSON) " + query["sql"])
        plan = cursor.fetchone()[0][0]["Plan"]
    # What the top node computes, it computes per key; the look-up is a subplan run once.
    assert "pg_get_serial_sequence" not in " ".join(plan["Output"])
    assert ["InitPlan"] == [subplan["Parent Relationship"] for subplan in plan["Plans"]]


def test_bulk_update_writes_what_save_writes(acme):
    products = Product.objects.bulk_create([
        Product(organisation=acme, gtin=GTINS[0], serial=f"U{n}", name="x", category="generic")
        for n in range(2500)])
    for number, product in enumerate(products):
        product.name = f"renamed {number} ü"
        product.attributes = {"mass": number}
        product.production_date = None if number % 3 else "2025-02-01"

    bulk_update(Product, products, ["name", "attributes", "production_date"])

    stored = {p.serial: p for p in Product.objects.all()}
    for number, product in enumerate(products):
        row = stored[product.serial]
        assert (row.name, row.attributes, str(row.production_date)) == \
            (f"renamed {number} ü", {"mass": number}, "None" if number % 3 else "2025-02-01")


def test_a_key_stored_after_the_check_refuses_the_whole_file(acme, by_columns, monkeypatch):
    rows = generated_rows("battery", 30)
    products_import(organisation=acme, data=to_csv(rows[12:13]), format="csv", actor=operator())
    monkeypatch.setattr(bulk_import, "_existing_keys", lambda keys: [])  # as if stored since

    with pytest.raises(ImportFailed) as refused:
        products_import(organisation=acme, data=to_csv(rows), format="csv", actor=operator(),
                        issue=True)

    assert by_columns == [True, True]
    assert "stored meanwhile" in refused.value.errors[0]["error"]
    assert Product.objects.count() == 1 and Passport.objects.count() == 0
