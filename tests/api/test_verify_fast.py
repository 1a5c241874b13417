"""The usual verify request (a credential, from a client that takes plain JSON) is answered
without DRF's request cycle (passports/api/verify_fast.py). It must answer exactly as the full
path does: the same bytes and headers, the same rate limit, a revocation seen at once, and every
other request (and every error) left to the full path."""

import json
import random

import pytest

from passports.api import views
from passports.services.status import passport_revoke, passport_suspend
from wallet.tenancy.authority import operator

URL = "/api/v1/verify/"
FULL_PATH = "application/json, */*"  # an Accept header the fast path leaves to negotiation


def post_json(client, body, **extra):
    data = body if isinstance(body, str | bytes) else json.dumps(body)
    return client.generic("POST", URL, data, content_type="application/json", **extra)


@pytest.fixture
def full_path_refused(monkeypatch):
    """Fails any request that reaches VerifyApi.post: proves the fast path answered."""
    def refuse(self, request):
        raise AssertionError("the full path answered a usual request")

    monkeypatch.setattr(views.VerifyApi, "post", refuse)


def test_a_credential_gets_the_same_bytes_and_headers_as_through_the_full_path(
        anonymous, passport):
    full = post_json(anonymous, {"credential": passport.jwt}, HTTP_ACCEPT=FULL_PATH)
    fast = post_json(anonymous, {"credential": passport.jwt})
    again = post_json(anonymous, {"credential": passport.jwt}, HTTP_ACCEPT="*/*")

    assert full.status_code == fast.status_code == again.status_code == 200
    assert fast.content == full.content == again.content
    for header in ("Content-Type", "Allow", "X-Frame-Options", "Vary"):
        assert fast.get(header) == full.get(header), header
    assert json.loads(fast.content)["verified"] is True


def test_a_raw_compact_credential_gets_the_same_verdict(anonymous, passport):
    as_json = post_json(anonymous, {"credential": passport.jwt})
    raw = anonymous.generic("POST", URL, passport.jwt, content_type="application/vc+jwt")

    assert raw.status_code == 200
    assert raw.content == as_json.content


def test_the_usual_requests_do_not_reach_the_full_path(anonymous, passport,
                                                       full_path_refused):
    assert post_json(anonymous, {"credential": passport.jwt}).status_code == 200
    assert anonymous.generic("POST", URL, f"  {passport.jwt}\n",
                             content_type="application/vc+jwt").status_code == 200
    assert post_json(anonymous, {"credential": "garbage"}).json()["verified"] is False


def test_a_revocation_shows_at_once(anonymous, passport, full_path_refused):
    def state():
        return post_json(anonymous, {"credential": passport.jwt}).json()["passport"]["state"]

    assert state() == "issued"
    passport_suspend(actor=operator(), passport=passport, reason="check")
    assert state() == "suspended"
    passport_revoke(actor=operator(), passport=passport, reason="counterfeit")
    verdict = post_json(anonymous, {"credential": passport.jwt}).json()

    assert verdict["passport"]["state"] == "revoked"
    assert verdict["verified"] is False


@pytest.mark.parametrize("body", [
    '{"credential": ',                                  # malformed: 400 parse_error
    "[]",                                               # not an object: 400
    '{"credential": null}',                             # no credential: 400
    '{"credential": "x", "passport": "nope"}',          # more than the credential
    '{"credential": 123456789012345678901234567890}',   # orjson refuses, the stdlib reads it
    '{"credential": "\\ud800"}',                        # a lone surrogate: the same
])
def test_anything_else_is_left_to_the_full_path(anonymous, body):
    fast = post_json(anonymous, body)
    full = post_json(anonymous, body, HTTP_ACCEPT=FULL_PATH)

    assert fast.status_code == full.status_code
    assert fast["Content-Type"] == full["Content-Type"]
    assert fast.json() == full.json()


def test_malformed_json_is_still_a_problem(anonymous):
    response = post_json(anonymous, '{"credential": ')

    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["code"] == "parse_error"


def test_a_client_that_asks_for_indented_json_gets_it(anonymous, passport):
    response = post_json(anonymous, {"credential": passport.jwt},
                         HTTP_ACCEPT="application/json; indent=2")

    assert response.status_code == 200
    assert response.content.startswith(b"{\n  ")
    assert response.json() == post_json(anonymous, {"credential": passport.jwt}).json()


def test_the_rate_limit_counts_each_request_once_and_answers_as_before(anonymous, settings,
                                                                        passport):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {
        **settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "verify": "2/hour"}}
    address = {"REMOTE_ADDR": f"10.{random.randrange(256)}.{random.randrange(256)}.7"}

    codes = [post_json(anonymous, {"credential": passport.jwt}, **address).status_code
             for _ in range(2)]
    fast = post_json(anonymous, {"credential": passport.jwt}, **address)
    full = post_json(anonymous, {"credential": passport.jwt}, HTTP_ACCEPT=FULL_PATH,
                     **address)

    assert codes == [200, 200]
    assert fast.status_code == full.status_code == 429
    assert fast.json()["code"] == full.json()["code"] == "rate_limited"
    assert fast["Content-Type"] == full["Content-Type"] == "application/problem+json"
    assert fast["Allow"] == full["Allow"]
    assert 1 <= int(fast["Retry-After"]) <= 3600


def test_a_body_over_the_limit_is_still_413(anonymous):
    big = json.dumps({"credential": "x" * (256 * 1024)})

    response = post_json(anonymous, big)

    assert response.status_code == 413
    assert response.json()["code"] == "payload_too_large"
