"""Product categories: the data files, their validation and how values render in a credential."""

import json
from collections import Counter
from decimal import Decimal

import pytest

from passports import categories
from passports.categories import (
    ACCESS_GROUPS,
    CATEGORY_DIR,
    InvalidAttributes,
    UnknownCategory,
    clean_attributes,
    generate_battery,
    split_by_access,
    to_characteristics,
    validate_attributes,
)
from tests.support.attributes import sample_value

REC20_UNITS = {"AMH", "KWH", "WTT", "VLT", "CEL", "P1", "KGM", "ANN", "MON", "MIN", "OHM", "C62"}


def samples(category):
    return {attribute.key: sample_value(attribute) for attribute in category.attributes}


# The files ---------------------------------------------------------------------------------------

def test_every_category_loads_at_its_latest_version():
    loaded = categories.categories()

    assert set(loaded) == {"battery", "textile", "electronics", "generic"}
    for name, category in loaded.items():
        assert category.name == name
        assert category.version == 1
        assert category.label and category.regulation and category.attributes
        assert categories.get(name) is category
        assert categories.get(name, 1) is category


def test_unknown_category_or_version_is_refused():
    with pytest.raises(UnknownCategory):
        categories.get("furniture")
    with pytest.raises(UnknownCategory):
        categories.get("battery", 99)


def test_access_groups_are_the_four_annex_xiii_groups_in_order():
    assert [key for key, _label in ACCESS_GROUPS] == [
        "public", "legitimate_interest", "legitimate_interest_commission", "authorities"]
    assert all(label for _key, label in ACCESS_GROUPS)


def test_battery_has_the_93_battery_pass_attributes_in_their_access_groups():
    battery = categories.get("battery")

    assert len(battery.attributes) == 93
    assert Counter(attribute.access for attribute in battery.attributes) == {
        "public": 60, "legitimate_interest": 27,
        "legitimate_interest_commission": 5, "authorities": 1}
    assert battery.attribute("ratedCapacity").source.startswith(
        "Battery Pass data model v1.2, attribute 52;")


def test_battery_units_are_rec20_codes_or_spelled_out():
    battery = categories.get("battery")
    units = {attribute.key: attribute.unit for attribute in battery.attributes}

    assert units["ratedCapacity"] == "AMH"
    assert units["certifiedUsableEnergy"] == "KWH"
    assert units["nominalVoltage"] == "VLT"
    assert units["maximumPermittedPower"] == "WTT"
    assert units["temperatureRangeIdleStateLowerBoundary"] == "CEL"
    assert units["capacityFade"] == "P1"
    assert units["batteryMass"] == "KGM"
    assert units["timeAboveTemperatureBoundary"] == "MIN"
    assert units["expectedLifetimeCycles"] == "C62"
    assert units["batteryChemistry"] is None
    assert {unit for unit in units.values() if unit} <= REC20_UNITS
    no_code = battery.attribute("carbonFootprintPerFunctionalUnit")
    assert (no_code.unit, no_code.unit_text, no_code.display_unit) == (
        None, "kgCO2e/kWh", "kgCO2e/kWh")
    assert battery.attribute("absoluteCarbonFootprint").unit_text == "tCO2e"


def test_battery_key_facts():
    battery = categories.get("battery")

    assert {attribute.key for attribute in battery.key_facts} == {
        "batteryChemistry", "ratedCapacity", "certifiedUsableEnergy", "nominalVoltage",
        "batteryMass", "carbonFootprintPerFunctionalUnit", "postConsumerRecycledCobaltShare",
        "postConsumerRecycledLithiumShare", "postConsumerRecycledNickelShare",
        "postConsumerRecycledLeadShare"}


def test_battery_file_is_what_the_generator_writes():
    committed = (CATEGORY_DIR / "battery.v1.json").read_text(encoding="utf-8")

    assert generate_battery.render() == committed
    assert generate_battery.main(["--check"]) == 0


def test_every_attribute_is_well_formed():
    for category in categories.all_versions():
        for attribute in category.attributes:
            assert attribute.key.isalnum() and attribute.key[0].islower()
            assert attribute.access in categories.ACCESS_GROUP_KEYS
            if attribute.unit == "P1" and attribute.max is not None:
                assert (attribute.min, attribute.max) == (0, 100)


def test_a_malformed_category_file_is_refused(tmp_path, monkeypatch):
    document = json.loads((CATEGORY_DIR / "generic.v1.json").read_text(encoding="utf-8"))
    document["attributes"][0]["type"] = "colour"
    (tmp_path / "generic.v1.json").write_text(json.dumps(document))
    monkeypatch.setattr(categories, "CATEGORY_DIR", tmp_path)
    categories._versions.cache_clear()
    try:
        with pytest.raises(categories.CategoryFileError, match="material"):
            categories.categories()
    finally:
        monkeypatch.undo()
        categories._versions.cache_clear()


