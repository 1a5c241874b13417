"""E-invoices: the EN 16931 core with its arithmetic checked (Decimal, half up, 2 decimals),
UBL 2.1 XML that parses and round-trips, and invoices sent as signed messages to the buyer."""

import xml.etree.ElementTree as ET
from dataclasses import replace
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from tests.support.factories import organisation, staff_member, trust_anchor
from tests.support.invoices import BUYER, SELLER, invoice_data, with_legal_details
from wallet.business.identity.services import attestation_approve, attestation_request
from wallet.business.messaging import invoices
from wallet.business.messaging.invoices import Party, from_ubl, invoice_from_data, to_data, to_ubl
from wallet.business.messaging.models import Invoice, Message
from wallet.business.messaging.services import (
    Attachment,
    MessageRejected,
    inbox,
    invoice_create,
    invoice_document,
    invoice_send,
    invoice_xml,
    message_send,
    message_verify,
    received_invoice,
)
from wallet.tenancy.authority import actor_of, operator
from wallet.tenancy.errors import WalletError
from wallet.tenancy.legal_models import Mandate
from wallet.tenancy.mandates import mandate_grant
from wallet.tenancy.models import Member

NS = {"": invoices.INVOICE_NS, "cac": invoices.CAC, "cbc": invoices.CBC}
def complete_data(**overrides) -> dict:
    """The data with every computed amount written out, then changed by `overrides`."""
    data = to_data(invoice_from_data(invoice_data(), seller=SELLER, buyer=BUYER))
    for key, value in overrides.items():
        if "." in key:  # "lines.2.net_amount"
            group, index, name = key.split(".")
            data[group][int(index)][name] = value
        else:
            data[key] = value
    return data


def refusal(data) -> dict:
    with pytest.raises(ValidationError) as refused:
        invoice_from_data(data, seller=SELLER, buyer=BUYER)
    return refused.value.message_dict


# The model and its arithmetic -------------------------------------------------------------------

def test_what_the_input_leaves_out_is_computed_half_up_to_cents():
    invoice = invoice_from_data(invoice_data(), seller=SELLER, buyer=BUYER)

    assert [line.net_amount for line in invoice.lines] == [
        Decimal("8500.00"), Decimal("333.67"), Decimal("13.75")]  # 3.5 × 95.333 = 333.6655
    [standard, reduced] = invoice.vat_breakdown
    assert (standard.category, standard.rate, standard.taxable_amount, standard.tax_amount) == (
        "S", Decimal("21"), Decimal("8833.67"), Decimal("1855.07"))  # 1855.0707
    assert (reduced.rate, reduced.taxable_amount, reduced.tax_amount) == (
        Decimal("9"), Decimal("13.75"), Decimal("1.24"))  # 1.2375
    assert invoice.line_net_total == invoice.tax_exclusive_amount == Decimal("8847.42")
    assert invoice.tax_total == Decimal("1856.31")
    assert invoice.tax_inclusive_amount == invoice.payable_amount == Decimal("10703.73")


def test_rounding_is_half_up_not_half_even():
    data = invoice_data(lines=[{"description": "Sample", "quantity": "1", "unit_code": "C62",
                                "unit_price": "0.125", "vat_category": "S",
                                "vat_rate": "10"}])

    invoice = invoice_from_data(data, seller=SELLER, buyer=BUYER)

    assert invoice.lines[0].net_amount == Decimal("0.13")  # half even would give 0.12
    assert invoice.tax_total == Decimal("0.01")  # 0.013


def test_a_complete_invoice_that_adds_up_is_accepted_as_given():
    data = complete_data()

    assert to_data(invoice_from_data(data, seller=SELLER, buyer=BUYER)) == data


