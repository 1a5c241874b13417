"""Our e-invoices against the official rules: the CEN EN 16931 UBL Schematron and the Peppol
BIS Billing 3.0 Schematron (with its Dutch rules), run in Saxon-HE, and the UBL 2.1 schema.

What the service writes has no fatal finding for the profile it was written for; a document
the official rules refuse is refused by the service too, naming the same rule and the value."""

import re

import pytest
from django.core.exceptions import ValidationError

from tests.support.einvoice_conformance import EXAMPLES, fatal, schema_errors
from tests.support.invoices import BUYER, SELLER
from wallet.business.messaging.invoices import Party, from_ubl, invoice_from_data, to_ubl

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


# Profiles: Peppol BIS Billing 3.0 and NLCIUS ---------------------------------------------------

KVK_SELLER = Party(**{**SELLER.__dict__, "registry_scheme": "0106",
                      "endpoint": "0106:12345678"})
KVK_BUYER = Party(**{**BUYER.__dict__, "registry_scheme": "0106", "endpoint": "0106:87654321"})
GERMAN_SELLER = Party(legal_name="Zellwerk GmbH", vat_id="DE123456789", registry_id="HRB 1234",
                      street="Hafenstrasse 5", city="Hamburg", postal_code="20457",
                      country="DE", endpoint="0199:5493001KJTIIGC8Y1R12")
LEI_BUYER = Party(**{**FOREIGN_BUYER.__dict__, "endpoint": "0199:529900T8BM49AURSDO55"})
IBAN = {"code": "30", "account_id": "NL91ABNA0417164300", "account_name": "Acme Batteries",
        "bic": "ABNANL2A", "payment_id": "ACME-1"}
PEPPOL = dict(profile="peppol", buyer_reference="PO-4711", payment_means=[IBAN],
              payment_terms="30 days net")


def peppol_invoice(seller=KVK_SELLER, buyer=KVK_BUYER, **changes):
    data = {"number": "ACME-1", "issue_date": "2026-11-02", "due_date": "2026-12-02",
            "currency": "EUR", "lines": [line()], **PEPPOL, **changes}
    return invoice_from_data(data, seller=seller, buyer=buyer)


ALLOWANCES = dict(
    lines=[line(quantity="3", allowances_charges=[
        {"charge": False, "amount": "10.00", "reason": "Volume discount", "reason_code": "95"},
        {"charge": True, "amount": "5.50", "reason": "Packing", "reason_code": "ABL"}]),
        line("Manual", vat_category="Z", vat_rate="0")],
    allowances_charges=[
        {"charge": False, "amount": "20.00", "reason": "Loyalty", "reason_code": "95",
         "vat_category": "S", "vat_rate": "21"},
        {"charge": True, "amount": "15.00", "reason": "Freight", "reason_code": "FC",
         "vat_category": "S", "vat_rate": "21"},
        {"charge": False, "amount": "1.00", "reason": "Rounding", "vat_category": "Z",
         "vat_rate": "0"}])
PEPPOL_CASES = {
    "NLCIUS invoice with order references": dict(
        order_reference="PO-2026-17", delivery_date="2026-10-30",
        lines=[line(order_line_reference="1"), line("Scrap", "12.5", "KGM", "1.10",
                                                    vat_rate="9", order_line_reference="2")]),
    "allowances and charges on document and lines": ALLOWANCES,
    "credit note": dict(type_code="381", preceding_invoice="ACME-0", lines=[line()]),
    "credit note with allowances": dict(type_code="381", preceding_invoice="ACME-0",
                                        **ALLOWANCES),
    "reverse charge with a VATEX code": dict(
        lines=[line(vat_category="AE", vat_rate="0")],
        vat_breakdown=[{"category": "AE", "rate": "0", "taxable_amount": "100.00",
                        "tax_amount": "0.00", "exemption_reason": "Reverse charge",
                        "exemption_reason_code": "VATEX-EU-AE"}]),
    "export to the US in USD": dict(buyer=LEI_BUYER, currency="USD",
                                    lines=[line(vat_category="G", vat_rate="0")]),
    "Peppol from a German seller": dict(seller=GERMAN_SELLER, payment_means=[
        {"code": "58", "account_id": "DE89370400440532013000"}]),
    "SEPA direct debit": dict(payment_means=[{"code": "59", "mandate_id": "MANDATE-17"}]),
}


