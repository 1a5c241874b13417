"""The business wallet tests' shared world (presentations, their API)."""

from __future__ import annotations

import pytest

from passports.services.issuance import passport_request, passports_sign
from passports.services.products import product_create
from tests.support.factories import GTINS, battery_attributes, organisation, trust_anchor
from wallet.business.identity.services import attestation_approve
from wallet.business.identity.services import attestation_request as request_attestation
from wallet.business.presentations import (
    role_credential_issue,
)
from wallet.tenancy.authority import operator
from wallet.tenancy.legal_models import LegalDetails


@pytest.fixture
def world(db):
    register = trust_anchor()
    acme = organisation("acme", "Acme Batteries B.V.")
    recycle = organisation("recycle", "Recycle Partners B.V.")
    LegalDetails.objects.create(organisation=recycle, registry_id="87654321",
                                euid="NLNHR.87654321")
    identity, business_identity = attestation_approve(request=request_attestation(
        organisation=recycle, anchor=register, evidence="KvK extract"))
    role = role_credential_issue(issuer=register, holder=recycle, role="authorised recycler",
                                 access_group="legitimate_interest")
    product = product_create(organisation=acme, gtin=GTINS[0], serial="B-7", name="Pack",
                             category="battery", country_of_production="NL",
                             attributes=battery_attributes(remainingCapacity=47,
                                                           stateOfCertifiedEnergy=95))
    passport = passport_request(actor=operator(), product=product)
    passports_sign([passport.pk])
    passport.refresh_from_db()
    return {"register": register, "acme": acme, "recycle": recycle, "identity": identity,
            "business_identity": business_identity, "role": role, "passport": passport}
