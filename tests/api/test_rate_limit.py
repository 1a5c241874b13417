"""The open endpoints are rate limited per client address: 429 with Retry-After, counted in
the cache (Redis in the real mode, so every web process counts together)."""

import random

import pytest
from django.http import HttpResponse
from django.test import RequestFactory

from core import ratelimit
from core.outages import best_effort


def random_address() -> str:
    """A fresh address per test: counters live in a shared cache in the real mode."""
    return f"10.{random.randrange(256)}.{random.randrange(256)}.{random.randrange(1, 255)}"


@pytest.fixture
def three_per_hour(settings):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {
        **settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "verify": "3/hour"}}


@pytest.mark.parametrize("path", ["/api/v1/verify/", "/credentials/verify",
                                  "/presentations/verify"])
def test_past_the_limit_an_address_gets_429_with_retry_after(anonymous, three_per_hour, path):
    address = random_address()
    body = {"credential": "x", "verifiableCredential": "x", "verifiablePresentation": "x"}
    field = {"/api/v1/verify/": "credential", "/credentials/verify": "verifiableCredential",
             "/presentations/verify": "verifiablePresentation"}[path]

    codes = [anonymous.post(path, {field: body[field]}, format="json",
                            REMOTE_ADDR=address).status_code for _ in range(3)]
    limited = anonymous.post(path, {field: "x"}, format="json", REMOTE_ADDR=address)

    answered = 200 if path == "/api/v1/verify/" else 400  # the VC-API: 400 when not verified
    assert codes == [answered] * 3
    assert limited.status_code == 429
    assert limited["Content-Type"] == "application/problem+json"
    assert limited.json()["code"] == "rate_limited"
    assert 1 <= int(limited["Retry-After"]) <= 3600
    other = anonymous.post(path, {field: "x"}, format="json", REMOTE_ADDR=random_address())
    assert other.status_code == answered


def test_forwarded_addresses_count_only_behind_trusted_proxies(settings):
    request = RequestFactory().get("/", REMOTE_ADDR="10.0.0.1",
                                   HTTP_X_FORWARDED_FOR="203.0.113.9, 198.51.100.7")
    assert ratelimit.client_address(request) == "10.0.0.1"  # spoofable: ignored by default

    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": 1}
    assert ratelimit.client_address(request) == "198.51.100.7"


def test_ipv6_clients_count_per_64_block():
    factory = RequestFactory()
    one = factory.get("/", REMOTE_ADDR="2001:db8:1:2::1")
    two = factory.get("/", REMOTE_ADDR="2001:db8:1:2:ffff::9")
    mapped = factory.get("/", REMOTE_ADDR="::ffff:192.0.2.1")

    assert ratelimit.client_address(one) == ratelimit.client_address(two) == "2001:db8:1:2::/64"
    assert ratelimit.client_address(mapped) == "192.0.2.1"


def test_the_decorator_for_plain_django_views():
    @ratelimit.limit("test-page", limit=2, window=3600)
    def page(request):
        return HttpResponse("ok")

    address = random_address()
    responses = [page(RequestFactory().get("/", REMOTE_ADDR=address)) for _ in range(3)]

    assert [r.status_code for r in responses] == [200, 200, 429]
    assert responses[-1]["Retry-After"].isdigit()


def test_rates_parse_and_can_be_off():
    assert ratelimit.parse_rate("600/minute") == (600, 60)
    assert ratelimit.parse_rate("10/30") == (10, 30)
    assert ratelimit.parse_rate("off") is None
    assert ratelimit.parse_rate(None) is None



@pytest.fixture
def counters():
    """The Redis client behind the cache, where the counters live (the real mode)."""
    from django.core.cache import caches
    from django.core.cache.backends.redis import RedisCache

    cache = caches["default"]
    if not isinstance(cache, RedisCache):
        pytest.skip("counted in Redis only in the real mode")
    return cache._cache.get_client(write=True)


def test_in_redis_the_first_request_of_a_window_sets_its_expiry_and_later_ones_keep_it(
        counters):
    from django.core.cache import cache

    key = f"ratelimit-test:{random_address()}"
    assert ratelimit._increment(key, 30) == 1
    assert 30 < counters.ttl(cache.make_key(key)) <= 31
    counters.expire(cache.make_key(key), 5)  # as if the window were nearly over
    assert ratelimit._increment(key, 30) == 2
    assert 0 < counters.ttl(cache.make_key(key)) <= 5  # not pushed back by a later request


def test_a_redis_without_the_script_is_sent_it_whole(counters, monkeypatch):
    monkeypatch.setattr(ratelimit, "COUNT_SHA", "0" * 40)  # no script has this name: NOSCRIPT
    key = f"ratelimit-test:{random_address()}"
    assert [ratelimit._increment(key, 30) for _ in range(3)] == [1, 2, 3]


def test_a_connection_redis_closed_is_opened_again(counters):
    key = f"ratelimit-test:{random_address()}"
    assert ratelimit._increment(key, 30) == 1
    connection = ratelimit._connections.held[2]
    connection.send_command("CLIENT", "ID")
    counters.client_kill_filter(_id=connection.read_response(), skipme=False)

    assert ratelimit._increment(key, 30) == 2
    assert best_effort.available  # retried on a new connection, not counted in memory


def test_an_error_reply_of_redis_is_raised_as_redis_pys_and_the_next_count_works(counters):
    from django.core.cache import cache
    from redis.exceptions import ResponseError

    key = f"ratelimit-test:{random_address()}"
    counters.set(cache.make_key(key), "not a number")  # INCR answers -ERR
    with pytest.raises(ResponseError, match="not an integer"):
        ratelimit._increment(key, 30)
    counters.delete(cache.make_key(key))
    assert ratelimit._increment(key, 30) == 1
