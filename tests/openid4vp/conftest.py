"""The OpenID4VP world: a trust anchor (register) that attested the issuer acme; acme issues
an identity-style SD-JWT VC (the spec examples' vct and claims) to a holder's P-256 wallet key,
with a Token Status List entry; another organisation (other) that nobody attested; and the
verifier's customer (verifier org) with an API key that may request presentations."""

from __future__ import annotations

import uuid

import pytest

from passports.models import Entitlement, Passport
from tests.support.api import battery_product
from tests.support.credential_fixtures import Network
from tests.support.environment import generous_rate_limits
from tests.support.factories import organisation, trust_anchor
from tests.support.openid4vp import World, attested, issue_identity
from tests.support.openid4vp_wallet import Wallet
from tests.support.passport_access import Access
from tests.support.pki import foreign_sd_jwt_vc, root_ca, status_list_token
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


@pytest.fixture(scope="module")
def root():
    return root_ca("EU Trusted List Test Root")


@pytest.fixture
def provider(root):
    return root.intermediate("PID Provider Issuing CA").issue()


@pytest.fixture
def status_lists(monkeypatch):
    return Network(monkeypatch)


@pytest.fixture
def pid(world, provider, status_lists):
    """The wallet's PID, its entry (index 7) in the provider's list, valid for now."""
    uri = f"https://pid-provider.example.eu/status/{uuid.uuid4()}"
    status_lists.bodies[uri] = status_list_token(provider, uri, {})
    world.wallet.credentials["pid"] = foreign_sd_jwt_vc(
        provider, world.wallet.key.public_key(),
        status={"status_list": {"idx": 7, "uri": uri}})
    return uri


@pytest.fixture
def anchored(settings, root):
    settings.OPENID4VP_TRUSTED_ISSUER_CERTIFICATES = root.pem


@pytest.fixture
def access(db, client, django_capture_on_commit_callbacks) -> Access:
    register = trust_anchor()
    acme = attested(organisation("acme", "Acme Batteries B.V."), register, "12345678")
    recycle = organisation("recycle", "Recycle Partners B.V.")
    other = attested(organisation("other", "Other Batteries GmbH"), register, "99999999")
    Entitlement.objects.create(manufacturer=acme, partner=recycle,
                               access_group="legitimate_interest")
    with django_capture_on_commit_callbacks(execute=True):
        from passports.services.issuance import passport_request

        passport = passport_request(actor=operator(), product=battery_product(acme))
    passport.refresh_from_db()
    assert passport.state == Passport.State.ISSUED
    return Access(register, acme, recycle, other, passport, Wallet(client))
