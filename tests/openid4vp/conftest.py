"""The OpenID4VP world: a trust anchor (register) that attested the issuer acme; acme issues
an identity-style SD-JWT VC (the spec examples' vct and claims) to a holder's P-256 wallet key,
with a Token Status List entry; another organisation (other) that nobody attested; and the
verifier's customer (verifier org) with an API key that may request presentations."""

from __future__ import annotations

import pytest

from tests.support.environment import generous_rate_limits
from tests.support.factories import organisation, trust_anchor
from tests.support.openid4vp import World, attested, issue_identity
from tests.support.openid4vp_wallet import Wallet
from wallet.tenancy.api_tokens import api_token_create
from wallet.tenancy.authority import operator
from wallet.tenancy.models import ApiToken


@pytest.fixture(autouse=True)
def _generous_rate_limits(settings):
    generous_rate_limits(settings, "verify", "public")


@pytest.fixture
def world(db, client) -> World:
    register = trust_anchor()
    acme = attested(organisation("acme", "Acme Batteries B.V."), register, "12345678")
    other = organisation("other", "Other Unattested B.V.")
    verifier = organisation("verifier", "Verifying Customer B.V.")
    _, key = api_token_create(actor=operator(), organisation=verifier, name="openid4vp",
                              scopes=[ApiToken.Scope.PRESENTATIONS_REQUEST])
    wallet = Wallet(client)
    issued = issue_identity(acme, wallet)
    wallet.credentials["identity"] = issued.credential
    return World(register, acme, other, verifier, key, wallet, issued)