@pytest.mark.parametrize("case", PEPPOL_CASES)
def test_every_peppol_case_keeps_en16931_and_peppol_bis_with_the_dutch_rules(case):
    document = peppol_invoice(**PEPPOL_CASES[case])
    xml = to_ubl(document)

    assert schema_errors(xml) == []
    assert fatal(xml) == []  # EN 16931 and Peppol BIS 3.0 (NL-R rules included)
    assert from_ubl(xml) == document
    dutch = document.seller.country == "NL"
    assert document.profile == ("nlcius" if dutch else "peppol")


def test_the_same_cases_keep_the_en16931_core_when_written_for_it():
    for case, changes in PEPPOL_CASES.items():
        xml = to_ubl(peppol_invoice(**{**changes, "profile": "en16931"}))
        assert b"ProfileID" not in xml
        assert fatal(xml, "en16931") == [], case


def test_a_peppol_invoice_of_a_dutch_seller_carries_kvk_and_participant_ids():
    xml = to_ubl(peppol_invoice()).decode()

    assert '<cbc:EndpointID schemeID="0106">12345678</cbc:EndpointID>' in xml
    assert '<cbc:CompanyID schemeID="0106">12345678</cbc:CompanyID>' in xml
    assert "<cbc:BuyerReference>PO-4711</cbc:BuyerReference>" in xml
    assert "<cbc:ProfileID>urn:fdc:peppol.eu:2017:poacc:billing:01:1.0</cbc:ProfileID>" in xml


@pytest.mark.parametrize(("changes", "field", "rule"), [
    (dict(buyer_reference=""), "buyer_reference", "PEPPOL-EN16931-R003"),
    (dict(buyer=BUYER), "buyer.endpoint", "PEPPOL-EN16931-R010"),
    (dict(seller=Party(**{**KVK_SELLER.__dict__, "endpoint": ""})), "seller.endpoint",
     "PEPPOL-EN16931-R020"),
    (dict(payment_means=[]), "payment_means", "NL-R-007"),
    (dict(seller=Party(**{**KVK_SELLER.__dict__, "registry_scheme": ""})),
     "seller.registry_scheme", "NL-R-003"),
    (dict(type_code="381"), "preceding_invoice", "NL-R-001"),
    (dict(payment_means=[{"code": "10"}]), "payment_means[0].code", "NL-R-008"),
    (dict(payment_means=[{"code": "59"}]), "payment_means[0].mandate_id",
     "PEPPOL-EN16931-R061"),
    (dict(lines=[line(order_line_reference="1")]), "order_reference", "NL-R-009"),
    (dict(seller=Party(**{**KVK_SELLER.__dict__, "endpoint": "0088:1234567890123"})),
     "seller.endpoint", "PEPPOL-COMMON-R040"),
    (dict(profile="nlcius", seller=GERMAN_SELLER), "profile", "NLCIUS"),
])
def test_an_invoice_its_profile_would_reject_is_refused_naming_the_rule(changes, field, rule):
    with pytest.raises(ValidationError) as refused:
        peppol_invoice(**changes)

    errors = refused.value.message_dict
    assert field in errors, errors
    assert errors[field][0].startswith(rule), errors[field]


def peppol_xml() -> bytes:
    return to_ubl(peppol_invoice(order_reference="PO-2026-17"))


def without(xml: bytes, pattern: bytes) -> bytes:
    changed = re.sub(pattern, b"", xml, flags=re.S)
    assert changed != xml
    return changed


@pytest.mark.parametrize(("change", "rule"), [
    (lambda xml: without(without(xml, rb"<cbc:BuyerReference>.*?</cbc:BuyerReference>"),
                         rb"<cac:OrderReference>.*?</cac:OrderReference>"),
     "PEPPOL-EN16931-R003"),
    (lambda xml: without(xml, rb'<cbc:EndpointID schemeID="0106">87654321</cbc:EndpointID>'),
     "PEPPOL-EN16931-R010"),
    (lambda xml: without(xml, rb"<cac:PaymentMeans>.*?</cac:PaymentMeans>"), "NL-R-007"),
    (lambda xml: xml.replace(b'<cbc:CompanyID schemeID="0106">12345678',
                             b"<cbc:CompanyID>12345678"), "NL-R-003"),
    (lambda xml: xml.replace(b'<cbc:CompanyID schemeID="0106">87654321',
                             b'<cbc:CompanyID schemeID="0208">87654321'), "NL-R-005"),
    (lambda xml: xml.replace(b"<cbc:PaymentMeansCode>30<", b"<cbc:PaymentMeansCode>10<"),
     "NL-R-008"),
    (lambda xml: xml.replace(b'schemeID="0106">87654321</cbc:EndpointID',
                             b'schemeID="9999">87654321</cbc:EndpointID'),
     "PEPPOL-EN16931-CL008"),
])
def test_a_received_peppol_document_the_official_rules_reject_is_refused_naming_the_rule(
        change, rule):
    xml = change(peppol_xml())
    assert rule in fatal(xml, "peppol")

    with pytest.raises(ValidationError) as refused:
        from_ubl(xml)

    messages = " ".join(m for ms in refused.value.message_dict.values() for m in ms)
    assert rule in messages, messages


