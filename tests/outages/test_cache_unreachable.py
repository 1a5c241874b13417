"""The cache's degraded mode, in process (both modes: the Redis client talks to a loopback
port where nothing listens): the open endpoints answer correctly, the rate limit is counted in
this process's memory, and a nonce that cannot be kept is a 503, not a 500."""

from __future__ import annotations

import socket

import pytest

from core import ratelimit
from core.outages import best_effort
from passports.api import verifying
from tests.support.environment import generous_rate_limits


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]  # closed again: connections are refused


@pytest.fixture
def unreachable_cache(settings):
    settings.CACHES = {"default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": f"redis://127.0.0.1:{closed_port()}/0",
        "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1}}}
    ratelimit._local_counters.clear()  # this process's fallback counts, from earlier tests
    verifying._keys.clear()  # keys of earlier tests' organisations, under the same key ids
    yield
    best_effort.resume()


@pytest.fixture
def passport(db):
    from tests.support.factories import organisation
    from tests.support.public import issue, make_product

    return issue(make_product(organisation("acme", "Acme Batteries B.V.")))


def test_verify_and_the_page_answer_while_the_cache_is_unreachable(
        client, passport, settings, unreachable_cache):
    generous_rate_limits(settings, "verify", "public")

    for _ in range(2):
        answer = client.post("/api/v1/verify/", {"credential": passport.jwt},
                             content_type="application/json")
        assert answer.status_code == 200, answer.content
        assert answer.json()["verified"] is True
    by_id = client.post("/api/v1/verify/", {"passport": str(passport.pk)},
                        content_type="application/json")
    assert by_id.status_code == 200 and by_id.json()["verified"] is True
    page = client.get(f"/01/{passport.product.gtin}/21/{passport.product.serial}",
                      HTTP_ACCEPT="text/html")
    assert page.status_code == 200


def test_the_rate_limit_holds_in_memory_while_the_cache_is_unreachable(
        client, passport, settings, unreachable_cache):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {
        **settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "verify": "2/minute"}}

    statuses = [client.post("/api/v1/verify/", {"credential": passport.jwt},
                            content_type="application/json").status_code for _ in range(3)]

    assert statuses == [200, 200, 429]


def test_a_nonce_that_cannot_be_kept_is_a_503(client, db, unreachable_cache, settings):
    from tests.support.factories import trust_anchor

    generous_rate_limits(settings, "openid4vci")
    issuer = trust_anchor(registry_name="Demo Handelsregister")

    answer = client.post(f"/orgs/{issuer.slug}/openid4vci/nonce")

    assert answer.status_code == 503, answer.content
    assert answer["Retry-After"] == "5"
