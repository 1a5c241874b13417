"""The EU wallet journey's parties and steps: an attested manufacturer with a staff member's
mandate, a verifier with an API key, and asking, answering and reading an OpenID4VP request for
the mandate."""

from __future__ import annotations

import pytest

from tests.support.api import api_client
from tests.support.factories import organisation, staff_member, trust_anchor
from tests.support.openid4vp_wallet import Wallet
from wallet.business.identity.services import attestation_approve, attestation_request
from wallet.tenancy.api_tokens import api_token_create
from wallet.tenancy.authority import operator
from wallet.tenancy.legal_models import LegalDetails, Mandate
from wallet.tenancy.mandates import MANDATE_VCT, mandate_grant
from wallet.tenancy.models import ApiToken

ASKED = [["scope"], ["principal", "legal_name"]]


@pytest.fixture
def parties(db):
    register = trust_anchor()
    acme = organisation("acme", "Acme Batteries B.V.")
    LegalDetails.objects.create(organisation=acme, registry_id="12345678",
                                euid="NLNHR.12345678")
    attestation_approve(request=attestation_request(organisation=acme, anchor=register,
                                                    evidence="KvK extract 12345678"))
    jan = staff_member(acme, "jan", mandates=())
    mandate = mandate_grant(organisation=acme, scope=Mandate.Scope.PASSPORTS_ISSUE, user=jan)
    verifier = organisation("verifier", "Supplier Onboarding B.V.")
    _, key = api_token_create(actor=operator(), organisation=verifier, name="onboarding",
                              scopes=[ApiToken.Scope.PRESENTATIONS_REQUEST])
    return {"acme": acme, "mandate": mandate, "verifier": api_client(key)}


def ask(verifier) -> dict:
    response = verifier.post("/api/v1/openid4vp/requests", {
        "purpose": "Check that the person may issue passports for Acme",
        "dcql_query": {"credentials": [{
            "id": "mandate", "format": "dc+sd-jwt", "meta": {"vct_values": [MANDATE_VCT]},
            "claims": [{"path": path} for path in ASKED]}]}}, format="json")
    assert response.status_code == 201, response.content
    return response.json()


def answer(holder: Wallet, created: dict):
    request = holder.fetch(created["authorization_request"])
    presentation = holder.presentation(request, "mandate", ASKED)
    return holder.answer(request, {"mandate": [presentation]})


def result(verifier, created: dict) -> dict:
    return verifier.get(f"/api/v1/openid4vp/requests/{created['id']}").json()


def presented(holder: Wallet, verifier) -> dict:
    """The verifier asks, the holder answers with its mandate, and the verifier's result says
    verified: that result."""
    created = ask(verifier)
    accepted = answer(holder, created)
    assert accepted.status_code == 200, accepted.content
    verdict = result(verifier, created)
    assert verdict["status"] == "verified", verdict
    return verdict