@pytest.mark.parametrize(("change", "field", "rule"), [
    ({"tax_total": "1856.30"}, "tax_total", "BR-CO-14"),
    ({"lines.2.net_amount": "13.74"}, "lines[2].net_amount", "PEPPOL-EN16931-R120"),
    ({"line_net_total": "8847.40"}, "line_net_total", "BR-CO-10"),
    ({"tax_exclusive_amount": "8847.40"}, "tax_exclusive_amount", "BR-CO-13"),
    ({"tax_inclusive_amount": "10703.74"}, "tax_inclusive_amount", "BR-CO-15"),
    ({"payable_amount": "10703.00"}, "payable_amount", "BR-CO-16"),
    ({"vat_breakdown.0.tax_amount": "1855.08"}, "vat_breakdown[0].tax_amount", "BR-CO-17"),
    ({"vat_breakdown.1.taxable_amount": "13.76"}, "vat_breakdown[1].taxable_amount", "BR-S-08"),
    ({"payable_amount": "10703.730"}, "payable_amount", "BR-DEC-18"),
])
def test_totals_that_do_not_add_up_are_refused_naming_the_field_and_rule(change, field, rule):
    errors = refusal(complete_data(**change))

    assert field in errors, errors
    assert errors[field][0].startswith(rule), errors[field]


def test_the_refusal_says_what_the_amount_should_be():
    errors = refusal(complete_data(tax_total="1800.00"))

    assert errors["tax_total"] == [
        "BR-CO-14: the invoice total VAT amount (BT-110) must equal the sum of the VAT "
        "breakdown's tax amounts (BT-117): 1856.31, not 1800.00."]


@pytest.mark.parametrize(("line", "party", "field", "rule"), [
    ({"vat_category": "S", "vat_rate": "0"}, None, "lines[0].vat_rate", "BR-S-05"),
    ({"vat_category": "Z", "vat_rate": "21"}, None, "lines[0].vat_rate", "BR-Z-05"),
    ({"vat_category": "E", "vat_rate": "0"}, {"vat_id": ""}, "seller.vat_id", "BR-E-02"),
    ({"vat_category": "AE", "vat_rate": "0"}, {"buyer": True}, "buyer.vat_id", "BR-AE-02"),
    ({"vat_category": "O", "vat_rate": "0"}, None, "lines[0].vat_category", "VAT category"),
    ({"unit_price": "-1"}, None, "lines[0].unit_price", "BR-27"),
    ({"unit_code": "pieces"}, None, "lines[0].unit_code", "BR-CL-23"),
    ({"description": ""}, None, "lines[0].description", "BR-25"),
])
def test_line_and_vat_category_rules(line, party, field, rule):
    data = invoice_data(lines=[{"description": "Item", "quantity": "1", "unit_code": "C62",
                                "unit_price": "10", **line}])
    seller, buyer = SELLER, BUYER
    if party and party.get("buyer"):
        buyer = Party(legal_name="Private buyer", country="NL", city="Utrecht")
    elif party:
        seller = Party(**{**to_data_party(SELLER), **party})

    with pytest.raises(ValidationError) as refused:
        invoice_from_data(data, seller=seller, buyer=buyer)

    errors = refused.value.message_dict
    assert field in errors, errors
    assert errors[field][0].startswith(rule), errors[field]


def to_data_party(party: Party) -> dict:
    return {name: getattr(party, name) for name in (
        "legal_name", "vat_id", "registry_id", "street", "city", "postal_code", "country")}


def test_exempt_and_reverse_charge_breakdowns_carry_an_exemption_reason():
    data = invoice_data(lines=[
        {"description": "Training", "quantity": "1", "unit_code": "C62", "unit_price": "500",
         "vat_category": "E", "vat_rate": "0"},
        {"description": "Installation", "quantity": "2", "unit_code": "HUR",
         "unit_price": "80", "vat_category": "AE", "vat_rate": "0"}])

    invoice = invoice_from_data(data, seller=SELLER, buyer=BUYER)

    assert [(s.category, s.tax_amount, s.exemption_reason) for s in invoice.vat_breakdown] == [
        ("E", Decimal("0.00"), "Exempt from VAT"), ("AE", Decimal("0.00"), "Reverse charge")]
    data = to_data(invoice)
    data["vat_breakdown"][1]["exemption_reason"] = ""
    assert refusal(data)["vat_breakdown[1].exemption_reason"][0].startswith("BR-AE-10")


