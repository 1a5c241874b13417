"""The wallet API: messages and e-invoices between organisations through their API keys, with
the sender's verified identity, signed read receipts, and problem+json refusals."""

import base64

import pytest
from rest_framework.test import APIClient

from tests.support.factories import api_key, organisation, trust_anchor
from wallet.business.api.views import SCOPES
from wallet.business.identity.services import attestation_approve, attestation_request
from wallet.business.messaging.invoices import from_ubl, parse_ubl_tree
from wallet.business.messaging.models import Invoice, Message, MessageAttachment
from wallet.tenancy.legal_models import LegalDetails

API = "/api/v1/wallet"
PDF = b"%PDF-1.7 a battery pack specification"


def client_for(org, scopes=SCOPES) -> APIClient:
    token, key = api_key(org, scopes, name="wallet")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


def legal(org, vat_id, street, city, postal_code, registry_id):
    LegalDetails.objects.create(organisation=org, vat_id=vat_id, registry_id=registry_id,
                                street=street, city=city, postal_code=postal_code,
                                country="NL")
    return org


@pytest.fixture
def register(db):
    anchor = trust_anchor()
    return anchor


@pytest.fixture
def acme(db, register):
    org = legal(organisation("acme", "Acme Batteries B.V."), "NL001234567B01",
                "Stationsplein 1", "Eindhoven", "5611 AB", "12345678")
    request = attestation_request(organisation=org, anchor=register, evidence="KvK extract")
    attestation_approve(request=request)
    return org


@pytest.fixture
def recycle(db):
    return legal(organisation("recycle", "Recycle Partners B.V."), "NL009876543B01",
                 "Havenweg 2", "Rotterdam", "3011 AA", "87654321")


@pytest.fixture
def as_acme(acme, recycle):
    return client_for(acme)


@pytest.fixture
def as_recycle(recycle):
    return client_for(recycle)


def send(client, **fields):
    body = {"recipient": "recycle", "subject": "End-of-life packs", "body": "Twelve packs.",
            "attachments": [{"filename": "spec.pdf", "media_type": "application/pdf",
                             "content": base64.b64encode(PDF).decode()}], **fields}
    return client.post(f"{API}/messages/", body, format="json")


def problem(response, status: int) -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/problem+json"
    return response.json()


# Messages -------------------------------------------------------------------------------------

def test_a_message_arrives_with_the_senders_verified_legal_identity(as_acme, as_recycle, acme):
    response = send(as_acme)

    assert response.status_code == 201, response.content
    sent = response.json()
    assert response["Location"] == f"{API}/messages/{sent['id']}/"
    [received] = as_recycle.get(f"{API}/messages/inbox/").json()["results"]
    assert received["id"] == sent["id"] and received["sender"]["did"] == acme.did
    assert received["sender_identity"]["attested"] is True
    assert received["sender_identity"]["legal_person"]["name"] == "Acme Batteries B.V."
    detail = as_recycle.get(received["url"]).json()
    assert detail["verification"]["verified"] is True
    assert detail["jws"].count(".") == 2
    [attachment] = detail["attachments"]
    download = as_recycle.get(attachment["url"])
    assert download.status_code == 200
    assert download.content == PDF
    assert download["Content-Disposition"] == 'attachment; filename="spec.pdf"'
    assert Message.objects.get().api_token.organisation == acme


def test_the_outbox_shows_what_was_sent_and_when_it_was_read(as_acme, as_recycle):
    message_id = send(as_acme).json()["id"]
    [sent] = as_acme.get(f"{API}/messages/outbox/").json()["results"]
    assert sent["read_at"] is None

    created = as_recycle.post(f"{API}/messages/{message_id}/receipt")
    again = as_recycle.post(f"{API}/messages/{message_id}/receipt")

    assert (created.status_code, again.status_code) == (201, 200)
    assert created.json()["id"] == again.json()["id"]
    receipt = as_acme.get(f"{API}/messages/{message_id}/receipt").json()
    assert receipt["kind"] == "receipt" and receipt["verification"]["verified"] is True
    assert {"check": "receipt", "ok": True} in receipt["verification"]["checks"]
    [sent] = as_acme.get(f"{API}/messages/outbox/").json()["results"]
    assert sent["read_at"] is not None
    unread = as_recycle.get(f"{API}/messages/inbox/", {"unread": "true"}).json()
    assert unread["count"] == 0


def test_only_the_recipient_signs_the_read_receipt(as_acme):
    message_id = send(as_acme).json()["id"]

    body = problem(as_acme.post(f"{API}/messages/{message_id}/receipt"), 403)

    assert body["code"] == "not_recipient"


