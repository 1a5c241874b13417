"""The OpenID4VP world: a trust anchor (register) that attested the issuer acme; acme issues
an identity-style SD-JWT VC (the spec examples' vct and claims) to a holder's P-256 wallet key,
with a Token Status List entry; another organisation (other) that nobody attested; and the
verifier's customer (verifier org) with an API key that may request presentations."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from credentials.key_store import signer_for
from credentials.status_registry import TokenEntry, token_entry_allocate
from credentials.suites.sd_jwt import SD_JWT_VC
from tests.api.conftest import api_client
from tests.conftest import generous_rate_limits
from tests.openid4vp.wallet import Wallet
from tests.passports.factories import organisation, trust_anchor
from wallet.business.identity.services import attestation_approve, attestation_request
from wallet.tenancy.api_tokens import api_token_create
from wallet.tenancy.legal_models import LegalDetails
from wallet.tenancy.models import ApiToken, Organisation

# The vct and claims of the OpenID4VP 1.0 DCQL examples (§6.4, Annex D).
IDENTITY_VCT = "https://credentials.example.com/identity_credential"
CLAIMS = {"given_name": "Erika", "family_name": "Mustermann", "birthdate": "1964-08-12",
          "address": {"street_address": "Heidestraße 17", "locality": "Köln",
                      "postal_code": "51147", "region": "NRW"},
          "nationalities": ["DE", "NL"]}
DISCLOSABLE = ["given_name", "family_name", "birthdate", "address", "address.street_address",
               "address.locality", "address.postal_code", "address.region", "nationalities",
               "nationalities.0", "nationalities.1"]


@dataclass
class Issued:
    credential: str
    entry: TokenEntry


def issue_identity(issuer: Organisation, wallet: Wallet, *, vct: str = IDENTITY_VCT,
                   claims: dict | None = None) -> Issued:
    """An SD-JWT VC from `issuer` (its did:web key), bound to the wallet's P-256 key."""
    entry = token_entry_allocate(issuer.did)
    credential = SD_JWT_VC.secure(
        {"vct": vct, "sub": "urn:example:holder:erika", **(claims or CLAIMS)},
        signer_for(issuer.did), disclosable=DISCLOSABLE if claims is None else list(claims),
        holder_key=wallet.key.public_key(), status=entry.reference())
    return Issued(credential, entry)


def attested(org: Organisation, register: Organisation, registry_id: str) -> Organisation:
    LegalDetails.objects.create(organisation=org, registry_id=registry_id,
                                euid=f"NLNHR.{registry_id}")
    attestation_approve(request=attestation_request(organisation=org, anchor=register,
                                                    evidence="KvK extract"))
    return org


@dataclass
class World:
    register: Organisation
    acme: Organisation
    other: Organisation
    verifier: Organisation
    key: str
    wallet: Wallet
    issued: Issued

    @property
    def api(self):
        return api_client(self.key)


@pytest.fixture(autouse=True)
def _generous_rate_limits(settings):
    generous_rate_limits(settings, "verify", "public")


@pytest.fixture
def world(db, client) -> World:
    register = trust_anchor()
    acme = attested(organisation("acme", "Acme Batteries B.V."), register, "12345678")
    other = organisation("other", "Other Unattested B.V.")
    verifier = organisation("verifier", "Verifying Customer B.V.")
    _, key = api_token_create(organisation=verifier, name="openid4vp",
                              scopes=[ApiToken.Scope.PRESENTATIONS_REQUEST])
    wallet = Wallet(client)
    issued = issue_identity(acme, wallet)
    wallet.credentials["identity"] = issued.credential
    return World(register, acme, other, verifier, key, wallet, issued)


def simple_query(*paths: list, query_id: str = "my_credential", vct: str = IDENTITY_VCT,
                 **extra) -> dict:
    return {"credentials": [{"id": query_id, "format": "dc+sd-jwt",
                             "meta": {"vct_values": [vct]},
                             "claims": [{"path": list(p)} for p in paths], **extra}]}


def create_request(world: World, query: dict | None = None, *, mode: str = "direct_post.jwt",
                   **fields) -> dict:
    body = {"dcql_query": query or simple_query(["family_name"], ["given_name"],
                                                ["address", "street_address"]),
            "purpose": "Check who signs the contract", "response_mode": mode, **fields}
    response = world.api.post("/api/v1/openid4vp/requests", body, format="json")
    assert response.status_code == 201, response.content
    return response.json()


def result_of(world: World, created: dict) -> dict:
    response = world.api.get(f"/api/v1/openid4vp/requests/{created['id']}")
    assert response.status_code == 200, response.content
    return response.json()