def test_mandatory_terms_are_named():
    errors = refusal({"lines": []})

    assert errors["number"][0].startswith("BR-02")
    assert errors["issue_date"][0].startswith("BR-03")
    assert errors["currency"][0].startswith("BR-05")
    assert errors["lines"][0].startswith("BR-16")


def test_input_that_is_not_a_number_is_named():
    errors = refusal(invoice_data(lines=[{"description": "x", "quantity": "two",
                                          "unit_code": "C62", "unit_price": "1",
                                          "vat_category": "S", "vat_rate": "21"}]))

    assert list(errors) == ["lines[0].quantity"]


# UBL 2.1 ----------------------------------------------------------------------------------------

def test_the_ubl_xml_parses_and_carries_the_totals():
    invoice = invoice_from_data(invoice_data(), seller=SELLER, buyer=BUYER)

    root = invoices.parse_ubl_tree(to_ubl(invoice))  # the guarded parser: no DTDs

    assert root.tag == f"{{{invoices.INVOICE_NS}}}Invoice"
    assert root.findtext("cbc:CustomizationID", namespaces=NS) == "urn:cen.eu:en16931:2017"
    assert root.findtext("cbc:ID", namespaces=NS) == "ACME-2026-0042"
    assert root.findtext("cbc:IssueDate", namespaces=NS) == "2026-11-02"
    assert root.findtext("cbc:DueDate", namespaces=NS) == "2026-12-02"
    assert root.findtext("cbc:InvoiceTypeCode", namespaces=NS) == "380"
    assert root.findtext("cbc:DocumentCurrencyCode", namespaces=NS) == "EUR"
    seller = root.find("cac:AccountingSupplierParty/cac:Party", NS)
    assert seller.findtext("cac:PartyLegalEntity/cbc:RegistrationName", namespaces=NS) == \
        "Acme Batteries B.V."
    assert seller.findtext("cac:PartyTaxScheme/cbc:CompanyID", namespaces=NS) == \
        "NL001234567B01"
    assert seller.findtext("cac:PostalAddress/cac:Country/cbc:IdentificationCode",
                           namespaces=NS) == "NL"
    tax = root.find("cac:TaxTotal/cbc:TaxAmount", NS)
    assert (tax.text, tax.get("currencyID")) == ("1856.31", "EUR")
    subtotals = root.findall("cac:TaxTotal/cac:TaxSubtotal", NS)
    assert [(s.findtext("cac:TaxCategory/cbc:Percent", namespaces=NS),
             s.findtext("cbc:TaxableAmount", namespaces=NS),
             s.findtext("cbc:TaxAmount", namespaces=NS)) for s in subtotals] == [
        ("21", "8833.67", "1855.07"), ("9", "13.75", "1.24")]
    totals = root.find("cac:LegalMonetaryTotal", NS)
    assert {child.tag.split("}")[1]: child.text for child in totals} == {
        "LineExtensionAmount": "8847.42", "TaxExclusiveAmount": "8847.42",
        "TaxInclusiveAmount": "10703.73", "PayableAmount": "10703.73"}
    [_, second, _] = root.findall("cac:InvoiceLine", NS)
    assert second.find("cbc:InvoicedQuantity", NS).get("unitCode") == "HUR"
    assert second.findtext("cbc:LineExtensionAmount", namespaces=NS) == "333.67"
    assert second.findtext("cac:Price/cbc:PriceAmount", namespaces=NS) == "95.333"


def test_the_ubl_xml_round_trips_to_the_same_invoice():
    invoice = invoice_from_data(invoice_data(prepaid_amount="1000.00"), seller=SELLER,
                                buyer=BUYER)

    parsed = from_ubl(to_ubl(invoice))

    assert parsed == invoice
    assert to_data(parsed) == to_data(invoice)
    assert parsed.payable_amount == Decimal("9703.73")


