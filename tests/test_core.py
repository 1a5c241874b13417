"""The bottom layer's shared infrastructure (issue #17): one problem+json builder with one `type`
base for the API, the public resolver and the rate limiter; one error base mapped the same way
in every API view; one ISO-8601 formatter."""

import gc
import json
import threading
from datetime import UTC, datetime, timedelta, timezone

import pytest

from core import collector, ratelimit
from core.api.problems import TYPE_BASE, exception_handler
from core.errors import DomainError
from core.times import iso8601
from passports.services.issuance import PassportError
from wallet.tenancy.errors import WalletError


def test_the_public_resolver_names_its_problems_under_the_api_type_base(client, db):
    response = client.get("/01/04006381333931", HTTP_ACCEPT="application/vc+jwt")

    assert response.status_code == 404
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["type"] == TYPE_BASE + "unknown_product"
    assert response.json()["status"] == 404


def test_the_rate_limiters_answer_is_the_same_problem_with_retry_after():
    response = ratelimit.too_many_requests(7)

    assert response.status_code == 429
    assert response["Retry-After"] == "7"
    assert response["Content-Type"] == "application/problem+json"
    body = json.loads(response.content)
    assert body == {"type": TYPE_BASE + "rate_limited", "code": "rate_limited",
                    "title": "Too many requests", "status": 429,
                    "detail": "Too many requests from your address; try again in 7 s."}


@pytest.mark.parametrize(("error", "status"), [
    (PassportError("Revoked.", code="revoked"), 409),
    (WalletError("No mandate.", code="no_mandate"), 403),
    (WalletError("Revoked is final.", code="revoked_is_final"), 409),
    (WalletError("Bad input.", code="something_else"), 400),
])
def test_every_domain_error_becomes_a_problem_by_one_mapping(error, status):
    assert isinstance(error, DomainError)

    response = exception_handler(error, {"view": None})

    assert response.status_code == status
    body = json.loads(response.content)
    assert (body["code"], body["detail"], body["type"]) == (
        error.code, error.detail, TYPE_BASE + error.code)


def test_time_stamps_are_utc_whatever_zone_the_moment_is_in():
    moment = datetime(2026, 1, 1, 1, 30, 15, 999, tzinfo=timezone(timedelta(hours=2)))

    assert iso8601(moment) == "2025-12-31T23:30:15Z"
    assert iso8601(moment.astimezone(UTC)) == "2025-12-31T23:30:15Z"


def test_pauses_of_the_collector_nest_across_threads_and_restore_its_state():
    first_entered, second_done = threading.Event(), threading.Event()
    seen = {}

    def other_thread():
        first_entered.wait()
        with collector.paused():
            seen["inside the other"] = gc.isenabled()
        seen["after the other"] = gc.isenabled()  # the first pause is still on
        second_done.set()

    assert gc.isenabled()
    thread = threading.Thread(target=other_thread)
    thread.start()
    with collector.paused():
        first_entered.set()
        second_done.wait()
        seen["inside the first"] = gc.isenabled()
    thread.join()

    assert seen == {"inside the other": False, "after the other": False,
                    "inside the first": False}
    assert gc.isenabled()
    gc.disable()
    try:
        with collector.paused():
            pass
        assert not gc.isenabled()  # a collector someone else turned off stays off
    finally:
        gc.enable()
