"""Restricted passport data through an EU wallet: who takes part, and the partner's steps (ask
without an API key, present the access role, read once with the secret)."""

from __future__ import annotations

from dataclasses import dataclass

from credentials.key_store import signer_for
from credentials.status_registry import token_entry_allocate
from credentials.suites.sd_jwt import SD_JWT_VC
from passports.models import Passport
from tests.support.openid4vp_wallet import Wallet
from wallet.business.presentations import ACCESS_ROLE_VCT
from wallet.tenancy.models import Organisation


@dataclass
class Access:
    register: Organisation
    acme: Organisation
    recycle: Organisation
    other: Organisation
    passport: Passport
    wallet: Wallet


def role_credential(issuer: Organisation, holder: Organisation, wallet: Wallet, *,
                    group: str = "legitimate_interest", role: str = "authorised recycler") -> str:
    """An access-role SD-JWT VC as the OpenID4VCI issuer makes it: sub in the clear, role and
    access group disclosable, bound to the wallet's key, with a status entry."""
    return SD_JWT_VC.secure(
        {"vct": ACCESS_ROLE_VCT, "sub": holder.did, "role": role, "access_group": group},
        signer_for(issuer.did), disclosable=["role", "access_group"],
        holder_key=wallet.key.public_key(),
        status=token_entry_allocate(issuer.did).reference())


def ask(client, passport) -> dict:
    response = client.post(f"/api/v1/passports/{passport.pk}/access/openid4vp")
    assert response.status_code == 201, response.content
    return response.json()


def read(client, asked: dict, secret: str | None = None, **headers):
    path = asked["result_url"].removeprefix("http://localhost:8000")
    return client.get(path, HTTP_AUTHORIZATION=f"Bearer {secret or asked['read_secret']}",
                      **headers)


def present_role(access: Access, asked: dict, credential: str):
    access.wallet.credentials["role"] = credential
    request = access.wallet.fetch(asked["authorization_request"])
    return access.wallet.answer_query(request, "role")