def test_ubl_whose_totals_were_changed_is_refused_naming_the_field():
    xml = to_ubl(invoice_from_data(invoice_data(), seller=SELLER, buyer=BUYER))
    changed = xml.replace(b'<cbc:PayableAmount currencyID="EUR">10703.73',
                          b'<cbc:PayableAmount currencyID="EUR">10000.00')

    with pytest.raises(ValidationError) as refused:
        from_ubl(changed)

    assert refused.value.message_dict["payable_amount"][0].startswith("BR-CO-16")


def test_ubl_without_totals_is_refused_not_completed():
    xml = to_ubl(invoice_from_data(invoice_data(), seller=SELLER, buyer=BUYER))
    root = invoices.parse_ubl_tree(xml)
    root.remove(root.find("cac:LegalMonetaryTotal", NS))

    with pytest.raises(ValidationError) as refused:
        from_ubl(ET.tostring(root))

    assert refused.value.message_dict["payable_amount"][0].startswith("BR-15")


@pytest.mark.parametrize("document", [
    b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><x>&a;</x>',
    b"<Invoice>not UBL</Invoice>",
    b"<unclosed>",
    '<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE x SYSTEM "file:///etc/passwd"><x/>'
    .encode("utf-16"),
])
def test_documents_that_are_not_ubl_invoices_are_refused(document):
    with pytest.raises(ValidationError) as refused:
        from_ubl(document)

    assert "xml" in refused.value.message_dict


# Invoices between organisations -----------------------------------------------------------------

@pytest.fixture
def register(db):
    anchor = trust_anchor()
    return anchor


@pytest.fixture
def acme(db):
    return with_legal_details(organisation("acme", SELLER.legal_name), SELLER)


@pytest.fixture
def recycle(db):
    return with_legal_details(organisation("recycle", BUYER.legal_name), BUYER)


@pytest.fixture
def alice(acme, django_user_model):
    user = django_user_model.objects.create_user("alice")
    Member.objects.create(user=user, organisation=acme)
    return user


def test_an_invoice_takes_its_parties_from_the_organisations_legal_details(acme, recycle):
    invoice = invoice_create(seller=acme, buyer=recycle, data=invoice_data())

    assert (invoice.state, invoice.number, invoice.payable_amount) == (
        Invoice.State.DRAFT, "ACME-2026-0042", Decimal("10703.73"))
    document = invoice_document(invoice)
    # Dutch organisations: the KVK number is the legal identifier (ICD 0106) and the Peppol
    # participant id (electronic address).
    assert (document.seller, document.buyer) == (
        replace(SELLER, registry_scheme="0106", endpoint="0106:12345678"),
        replace(BUYER, registry_scheme="0106", endpoint="0106:87654321"))


def test_an_invoice_that_does_not_add_up_is_refused_and_not_stored(acme, recycle):
    with pytest.raises(ValidationError) as refused:
        invoice_create(seller=acme, buyer=recycle, data=complete_data(tax_total="0.00"))

    assert refused.value.message_dict["tax_total"][0].startswith("BR-CO-14")
    assert not Invoice.objects.exists()


def test_an_invoice_number_is_used_once_per_seller(acme, recycle):
    invoice_create(seller=acme, buyer=recycle, data=invoice_data())

    with pytest.raises(ValidationError) as refused:
        invoice_create(seller=acme, buyer=recycle, data=invoice_data())

    assert "number" in refused.value.message_dict


def test_a_buyer_without_an_address_cannot_be_invoiced(acme, db):
    nobody = organisation("nobody", "Nobody B.V.")

    with pytest.raises(ValidationError) as refused:
        invoice_create(seller=acme, buyer=nobody, data=invoice_data())

    assert refused.value.message_dict["buyer.country"][0].startswith("BR-11")


