"""Redis (cache and broker) down under a running gunicorn: revocation is recorded and answered
202 (its list is republished by the sweep once Redis is back), verification by id and by JWT
and the public page answer correctly (the verdict caches are skipped, the rate limiter counts
in each process's memory), and nothing answers 500."""

from __future__ import annotations

from datetime import timedelta

import pytest

from credentials import status_registry
from credentials.models import StatusChange
from credentials.signing import decode_jwt_parts
from credentials.status_list import Bitstring
from credentials.tasks import publish_due_status_lists
from passports.models import Passport
from tests.support.outages import failing_checks, page_path

pytestmark = pytest.mark.django_db(transaction=True)


def redis_down(server) -> None:
    server.cache.cut()
    server.broker.cut()


def test_revoke_verify_and_the_page_keep_working_while_redis_is_down(acme, web_server,
                                                                      monkeypatch):
    server = web_server()
    revoked, valid = acme.passport(0), acme.passport(1)
    redis_down(server)

    answer = server.request("POST", f"/api/v1/passports/{revoked.pk}/revoke",
                            body={"reason": "counterfeit cells"}, headers=acme.headers)

    assert answer.status == 202, answer.body
    assert answer.json()["state"] == "revoked"
    assert Passport.objects.get(pk=revoked.pk).state == "revoked"
    assert StatusChange.objects.filter(status_list_id=revoked.status_list_id,
                                       index=revoked.status_index, value=1).exists()

    by_id = server.request("POST", "/api/v1/verify/", body={"passport": str(revoked.pk)})
    assert by_id.status == 200, by_id.body
    assert by_id.json()["verified"] is False
    assert any(check["check"] == "status" and check.get("detail") == "revoked"
               for check in failing_checks(by_id.json()))

    for _ in range(2):  # the second would be a verdict cache hit
        by_jwt = server.request("POST", "/api/v1/verify/", body={"credential": valid.jwt})
        assert by_jwt.status == 200, by_jwt.body
        assert by_jwt.json()["verified"] is True

    page = server.request("GET", page_path(revoked) + "?lang=en",
                          headers={"Accept": "text/html"})
    assert page.status == 200, page.body
    assert "Revoked" in page.text
    assert server.request("GET", page_path(valid), headers={"Accept": "text/html"}).status == 200
    assert server.request("GET", "/qr" + page_path(valid)).status == 200

    log = server.log()
    assert "cache unavailable" in log
    assert "Internal Server Error" not in log and "Traceback" not in log

    # Redis is back: the sweep republishes the list with the revocation.
    server.cache.restore()
    server.broker.restore()
    monkeypatch.setattr(status_registry, "STALE_AFTER", timedelta(0))
    assert publish_due_status_lists() >= 1
    published = server.request("GET", f"/status/{revoked.status_list_id}")
    assert published.status == 200
    bits = Bitstring.decode(decode_jwt_parts(published.text)[1]["credentialSubject"]
                            ["encodedList"])
    assert bits.get(revoked.status_index) is True
    assert bits.get(valid.status_index) is False


def test_the_rate_limit_still_holds_per_process_while_redis_is_down(acme, web_server):
    # 3 per minute per address; while Redis is down each of the 2 workers counts its own, so
    # of 7 requests at least one process sees a fourth.
    server = web_server(env={"RATE_LIMIT_VERIFY": "3/minute"})
    valid = acme.passport(1)
    redis_down(server)

    answers = [server.request("POST", "/api/v1/verify/", body={"credential": valid.jwt})
               for _ in range(7)]

    statuses = [answer.status for answer in answers]
    assert set(statuses) == {200, 429}, statuses
    limited = next(answer for answer in answers if answer.status == 429)
    assert limited.json()["code"] == "rate_limited" and int(limited.headers["retry-after"]) > 0
    assert all(answer.json()["verified"] is True for answer in answers if answer.status == 200)
