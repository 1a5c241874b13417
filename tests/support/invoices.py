"""E-invoice test parties: Acme selling to Recycle, with the legal details an invoice needs."""

from __future__ import annotations

from wallet.business.messaging.invoices import Party
from wallet.tenancy.legal_models import LegalDetails

SELLER = Party(legal_name="Acme Batteries B.V.", vat_id="NL001234567B01",
               registry_id="12345678", street="Stationsplein 1", city="Eindhoven",
               postal_code="5611 AB", country="NL")
BUYER = Party(legal_name="Recycle Partners B.V.", vat_id="NL009876543B01",
              registry_id="87654321", street="Havenweg 2", city="Rotterdam",
              postal_code="3011 AA", country="NL")


def invoice_data(**overrides) -> dict:
    return {"number": "ACME-2026-0042", "issue_date": "2026-11-02", "due_date": "2026-12-02",
            "currency": "EUR",
            "lines": [
                {"description": "Battery pack 75 kWh", "quantity": "2", "unit_code": "C62",
                 "unit_price": "4250.00", "vat_category": "S", "vat_rate": "21"},
                {"description": "Commissioning", "quantity": "3.5", "unit_code": "HUR",
                 "unit_price": "95.333", "vat_category": "S", "vat_rate": "21"},
                {"description": "Cathode scrap", "quantity": "12.5", "unit_code": "KGM",
                 "unit_price": "1.10", "vat_category": "S", "vat_rate": "9"},
            ], **overrides}


def with_legal_details(org, party: Party):
    LegalDetails.objects.create(organisation=org, vat_id=party.vat_id,
                                registry_id=party.registry_id, street=party.street,
                                city=party.city, postal_code=party.postal_code,
                                country=party.country)
    return org