def test_a_sent_invoice_arrives_in_the_buyers_inbox_with_the_verified_seller_and_its_xml(
        acme, recycle, register, alice):
    request = attestation_request(organisation=acme, anchor=register, evidence="KvK extract")
    attestation_approve(request=request)
    mandate = mandate_grant(organisation=acme, scope=Mandate.Scope.INVOICES_SEND, user=alice)
    invoice = invoice_create(seller=acme, buyer=recycle, data=invoice_data())

    invoice = invoice_send(invoice=invoice, actor=actor_of(alice))

    assert invoice.state == Invoice.State.SENT
    [message] = inbox(recycle)
    assert message == invoice.message and message.kind == Message.Kind.INVOICE
    assert (message.sent_by, message.mandate) == (alice, mandate)
    assert message.sender_identity["name"] == "Acme Batteries B.V."
    assert message.sender_identity["anchor"] == register.did
    assert message_verify(message=message)["verified"] is True
    [attachment] = message.attachments.all()
    assert (attachment.filename, attachment.media_type) == ("invoice-acme-2026-0042.xml",
                                                            "application/xml")
    filename, xml = invoice_xml(invoice=invoice)
    assert filename == attachment.filename
    assert from_ubl(xml) == invoice_document(invoice) == received_invoice(message=message)
    assert invoice_send(invoice=invoice, actor=actor_of(alice)).message == message  # sent once


def test_sending_an_invoice_needs_an_invoices_mandate(acme, recycle, alice):
    mandate_grant(organisation=acme, scope=Mandate.Scope.MESSAGES_SEND, user=alice)
    invoice = invoice_create(seller=acme, buyer=recycle, data=invoice_data())

    with pytest.raises(WalletError) as refused:
        invoice_send(invoice=invoice, actor=actor_of(alice))

    assert refused.value.code == "no_mandate"
    invoice.refresh_from_db()
    assert invoice.state == Invoice.State.DRAFT and not Message.objects.exists()


def invoice_message(acme, recycle, xml: bytes) -> Message:
    return message_send(actor=operator(), sender=acme, recipient=recycle, kind=Message.Kind.INVOICE,
                        subject="Invoice", attachments=[Attachment("invoice.xml",
                                                                   "application/xml", xml)])


def test_an_invoice_message_whose_ubl_does_not_add_up_is_rejected(acme, recycle):
    xml = to_ubl(invoice_from_data(invoice_data(), seller=SELLER, buyer=BUYER))
    xml = xml.replace(b">1856.31<", b">1800.00<")

    with pytest.raises(MessageRejected) as refused:
        invoice_message(acme, recycle, xml)

    assert refused.value.code == "invoice_invalid" and "tax_total" in refused.value.detail


def test_an_invoice_message_naming_another_seller_is_rejected(acme, recycle):
    impostor = Party(**{**to_data_party(SELLER), "legal_name": "Acme Batterien GmbH",
                        "vat_id": "DE123456789"})
    xml = to_ubl(invoice_from_data(invoice_data(), seller=impostor, buyer=BUYER))

    with pytest.raises(MessageRejected) as refused:
        invoice_message(acme, recycle, xml)

    assert refused.value.code == "invoice_party_mismatch"


def peppol_data(**overrides) -> dict:
    return invoice_data(profile="peppol", buyer_reference="PO-4711",
                        payment_means=[{"code": "30", "account_id": "NL91ABNA0417164300"}],
                        **overrides)


def test_a_received_invoice_is_accepted_with_the_profile_it_met(acme, recycle):
    invoice_create(seller=acme, buyer=recycle, data=peppol_data())
    peppol = to_ubl(invoice_document(Invoice.objects.get()))
    core = to_ubl(invoice_from_data(invoice_data(number="ACME-2"), seller=SELLER, buyer=BUYER))

    assert invoice_message(acme, recycle, peppol).invoice_profile == "nlcius"
    assert invoice_message(acme, recycle, core).invoice_profile == "en16931"