def test_other_organisations_do_not_see_a_message(as_acme, db):
    message_id = send(as_acme).json()["id"]
    outsider = client_for(organisation("other", "Other GmbH"))

    for url in (f"{API}/messages/{message_id}/", f"{API}/messages/{message_id}/attachments/0",
                f"{API}/messages/not-a-uuid/"):
        assert problem(outsider.get(url), 404)["code"] == "not_found"


def test_an_unknown_recipient_is_a_field_error(as_acme):
    body = problem(send(as_acme, recipient="did:web:elsewhere.example"), 400)

    assert body["errors"][0]["field"] == "recipient"


def test_a_message_breaking_the_limits_is_refused_by_field(as_acme):
    body = problem(send(as_acme, subject=" ", attachments=[
        {"filename": "a/b", "media_type": "text/plain", "content": "eA=="},
        {"filename": "c", "media_type": "text/plain", "content": "not base64!"}]), 400)

    assert {error["field"] for error in body["errors"]} == {"subject", "attachments.1.content"}
    body = problem(send(as_acme, subject="Hi", attachments=[
        {"filename": "a/b", "media_type": "Text/Plain", "content": "eA=="}]), 400)
    assert {error["field"] for error in body["errors"]} == {
        "attachments[0].filename", "attachments[0].media_type"}


def test_a_body_over_the_limit_is_refused_before_it_is_read(as_acme, settings):
    settings.MESSAGE_ATTACHMENTS_MAX_BYTES = 100

    body = problem(send(as_acme, body="x" * 300_000), 413)

    assert body["code"] == "payload_too_large"


def test_a_key_needs_the_scope(acme, recycle):
    reader = client_for(acme, scopes=["messages:read"])

    assert problem(send(reader), 403)["code"] == "missing_scope"
    assert reader.get(f"{API}/messages/outbox/").status_code == 200


def test_a_changed_attachment_is_refused_on_download(as_acme, as_recycle):
    message_id = send(as_acme).json()["id"]
    MessageAttachment.objects.update(content=b"%PDF-1.7 something else")

    body = problem(as_recycle.get(f"{API}/messages/{message_id}/attachments/0"), 409)

    assert body["code"] == "attachment_changed" and "spec.pdf" in body["detail"]
    detail = as_recycle.get(f"{API}/messages/{message_id}/").json()
    assert detail["verification"]["verified"] is False


# Invoices -------------------------------------------------------------------------------------

LINES = [{"description": "Battery pack 75 kWh", "quantity": 2, "unit_code": "C62",
          "unit_price": "4250.00", "vat_category": "S", "vat_rate": "21"},
         {"description": "Commissioning", "quantity": "3.5", "unit_code": "HUR",
          "unit_price": "95.00", "vat_category": "S", "vat_rate": "21"}]


def create_invoice(client, **fields):
    body = {"buyer": "recycle", "number": "ACME-2026-0042", "issue_date": "2026-11-02",
            "due_date": "2026-12-02", "currency": "EUR", "lines": LINES, **fields}
    return client.post(f"{API}/invoices/", body, format="json")


def test_an_invoice_is_created_sent_and_downloaded_by_the_buyer(as_acme, as_recycle):
    created = create_invoice(as_acme)
    assert created.status_code == 201, created.content
    invoice = created.json()
    assert invoice["state"] == "draft" and invoice["payable_amount"] == "10687.33"
    assert invoice["document"]["tax_total"] == "1854.83"
    assert as_recycle.get(invoice["url"]).status_code == 404  # a draft is the seller's

    sent = as_acme.post(f"{API}/invoices/{invoice['id']}/send")

    assert sent.status_code == 200, sent.content
    assert sent.json()["state"] == "sent"
    [received] = as_recycle.get(f"{API}/invoices/", {"role": "buyer"}).json()["results"]
    assert received["id"] == invoice["id"] and received["seller"]["slug"] == "acme"
    [message] = as_recycle.get(f"{API}/messages/inbox/", {"kind": "invoice"}).json()["results"]
    assert message["id"] == received["message"]
    assert message["sender_identity"]["legal_person"]["name"] == "Acme Batteries B.V."
    xml = as_recycle.get(received["xml_url"])
    assert xml.status_code == 200 and xml["Content-Type"] == "application/xml"
    assert parse_ubl_tree(xml.content).tag.endswith("}Invoice")
    assert from_ubl(xml.content).payable_amount == Invoice.objects.get().payable_amount
    assert problem(as_recycle.post(f"{API}/invoices/{invoice['id']}/send"), 403)["code"] == \
        "not_seller"


def test_an_invoice_whose_totals_do_not_add_up_is_refused_naming_the_field(as_acme):
    body = problem(create_invoice(as_acme, tax_total="1800.00"), 400)

    [error] = [error for error in body["errors"] if error["field"] == "tax_total"]
    assert error["detail"].startswith("BR-CO-14")
    assert not Invoice.objects.exists()


