"""Our e-invoices against the official rules: the CEN EN 16931 UBL Schematron and the Peppol
BIS Billing 3.0 Schematron (with its Dutch rules), run in Saxon-HE, and the UBL 2.1 schema.

What the service writes has no fatal finding for the profile it was written for; a document
the official rules refuse is refused by the service too, naming the same rule and the value."""

import re

import pytest
from django.core.exceptions import ValidationError

from tests.wallet.einvoice_conformance import fatal, schema_errors
from wallet.invoices import Party, from_ubl, invoice_from_data, to_ubl

SELLER = Party(legal_name="Acme Batteries B.V.", vat_id="NL001234567B01",
               registry_id="12345678", street="Stationsplein 1", city="Eindhoven",
               postal_code="5611 AB", country="NL")
BUYER = Party(legal_name="Recycle Partners B.V.", vat_id="NL009876543B01",
              registry_id="87654321", street="Havenweg 2", city="Rotterdam",
              postal_code="3011 AA", country="NL")
FOREIGN_BUYER = Party(legal_name="Battery Works Inc.", registry_id="US-DE-7788",
                      street="1 Main Street", city="Wilmington", postal_code="19801",
                      country="US")


def line(description="Battery pack", quantity="1", unit_code="C62", unit_price="100.00",
         vat_category="S", vat_rate="21", **more) -> dict:
    return {"description": description, "quantity": quantity, "unit_code": unit_code,
            "unit_price": unit_price, "vat_category": vat_category, "vat_rate": vat_rate,
            **more}


def invoice(number="ACME-1", currency="EUR", lines=None, buyer=BUYER, **more):
    data = {"number": number, "issue_date": "2026-11-02", "due_date": "2026-12-02",
            "currency": currency, "lines": lines or [line()], **more}
    return invoice_from_data(data, seller=SELLER, buyer=buyer)


# The cases the service supports: each written as UBL, checked by the official artefacts.
CASES = {
    "two VAT rates": dict(lines=[line(), line("Cathode scrap", "12.5", "KGM", "1.10",
                                              vat_rate="9")]),
    "negative and fractional quantities": dict(lines=[
        line("Commissioning", "3.5", "HUR", "95.333"),
        line("Returned pallet", "-2", "C62", "12.00")]),
    "standard, zero rated and exempt": dict(lines=[
        line(), line("Printed manual", vat_category="Z", vat_rate="0"),
        line("Training", vat_category="E", vat_rate="0")]),
    "reverse charge": dict(lines=[line(vat_category="AE", vat_rate="0")]),
    "export in USD": dict(currency="USD", buyer=FOREIGN_BUYER,
                          lines=[line(vat_category="G", vat_rate="0")]),
}


@pytest.mark.parametrize("case", CASES)
def test_every_supported_case_keeps_the_en16931_rules_and_the_ubl_schema(case):
    xml = to_ubl(invoice(**CASES[case]))

    assert schema_errors(xml) == []
    assert fatal(xml, "en16931") == []
    assert from_ubl(xml) == invoice(**CASES[case])


# Code lists: refused on creating ---------------------------------------------------------------

def refusal(**changes) -> dict:
    with pytest.raises(ValidationError) as refused:
        invoice(**changes)
    return refused.value.message_dict


@pytest.mark.parametrize(("changes", "field", "rule", "value"), [
    (dict(currency="ABC"), "currency", "BR-CL-04", "ABC"),
    (dict(lines=[line(unit_code="PCS")]), "lines[0].unit_code", "BR-CL-23", "PCS"),
    (dict(buyer=Party(**{**BUYER.__dict__, "country": "XX"})), "buyer.country", "BR-CL-14",
     "XX"),
    (dict(buyer=Party(**{**BUYER.__dict__, "vat_id": "QQ009876543B01"})), "buyer.vat_id",
     "BR-CO-09", "QQ009876543B01"),
])
def test_a_value_outside_its_code_list_is_refused_naming_the_rule_and_value(
        changes, field, rule, value):
    errors = refusal(**changes)

    assert errors[field][0].startswith(rule), errors
    assert repr(value) in errors[field][0]


# Code lists: refused on receiving, agreeing with the official rules ----------------------------

def valid_xml() -> bytes:
    return to_ubl(invoice(**CASES["two VAT rates"]))


@pytest.mark.parametrize(("change", "rules", "value"), [
    # the example: currency ABC everywhere, unit code PCS
    (lambda xml: xml.replace(b"EUR", b"ABC"), {"BR-CL-03", "BR-CL-04"}, "ABC"),
    (lambda xml: xml.replace(b'unitCode="C62"', b'unitCode="PCS"'), {"BR-CL-23"}, "PCS"),
    (lambda xml: xml.replace(b"<cbc:IdentificationCode>NL<",
                             b"<cbc:IdentificationCode>XX<", 1), {"BR-CL-14"}, "XX"),
    (lambda xml: xml.replace(b"NL009876543B01", b"QQ009876543B01"), {"BR-CO-09"},
     "QQ009876543B01"),
    (lambda xml: re.sub(rb"(<cbc:InvoiceTypeCode>)380", rb"\g<1>999", xml), {"BR-CL-01"},
     "999"),
])
def test_a_received_document_outside_the_code_lists_is_refused_as_the_official_rules_do(
        change, rules, value):
    xml = change(valid_xml())
    official = set(fatal(xml, "en16931"))
    assert rules <= official, official

    with pytest.raises(ValidationError) as refused:
        from_ubl(xml)

    messages = " ".join(m for ms in refused.value.message_dict.values() for m in ms)
    assert any(rule in messages for rule in rules), messages
    assert value in messages