def test_a_received_peppol_invoice_its_rules_reject_is_not_accepted_into_the_box(acme, recycle):
    invoice_create(seller=acme, buyer=recycle, data=peppol_data())
    xml = to_ubl(invoice_document(Invoice.objects.get()))
    xml = xml.replace(b"<cbc:BuyerReference>PO-4711</cbc:BuyerReference>", b"")

    with pytest.raises(MessageRejected) as refused:
        invoice_message(acme, recycle, xml)

    assert refused.value.code == "invoice_invalid"
    assert "PEPPOL-EN16931-R003" in refused.value.detail
    assert not Message.objects.exists()


# Admin ------------------------------------------------------------------------------------------

def test_the_admin_creates_an_invoice_from_lines_and_sends_it(client, acme, recycle):
    anna = staff_member(acme, "anna")
    mandate_grant(organisation=acme, scope=Mandate.Scope.INVOICES_SEND, user=anna)
    client.force_login(anna)
    form = {"buyer": recycle.pk, "number": "ACME-7", "issue_date": "2026-11-02",
            "due_date": "2026-12-02", "currency": "EUR"}

    refused = client.post("/admin/wallet/invoice/add/", {
        **form, "lines": "Battery pack; 2; C62; 4250.00; S; 0"})
    assert refused.status_code == 200
    assert "lines[0].vat_rate: BR-S-05" in refused.content.decode()

    created = client.post("/admin/wallet/invoice/add/", {
        **form, "lines": "Battery pack; 2; C62; 4250.00; S; 21\n"
                         "Commissioning; 3.5; HUR; 95; S; 21"})
    assert created.status_code == 302, created.content.decode()
    invoice = Invoice.objects.get()
    assert invoice.payable_amount == Decimal("10687.33") and invoice.created_by == anna

    client.post("/admin/wallet/invoice/", {"action": "send", "_selected_action": [invoice.pk]})
    invoice.refresh_from_db()
    assert invoice.state == Invoice.State.SENT and invoice.message.mandate.grantee_user == anna

    client.force_login(staff_member(recycle, "rita"))
    page = client.get(f"/admin/wallet/invoice/{invoice.pk}/change/").content.decode()
    assert "ACME-7" in page and "10687.33" in page
    xml = client.get(f"/admin/wallet/invoice/{invoice.pk}/xml/")
    assert xml.status_code == 200 and from_ubl(xml.content) == invoice_document(invoice)


def test_the_admin_creates_a_peppol_credit_note_with_an_allowance_and_an_iban(
        client, acme, recycle):
    from tests.support.einvoice_conformance import fatal

    anna = staff_member(acme, "anna")
    client.force_login(anna)
    form = {"buyer": recycle.pk, "type_code": "381", "profile": "peppol", "number": "ACME-CN-1",
            "issue_date": "2026-11-02", "due_date": "2026-12-02", "currency": "EUR",
            "buyer_reference": "PO-4711", "lines": "Battery pack; 1; C62; 4250.00; S; 21",
            "allowances_charges": "allowance; 250.00; Goodwill; S; 21"}

    refused = client.post("/admin/wallet/invoice/add/", form)
    assert refused.status_code == 200
    assert "NL-R-001" in refused.content.decode()  # a Dutch credit note names its invoice

    created = client.post("/admin/wallet/invoice/add/", {
        **form, "preceding_invoice": "ACME-7", "iban": "NL91ABNA0417164300"})
    assert created.status_code == 302, created.content.decode()
    invoice = Invoice.objects.get()
    assert invoice.payable_amount == Decimal("4840.00")  # (4250 - 250) × 1.21
    page = client.get(f"/admin/wallet/invoice/{invoice.pk}/change/").content.decode()
    assert "credit note" in page and "NLCIUS over Peppol BIS Billing 3.0" in page
    xml = client.get(f"/admin/wallet/invoice/{invoice.pk}/xml/").content
    assert fatal(xml) == []
