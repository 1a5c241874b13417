"""Product services: GS1 keys normalised and checked, category attributes validated per field,
nothing stored when anything is wrong."""

import pytest
from django.core.exceptions import ValidationError

from passports.models import Product
from passports.services.products import product_create, product_update
from tests.support.factories import GTINS, battery_attributes, organisation


def create_battery(org, **overrides):
    fields = {"organisation": org, "gtin": GTINS[0], "name": "Li-ion pack 48 V",
              "category": "battery", "serial": "SN-1", "attributes": battery_attributes()}
    return product_create(**{**fields, **overrides})


def test_a_valid_battery_is_stored_with_normalised_values(acme):
    product = create_battery(acme, attributes=battery_attributes(ratedCapacity="50",
                                                                 batteryMass="12.50"))

    product.refresh_from_db()
    assert product.organisation == acme
    assert product.category_version == 1
    assert product.attributes["ratedCapacity"] == 50  # text from a form becomes a number
    assert product.attributes["batteryMass"] == 12.5


def test_a_gtin_13_is_stored_as_14_digits(acme):
    product = create_battery(acme, gtin="4006381333931")

    assert product.gtin == "04006381333931"
    assert product.digital_link.endswith("/01/04006381333931/21/SN-1")


def test_a_wrong_check_digit_is_refused_naming_the_gtin(acme):
    with pytest.raises(ValidationError) as refused:
        create_battery(acme, gtin="4006381333932")

    assert "gtin" in refused.value.message_dict
    assert "check digit" in refused.value.message_dict["gtin"][0]
    assert not Product.objects.exists()


def test_a_lot_with_characters_outside_the_gs1_set_is_refused(acme):
    with pytest.raises(ValidationError) as refused:
        create_battery(acme, lot="LOT 1#")

    assert list(refused.value.message_dict) == ["lot"]
    assert not Product.objects.exists()


def test_a_capacity_of_lots_is_refused_naming_the_attribute(acme):
    with pytest.raises(ValidationError) as refused:
        create_battery(acme, attributes=battery_attributes(ratedCapacity="lots"))

    errors = refused.value.message_dict
    assert list(errors) == ["attributes.ratedCapacity"]
    assert "ratedCapacity" in errors["attributes.ratedCapacity"][0]
    assert not Product.objects.exists()


def test_every_error_is_reported_at_once(acme):
    attributes = battery_attributes(batteryMass=-1)
    del attributes["batteryChemistry"]

    with pytest.raises(ValidationError) as refused:
        create_battery(acme, gtin="123", name="", category="battery", attributes=attributes,
                       country_of_production="Holland")

    assert set(refused.value.message_dict) == {
        "gtin", "name", "country_of_production", "attributes.batteryMass",
        "attributes.batteryChemistry"}
    assert not Product.objects.exists()


def test_an_unknown_category_or_attribute_is_refused(acme):
    with pytest.raises(ValidationError) as unknown_category:
        create_battery(acme, category="spaceship", attributes={})
    with pytest.raises(ValidationError) as unknown_attribute:
        create_battery(acme, attributes=battery_attributes(colour="red"))

    assert list(unknown_category.value.message_dict) == ["category"]
    assert list(unknown_attribute.value.message_dict) == ["attributes.colour"]


def test_the_same_gs1_key_twice_is_refused(acme):
    create_battery(acme)

    with pytest.raises(ValidationError):
        create_battery(acme, gtin=GTINS[0][1:])  # the same GTIN written as GTIN-13

    assert Product.objects.count() == 1


def test_update_validates_like_create_and_keeps_the_stored_row_on_error(acme):
    product = create_battery(acme)

    with pytest.raises(ValidationError) as refused:
        product_update(product=product, attributes=battery_attributes(ratedCapacity="lots"))
    assert list(refused.value.message_dict) == ["attributes.ratedCapacity"]
    assert Product.objects.get(pk=product.pk).attributes["ratedCapacity"] == 50
    assert product.attributes["ratedCapacity"] == 50  # the instance is left as it was

    product_update(product=product, name="Li-ion pack 48 V (2025)", serial=" SN-2 ",
                   attributes=battery_attributes(ratedCapacity=60))
    product.refresh_from_db()
    assert (product.name, product.serial) == ("Li-ion pack 48 V (2025)", "SN-2")
    assert product.attributes["ratedCapacity"] == 60


def test_changing_the_category_revalidates_the_attributes(acme):
    product = create_battery(acme)

    with pytest.raises(ValidationError) as refused:
        product_update(product=product, category="textile")
    assert "attributes.fibreComposition" in refused.value.message_dict

    product_update(product=Product.objects.get(pk=product.pk), category="textile",
                   attributes={"fibreComposition": "100% cotton"})
    assert Product.objects.get(pk=product.pk).category == "textile"


def test_update_refuses_fields_it_does_not_own(acme):
    product = create_battery(acme)

    with pytest.raises(TypeError):
        product_update(product=product, organisation=organisation("other"))


@pytest.mark.parametrize(("given", "stored"), [("nl", "NL"), ("Netherlands", "NL"),
                                               ("germany", "DE"), ("NE", "NE")])
def test_a_country_is_stored_as_its_iso_code(acme, given, stored):
    assert create_battery(acme, country_of_production=given).country_of_production == stored


@pytest.mark.parametrize("given", ["XX", "Netherlandz", "N"])
def test_a_country_that_is_none_is_refused_not_cut(acme, given):
    with pytest.raises(ValidationError) as refused:
        create_battery(acme, country_of_production=given)

    assert given in refused.value.message_dict["country_of_production"][0]
    assert not Product.objects.exists()