# Validation --------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["battery", "textile", "electronics", "generic"])
def test_good_values_pass(name):
    category = categories.get(name)

    assert validate_attributes(category, samples(category)) == {}


def test_a_capacity_of_lots_is_refused_naming_the_field_and_type():
    battery = categories.get("battery")

    errors = validate_attributes(battery, {"ratedCapacity": "lots"}, partial=True)

    assert list(errors) == ["ratedCapacity"]
    [message] = errors["ratedCapacity"]
    assert "Rated capacity (ratedCapacity)" in message and "integer" in message


def test_a_percentage_over_100_is_refused():
    battery = categories.get("battery")

    errors = validate_attributes(battery, {"postConsumerRecycledCobaltShare": 150}, partial=True)

    assert errors == {"postConsumerRecycledCobaltShare": [
        "Post-consumer recycled cobalt share (postConsumerRecycledCobaltShare) "
        "must be at most 100, not 150"]}
    assert validate_attributes(battery, {"capacityFade": -1}, partial=True)


def test_an_unknown_attribute_is_refused():
    errors = validate_attributes(categories.get("textile"), {"colour": "red"}, partial=True)

    assert errors == {"colour": ["unknown attribute 'colour' for category textile v1"]}


@pytest.mark.parametrize("month", ["2024-13", "2024-5", "05-2024", "2024-05-01", 202405])
def test_a_bad_month_is_refused(month):
    errors = validate_attributes(
        categories.get("battery"), {"manufacturingDate": month}, partial=True)

    assert "month YYYY-MM" in errors["manufacturingDate"][0]


def test_missing_required_attributes_are_listed():
    battery = categories.get("battery")
    values = samples(battery)
    del values["batteryChemistry"]

    assert validate_attributes(battery, values) == {
        "batteryChemistry": ["Battery chemistry (batteryChemistry) is required"]}
    assert validate_attributes(battery, values, partial=True) == {}
    assert validate_attributes(battery, {**values, "batteryChemistry": "  "}) != {}


@pytest.mark.parametrize(("key", "value", "expected"), [
    ("repairabilityScore", 10.5, "at most 10"),
    ("energyEfficiencyClass", "H", "one of A, B, C, D, E, F, G"),
    ("batteryUserReplaceable", "perhaps", "true or false"),
    ("repairManual", "ftp://example.com/manual.pdf", "http or https URL"),
    ("repairManual", "https:///manual.pdf", "http or https URL"),
    ("sparePartsAvailabilityYears", 7.5, "an integer"),
    ("sparePartsAvailabilityYears", True, "an integer"),
    ("onModePower", "NaN", "a decimal number"),
    ("onModePower", "1,5", "a decimal number"),
    ("substancesOfConcern", 42, "text"),
])
def test_wrong_values_are_refused_with_what_was_expected(key, value, expected):
    errors = validate_attributes(categories.get("electronics"), {key: value}, partial=True)

    assert expected in errors[key][0]


def test_countries_are_iso_alpha_2_codes():
    textile = categories.get("textile")

    assert validate_attributes(textile, {"countryOfConfection": "PT"}, partial=True) == {}
    assert "must match" in validate_attributes(
        textile, {"countryOfConfection": "Portugal"}, partial=True)["countryOfConfection"][0]


def test_dates_are_checked_as_calendar_dates():
    date_attribute = categories.Attribute(key="soldOn", label="Sold on", type="date",
                                          access="public")
    category = categories.Category("test", 1, "Test", "", (date_attribute,))

    assert validate_attributes(category, {"soldOn": "2024-02-29"}) == {}
    assert validate_attributes(category, {"soldOn": "2023-02-29"})
    assert validate_attributes(category, {"soldOn": "2024-2-1"})


def test_values_from_forms_and_csv_are_normalised_deterministically():
    battery = categories.get("battery")

    cleaned = clean_attributes(battery, {
        "ratedCapacity": "150", "batteryMass": "450.50", "capacityFade": 12.0,
        "stateOfCharge": Decimal("80.25"), "batteryChemistry": "  NMC 811 ",
        "nominalVoltage": 400.0, "manufacturingPlace": "", "batteryStatus": None,
    }, partial=True)

    assert cleaned == {"batteryMass": 450.5, "batteryChemistry": "NMC 811", "ratedCapacity": 150,
                       "capacityFade": 12, "stateOfCharge": 80.25, "nominalVoltage": 400}
    assert type(cleaned["capacityFade"]) is int  # 12.0 and "12" render the same
    assert type(cleaned["batteryMass"]) is float
    electronics = categories.get("electronics")
    assert clean_attributes(electronics, {"batteryUserReplaceable": "yes"}) == {
        "batteryUserReplaceable": True}