# The official example documents ----------------------------------------------------------------

@pytest.mark.parametrize(("example", "rule_set", "profile", "payable"), [
    ("en16931-ubl-tc434-example1.xml", "en16931", "en16931", "250.33"),
    ("peppol-base-example.xml", "peppol", "peppol", "1656.25"),
])
def test_the_official_examples_are_read_without_a_finding(example, rule_set, profile, payable):
    xml = (EXAMPLES / example).read_bytes()
    assert fatal(xml, rule_set) == []  # as published: they keep their rules

    document = from_ubl(xml)

    assert (document.profile, str(document.payable_amount)) == (profile, payable)


def test_a_received_price_per_base_quantity_is_refused_clearly_not_misread():
    xml = valid_xml().replace(b'<cbc:PriceAmount currencyID="EUR">100.00</cbc:PriceAmount>',
                              b'<cbc:PriceAmount currencyID="EUR">100.00</cbc:PriceAmount>'
                              b'<cbc:BaseQuantity unitCode="C62">100</cbc:BaseQuantity>', 1)

    with pytest.raises(ValidationError) as refused:
        from_ubl(xml)

    assert "base quantity, BT-149" in refused.value.message_dict["xml"][0]


def allowances_xml() -> bytes:
    return to_ubl(peppol_invoice(**ALLOWANCES))


@pytest.mark.parametrize(("change", "rule"), [
    (lambda xml: re.sub(rb"<cbc:AllowanceChargeReasonCode>95</cbc:AllowanceChargeReasonCode>"
                        rb"\s*<cbc:AllowanceChargeReason>Loyalty</cbc:AllowanceChargeReason>",
                        b"", xml), "BR-33"),
    (lambda xml: xml.replace(b'<cbc:AllowanceTotalAmount currencyID="EUR">21.00',
                             b'<cbc:AllowanceTotalAmount currencyID="EUR">20.00'), "BR-CO-11"),
    (lambda xml: xml.replace(b"<cbc:AllowanceChargeReasonCode>FC<",
                             b"<cbc:AllowanceChargeReasonCode>XYZ<"), "BR-CL-20"),
    (lambda xml: xml.replace(b"<cbc:PaymentMeansCode>30<", b"<cbc:PaymentMeansCode>999<"),
     "BR-CL-16"),
    (lambda xml: without(xml, rb"<cac:PayeeFinancialAccount>.*?</cac:PayeeFinancialAccount>"),
     "BR-61"),
    (lambda xml: xml.replace(b'<cbc:LineExtensionAmount currencyID="EUR">295.50',
                             b'<cbc:LineExtensionAmount currencyID="EUR">300.00'),
     "PEPPOL-EN16931-R120"),
])
def test_a_received_document_with_wrong_allowances_or_payment_is_refused_naming_the_rule(
        change, rule):
    xml = change(allowances_xml())
    assert xml != allowances_xml()
    assert rule in fatal(xml)

    with pytest.raises(ValidationError) as refused:
        from_ubl(xml)

    messages = " ".join(m for ms in refused.value.message_dict.values() for m in ms)
    assert rule in messages, messages


def test_a_received_credit_note_without_due_date_or_terms_is_accepted_as_the_official_rules_do():
    xml = to_ubl(peppol_invoice(type_code="381", preceding_invoice="ACME-0", payment_terms=""))
    xml = without(xml, rb"<cbc:PaymentDueDate>.*?</cbc:PaymentDueDate>")
    assert fatal(xml) == []

    assert from_ubl(xml).due_date is None
