"""The API verifier keeps our own DIDs' keys briefly, and reuses a verdict only while the
passports it names keep their state."""

import pytest

from credentials.errors import KeyResolutionError
from passports.api import verifying
from passports.api.verifying import CachedOwnKeys
from passports.services.status import passport_revoke, passport_suspend
from tests.support.formats import vp_jwt, world_for
from wallet.tenancy.authority import operator

OWN = "did:web:localhost%3A8000:orgs:acme#key-1"


class CountingResolver:
    def __init__(self):
        self.calls = []

    def public_key(self, verification_method):
        self.calls.append(verification_method)
        if verification_method.endswith("#missing"):
            raise KeyResolutionError("no such key")
        return f"key of {verification_method}"


def test_own_keys_are_looked_up_once_foreign_ones_every_time():
    resolver = CountingResolver()
    keys = CachedOwnKeys(resolver)
    foreign = "did:web:partner.example#key-1"

    for _ in range(3):
        assert keys.public_key(OWN) == f"key of {OWN}"
        keys.public_key(foreign)

    assert resolver.calls == [OWN, foreign, foreign, foreign]


def test_a_key_that_is_not_there_is_never_cached():
    resolver = CountingResolver()
    keys = CachedOwnKeys(resolver)
    missing = "did:web:localhost%3A8000:orgs:acme#missing"

    for _ in range(2):
        with pytest.raises(KeyResolutionError):
            keys.public_key(missing)

    assert resolver.calls == [missing, missing]


def test_a_verdict_is_reused_while_its_passport_keeps_its_state(anonymous, passport,
                                                                monkeypatch):
    made = []
    real = verifying.api_verifier

    def counting():
        made.append(1)
        return real()

    monkeypatch.setattr(verifying, "api_verifier", counting)

    def verdict():
        return anonymous.post("/api/v1/verify/", {"credential": passport.jwt},
                              format="json").json()

    assert verdict()["verified"] is True
    assert verdict()["verified"] is True
    assert len(made) == 1  # the second came from the cache
    passport_suspend(actor=operator(), passport=passport, reason="check")
    assert verdict()["passport"]["state"] == "suspended"  # at once, not after the cache expires
    passport_revoke(actor=operator(), passport=passport, reason="counterfeit")
    assert verdict()["passport"]["state"] == "revoked"
    assert len(made) == 3


def test_the_verdict_cache_can_be_off(anonymous, passport, settings, monkeypatch):
    settings.API_VERDICT_CACHE_SECONDS = 0
    made = []
    real = verifying.api_verifier
    monkeypatch.setattr(verifying, "api_verifier", lambda: made.append(1) or real())

    for _ in range(2):
        anonymous.post("/api/v1/verify/", {"credential": passport.jwt}, format="json")

    assert len(made) == 2


def test_a_presentation_verdict_follows_the_passports_inside(anonymous, passport):
    body = {"presentation": vp_jwt(world_for(passport), "valid"), "challenge": "c-1",
            "domain": "verifier.example"}
    assert anonymous.post("/api/v1/verify/", body, format="json").json()["verified"] is True

    passport_revoke(actor=operator(), passport=passport, reason="counterfeit")

    assert anonymous.post("/api/v1/verify/", body, format="json").json()["verified"] is False