def test_a_wrong_line_amount_is_named_by_its_line(as_acme):
    lines = [LINES[0], {**LINES[1], "net_amount": "332.49"}]

    body = problem(create_invoice(as_acme, lines=lines), 400)

    assert body["errors"][0]["field"] == "lines[1].net_amount"
    assert body["errors"][0]["detail"].startswith("PEPPOL-EN16931-R120")


def test_a_draft_xml_is_served_to_its_seller(as_acme):
    invoice = create_invoice(as_acme).json()

    xml = as_acme.get(invoice["xml_url"], HTTP_ACCEPT="application/json")

    assert xml.status_code == 200
    assert from_ubl(xml.content).number == "ACME-2026-0042"


PEPPOL_CREDIT_NOTE = {
    "type_code": "381", "profile": "peppol", "preceding_invoice": "ACME-2026-0041",
    "buyer_reference": "PO-4711", "order_reference": "PO-2026-17",
    "delivery_date": "2026-10-30", "payment_terms": "Refunded within 14 days",
    "payment_means": [{"code": "58", "account_id": "NL91ABNA0417164300",
                       "account_name": "Recycle Partners", "bic": "ABNANL2A"}],
    "allowances_charges": [{"charge": False, "amount": "50.00", "reason": "Loyalty",
                            "reason_code": "95", "vat_category": "S", "vat_rate": "21"},
                           {"charge": True, "amount": "12.50", "reason": "Freight",
                            "reason_code": "FC", "vat_category": "S", "vat_rate": "21"}],
    "lines": [{**LINES[0], "order_line_reference": "1", "allowances_charges": [
        {"charge": False, "amount": "100.00", "reason": "Damaged casing", "reason_code": "95"}]},
        LINES[1]],
}


def test_a_peppol_credit_note_is_created_sent_and_its_profile_named_in_the_receipt(
        as_acme, as_recycle):
    from tests.support.einvoice_conformance import fatal, schema_errors

    created = create_invoice(as_acme, **PEPPOL_CREDIT_NOTE)
    assert created.status_code == 201, created.content
    invoice = created.json()
    assert invoice["document"]["profile"] == "nlcius"  # a Dutch seller's Peppol invoice
    assert invoice["document"]["seller"]["endpoint"] == "0106:12345678"
    # 2 × 4250 - 100 + 3.5 × 95 = 8732.50; - 50 + 12.50 = 8695.00; VAT 21% 1825.95
    assert (invoice["document"]["tax_exclusive_amount"], invoice["payable_amount"]) == (
        "8695.00", "10520.95")

    assert as_acme.post(f"{API}/invoices/{invoice['id']}/send").status_code == 200
    [message] = as_recycle.get(f"{API}/messages/inbox/", {"kind": "invoice"}).json()["results"]
    assert message["invoice_profile"] == "nlcius"
    xml = as_recycle.get(f"{API}/invoices/{invoice['id']}/xml").content
    assert parse_ubl_tree(xml).tag.endswith("}CreditNote")
    assert schema_errors(xml) == [] and fatal(xml) == []

    assert as_recycle.post(f"{API}/messages/{message['id']}/receipt").status_code == 201
    receipt = as_acme.get(f"{API}/messages/{message['id']}/receipt").json()
    assert "NLCIUS over Peppol BIS Billing 3.0" in receipt["body"]


def test_an_invoice_its_profile_rejects_is_refused_naming_each_rule(as_acme):
    body = problem(create_invoice(as_acme, profile="peppol", currency="ABC"), 400)

    details = {}
    for error in body["errors"]:
        details.setdefault(error["field"], []).append(error["detail"])
    assert details["buyer_reference"][0].startswith("PEPPOL-EN16931-R003")
    assert details["payment_means"][0].startswith("NL-R-007")
    assert details["currency"][0].startswith("BR-CL-04") and "'ABC'" in details["currency"][0]
    assert details["currency"][1].startswith("PEPPOL-EN16931-CL007")
    assert not Invoice.objects.exists()


def test_the_schema_documents_the_wallet_operations(client):
    schema = client.get("/api/v1/schema/", HTTP_ACCEPT="application/json").json()

    paths = {f"{API}/{route}" for route in (
        "messages/", "messages/inbox/", "messages/outbox/", "messages/{message_id}/",
        "messages/{message_id}/attachments/{position}", "messages/{message_id}/receipt",
        "invoices/", "invoices/{invoice_id}/", "invoices/{invoice_id}/send",
        "invoices/{invoice_id}/xml")}
    assert paths <= set(schema["paths"])
    assert "application/xml" in schema["paths"][f"{API}/invoices/{{invoice_id}}/xml"]["get"][
        "responses"]["200"]["content"]
