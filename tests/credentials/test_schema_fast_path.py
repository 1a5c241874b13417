"""Schema validation's fast path (jsonschema-rs, formats checked by jsonschema's own checkers)
gives exactly the reference's answer (jsonschema): on the UNTP samples, on 1,000 generated
passports of every category, and on as many broken ones."""

import random

import pytest

from credentials import schemas
from tests.credentials.generated import all_categories, mutated, passports
from tests.support.credential_fixtures import battery_passport

DPP = "untp-dpp-0.7.0"


@pytest.mark.parametrize("category", all_categories())
def test_generated_passports_are_judged_as_the_reference_judges_them(db, category):
    rng = random.Random(category)
    documents = passports(category, 1000)
    broken = [mutated(document, rng) for document in documents]

    for document in documents:
        assert schemas.schema_errors(DPP, document) == schemas.reference_errors(DPP, document)
        assert schemas.schema_errors(DPP, document) == []
    refused = 0
    for document in broken:
        expected = schemas.reference_errors(DPP, document)
        assert schemas.fast_validator(DPP).is_valid(document) == (not expected)
        assert schemas.schema_errors(DPP, document) == expected
        refused += bool(expected)
    assert refused > 300  # the mutations reach the schema's rules, not only free-form members


@pytest.mark.parametrize("value, valid", [
    ("2024-05-17T10:00:00Z", True), ("2024-05-17T10:00:00+02:00", True),
    ("2024-05-17", False), ("2024-02-30T10:00:00Z", False), ("yesterday", False),
    ("2024-05-17T10:00:00", False)])
def test_date_times_are_checked_by_the_reference_checker(value, valid):
    document = battery_passport()
    document["validFrom"] = value

    assert (schemas.schema_errors(DPP, document) == []) is valid
    assert schemas.schema_errors(DPP, document) == schemas.reference_errors(DPP, document)


@pytest.mark.parametrize("value, valid", [
    ("https://example.com/a", True), ("urn:uuid:1234", True), ("not a uri", False),
    ("http://[::1", False), ("/relative/path", False)])
def test_uris_are_checked_by_the_reference_checker(value, valid):
    document = battery_passport()
    document["credentialSubject"]["id"] = value

    assert (schemas.schema_errors(DPP, document) == []) is valid
    assert schemas.schema_errors(DPP, document) == schemas.reference_errors(DPP, document)


def test_formats_the_reference_does_not_know_are_not_checked_by_the_fast_path():
    assert "byte" in schemas._formats(schemas._schema(DPP))
    assert "byte" not in schemas.Draft202012Validator.FORMAT_CHECKER.checkers