def test_invalid_values_raise_with_the_field_errors():
    with pytest.raises(InvalidAttributes) as raised:
        clean_attributes(categories.get("generic"), {"mass": "heavy"})

    assert list(raised.value.errors) == ["mass"]


def test_values_that_are_not_an_object_are_refused():
    assert validate_attributes(categories.get("generic"), ["mass", 1]) == {
        "__all__": ["attributes must be an object of key: value"]}


# Access groups and rendering ---------------------------------------------------------------------

def test_split_by_access_puts_each_value_in_its_group():
    battery = categories.get("battery")
    values = {"ratedCapacity": 150, "remainingCapacity": 140, "batteryChemistry": "LFP",
              "testReportResults": "https://example.com/report.pdf"}

    groups = split_by_access(battery, values)

    assert list(groups) == ["public", "legitimate_interest", "legitimate_interest_commission",
                            "authorities"]
    assert groups["public"] == {"batteryChemistry": "LFP", "ratedCapacity": 150}
    assert groups["legitimate_interest"] == {"remainingCapacity": 140}
    assert groups["legitimate_interest_commission"] == {}
    assert groups["authorities"] == {"testReportResults": "https://example.com/report.pdf"}
    every_group = split_by_access(battery, samples(battery))
    assert sum(len(group) for group in every_group.values()) == 93
    with pytest.raises(InvalidAttributes):
        split_by_access(battery, {"colour": "red"})


def test_to_characteristics_renders_measures_with_rec20_units():
    battery = categories.get("battery")

    characteristics = to_characteristics(battery, {
        "ratedCapacity": "150", "nominalVoltage": 400, "capacityFade": "2.5",
        "temperatureRangeIdleStateLowerBoundary": -20, "batteryChemistry": "NMC",
        "carbonFootprintPerFunctionalUnit": "61.5", "manufacturingDate": "2024-05"})

    assert characteristics == {
        "manufacturingDate": "2024-05",
        "carbonFootprintPerFunctionalUnit": 61.5,  # no Rec 20 code: a plain number
        "batteryChemistry": "NMC",
        "ratedCapacity": {"value": 150, "unit": "AMH"},
        "capacityFade": {"value": 2.5, "unit": "P1"},
        "nominalVoltage": {"value": 400, "unit": "VLT"},
        "temperatureRangeIdleStateLowerBoundary": {"value": -20, "unit": "CEL"},
    }
    assert list(characteristics) == [key for key in battery.keys if key in characteristics]
    assert to_characteristics(battery, {}) == {}
    with pytest.raises(InvalidAttributes):
        to_characteristics(battery, {"ratedCapacity": "lots"})


def test_rendered_characteristics_validate_again():
    """A verifier validates the characteristics of a credential as they are."""
    textile = categories.get("textile")
    characteristics = to_characteristics(textile, samples(textile))

    assert characteristics["mass"] == {"value": 12.5, "unit": "KGM"}
    assert validate_attributes(
        textile, {"type": ["Characteristics"], **characteristics}) == {}
    wrong_unit = {**characteristics, "mass": {"value": 12.5, "unit": "GRM"}}
    assert "unit KGM" in validate_attributes(textile, wrong_unit)["mass"][0]


SCALARS = [0, 1, -1, True, False, 1.0, -0.0, 0.0, 0.5, 1e300, float("inf"), float("nan"), "1",
           " 1 ", "-0", "0.50", "true", "", "  ", None, "2025-01-15", "2025-13", "NMC811",
           "https://example.com/x", "x" * 20]


@pytest.mark.parametrize("name", sorted(categories.categories()))
def test_remembered_outcomes_equal_checking_each_value_afresh(name):
    # Values of every type, met twice (the second time from the outcomes kept), give the
    # cleaned values and errors of each value checked on its own (_check_value), with True/1
    # and -0.0/0.0 kept apart (their messages differ).
    category = categories.get(name)
    for attribute in category.attributes:
        for value in SCALARS:
            if value is None or (isinstance(value, str) and not value.strip()):
                expected = ({}, {})  # not given
            else:
                cleaned, messages = categories._check_value(attribute, value)
                expected = ({} if messages else {attribute.key: cleaned},
                            {attribute.key: messages} if messages else {})
            for _ in range(2):
                got = categories._clean(category, {attribute.key: value}, partial=True)
                assert repr(got) == repr(expected), (attribute.key, value)
