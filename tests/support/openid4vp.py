"""The OpenID4VP world's parts: identity-style SD-JWT VCs (the spec examples' vct and
claims) bound to a holder's wallet key, attested organisations, DCQL queries, and presentation
requests made and read through the API."""

from __future__ import annotations

from dataclasses import dataclass

from credentials.key_store import signer_for
from credentials.status_registry import TokenEntry, token_entry_allocate
from credentials.suites.sd_jwt import SD_JWT_VC
from tests.support.api import api_client
from tests.support.openid4vp_vectors import published
from tests.support.openid4vp_wallet import Wallet
from wallet.business.identity.services import attestation_approve, attestation_request
from wallet.tenancy.legal_models import LegalDetails
from wallet.tenancy.models import Organisation

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


def refused(answer, error: str, *words: str) -> dict:
    assert answer.status_code == 400, answer.content
    assert answer["Content-Type"] == "application/json"
    body = answer.json()
    assert body["error"] == error, body
    for word in words:
        assert word in body["error_description"], body
    return body


def failed(world, created, code: str, *words: str) -> dict:
    result = result_of(world, created)
    assert result["status"] == "failed", result
    assert result["error_code"] == code, result
    for word in words:
        assert word in result["reason"], result
    return result


# The specification's published examples (tests/vectors/openid4vp, MANIFEST.md).
CREDENTIALS_ALTERNATIVES = published("dcql_credentials_alternatives.json")  # Appendix D


CLAIMS_ALTERNATIVES = published("dcql_claims_alternatives.json")  # Appendix D


SIMPLE_MDOC = published("dcql_simple_mdoc.json")  # Appendix D
