"""Chains of evidence: a business register, a test laboratory (a conformity assessment body),
a cell maker and a battery maker, each attested by the register; conformity credentials and
traceability events issued and signed here and now (or by the test's real worker)."""

from __future__ import annotations

import time
from dataclasses import dataclass

from passports.models import EvidenceCredential, Passport, Product
from passports.services.evidence import evidence_request, evidence_sign
from tests.support.factories import GTINS, organisation, trust_anchor
from tests.support.public import make_product
from tests.support.wallet import attest
from wallet.tenancy.authority import operator
from wallet.tenancy.legal_models import LegalDetails
from wallet.tenancy.models import Organisation


@dataclass
class World:
    register: Organisation
    lab: Organisation
    cells: Organisation
    batteries: Organisation


def world(*, attested=("lab", "cells", "batteries")) -> World:
    register = trust_anchor("register", "Demo Business Register")
    lab = organisation("lab", "Voltcheck Test Laboratory B.V.")
    lab.is_conformity_assessment_body = True
    lab.save()
    parties = World(register, lab, organisation("cells", "Cellfab GmbH"),
                    organisation("batteries", "Acme Batteries B.V."))
    for number, name in enumerate(("lab", "cells", "batteries"), start=1):
        LegalDetails.objects.create(organisation=getattr(parties, name),
                                    registry_id=f"1234567{number}", country="NL")
        if name in attested:
            attest(getattr(parties, name), register)
    return parties


def carbon_footprint_subject(product: Product, manufacturer: Organisation, *,
                             value: float = 61.5) -> dict:
    return {
        "name": f"Carbon footprint of {product.name}",
        "scheme": {"id": "https://example.org/schemes/battery-carbon", "name":
                   "Battery carbon footprint scheme"},
        "criterion": {"id": "https://example.org/schemes/battery-carbon/criteria/cf",
                      "name": "Carbon footprint per functional unit"},
        "topic": {"id": "https://vocabulary.uncefact.org/untp/ConformityTopic#emissions",
                  "name": "Carbon footprint"},
        "metric": {"id": "https://example.org/metrics/kgco2e-per-kwh",
                   "name": "kg CO2e per kWh"},
        "value": value, "unit": "KGM",
        "conformance": True, "assessment_date": "2026-11-02",
        "product": {"id": product.digital_link, "name": product.name},
        "issued_to": {"id": manufacturer.did, "name": manufacturer.legal_name},
    }


def sign_now(credential: EvidenceCredential, seconds: float = 30) -> EvidenceCredential:
    """Sign a pending credential here (or wait for the worker that took it)."""
    evidence_sign([credential.pk])
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        credential.refresh_from_db()
        if credential.state != Passport.State.PENDING:
            return credential
        time.sleep(0.1)
    raise AssertionError("the evidence credential stayed pending")


def conformity_credential(lab: Organisation, product: Product) -> EvidenceCredential:
    pending = evidence_request(organisation=lab, kind="conformity", actor=operator(),
                               subject=carbon_footprint_subject(product, product.organisation))
    return sign_now(pending)


def cell_products(cells: Organisation, count: int) -> list[Product]:
    return [make_product(cells, gtin=GTINS[1], serial=f"CELL-{n:03d}", name="NMC811 cell")
            for n in range(count)]
