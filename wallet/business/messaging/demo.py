"""Demo message box (`manage.py demo`, docs/architecture.md, Demo data): a message from the recycler
to Acme and an e-invoice from Acme to the recycler. Idempotent: running it again changes nothing."""

from __future__ import annotations

from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from wallet.business.messaging.models import Invoice, Message
from wallet.business.messaging.services import (
    Attachment,
    invoice_create,
    invoice_send,
    message_send,
)
from wallet.tenancy.authority import operator
from wallet.tenancy.legal_models import LegalDetails
from wallet.tenancy.models import Organisation

# What an invoice needs of both parties (EN 16931: name, VAT id, address). Used only where an
# organisation has no legal details yet, or leaves these fields blank.
DEMO_LEGAL_DETAILS = {
    "acme": {"euid": "NLNHR.12345678", "registry_id": "12345678", "vat_id": "NL001234567B01",
             "street": "Stationsplein 1", "postal_code": "5611 AB", "city": "Eindhoven",
             "country": "NL"},
    "recycle": {"euid": "NLNHR.87654321", "registry_id": "87654321",
                "vat_id": "NL009876543B01", "street": "Havenweg 2", "postal_code": "3011 AA",
                "city": "Rotterdam", "country": "NL"},
}
MESSAGE_SUBJECT = "Collection of end-of-life battery packs"
MESSAGE_BODY = ("We can collect the twelve end-of-life packs from your Eindhoven site on Tuesday. "
                "The list of packs we expect is attached; please confirm.")
COLLECTION_LIST = (b"serial,model,weight_kg\n"
                   b"SN-0001,75 kWh pack,410\nSN-0002,75 kWh pack,410\nSN-0003,50 kWh pack,290\n")
INVOICE_NUMBER = "ACME-2026-0001"
INVOICE_LINES = [
    {"description": "Battery module 75 kWh (second-life test sample)", "quantity": "2",
     "unit_code": "C62", "unit_price": "1850.00", "vat_category": "S", "vat_rate": "21"},
    {"description": "Technical support for disassembly", "quantity": "3.5",
     "unit_code": "HUR", "unit_price": "95.00", "vat_category": "S", "vat_rate": "21"},
]

# What Dutch receivers over Peppol need beyond the core (NLCIUS): a buyer reference, and how to
# pay. The IBAN is the usual documentation example (ABN AMRO's), not an account.
INVOICE_PEPPOL = {"profile": "peppol", "buyer_reference": "RP-PO-2026-0042",
                  "payment_means": [{"code": "58", "account_id": "NL91ABNA0417164300",
                                     "account_name": "Acme Batteries B.V.",
                                     "payment_id": INVOICE_NUMBER}],
                  "payment_terms": "30 days net"}


def _ensure_legal_details(organisation: Organisation) -> None:
    details, _ = LegalDetails.objects.get_or_create(organisation=organisation)
    blanks = {name: value for name, value in DEMO_LEGAL_DETAILS[organisation.slug].items()
              if not getattr(details, name)}
    if blanks:
        for name, value in blanks.items():
            setattr(details, name, value)
        details.full_clean()
        details.save(update_fields=list(blanks))


@transaction.atomic
def ensure_demo_messages(organisations: dict[str, Organisation]) -> dict:
    """One signed message (recycle → acme, with an attachment) and one sent e-invoice
    (acme → recycle, UBL attached). Returns them as {"message": ..., "invoice": ...}."""
    acme, recycle = organisations["acme"], organisations["recycle"]
    for organisation in (acme, recycle):
        _ensure_legal_details(organisation)

    message = Message.objects.filter(sender=recycle, recipient=acme, kind=Message.Kind.MESSAGE,
                                     subject=MESSAGE_SUBJECT).first()
    if message is None:
        message = message_send(sender=recycle, recipient=acme, subject=MESSAGE_SUBJECT,
                               body=MESSAGE_BODY,
                               attachments=[Attachment("collection-list.csv", "text/csv",
                                                       COLLECTION_LIST)],
                               actor=operator())  # the demo command: the operator acts

    invoice = Invoice.objects.filter(seller=acme, number=INVOICE_NUMBER).first()
    if invoice is None:
        today = timezone.localdate()
        invoice = invoice_create(seller=acme, buyer=recycle, data={
            "number": INVOICE_NUMBER, "issue_date": today.isoformat(),
            "due_date": (today + timedelta(days=30)).isoformat(), "currency": "EUR",
            "lines": INVOICE_LINES, **INVOICE_PEPPOL})
    invoice = invoice_send(invoice=invoice, actor=operator())  # a sent one stays as it is
    return {"message": message, "invoice": invoice}
