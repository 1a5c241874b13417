"""Business wallet test helpers: presentations of held credentials, API clients with chosen
scopes, and an attested identity."""

from __future__ import annotations

from rest_framework.test import APIClient

from tests.support.factories import api_key
from wallet.business.identity.services import attestation_approve
from wallet.business.identity.services import attestation_request as request_attestation
from wallet.business.presentations import presentation_create

DOMAIN = "http://localhost:8000"


def present(world, challenge, domain=DOMAIN, credentials=("identity", "role")):
    return presentation_create(holder=world["recycle"],
                               credentials=[world[name] for name in credentials],
                               challenge=challenge, domain=domain)


def client_for(org, scopes) -> APIClient:
    _, key = api_key(org, scopes)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


def attest(acme, register):
    request = request_attestation(organisation=acme, anchor=register,
                                  evidence="KvK extract 12345678 of 2026-11-01")
    return attestation_approve(request=request, reason="extract matches")

