"""The broker down under a running gunicorn: a passport request is answered at once (202,
pending) instead of holding a worker while Celery retries, /health/ keeps answering, the log
names the failed enqueue without a CRITICAL "must be restarted", and the sweep issues the
passport once the broker is back."""

from __future__ import annotations

from datetime import timedelta

import pytest

from passports.models import Passport
from passports.services.issuance import passports_requeue_stale
from tests.support.api import battery_product
from tests.support.waiting import wait_for_state

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("hang", [False, True], ids=["refused", "unanswered"])
def test_issuance_while_the_broker_is_down_is_accepted_and_issued_by_the_sweep(
        acme, web_server, hang):
    server = web_server()
    products = [battery_product(acme.organisation, serial) for serial in ("SN-3", "SN-4")]
    server.broker.cut(hang=hang)

    # As many requests as gunicorn has workers: none is held by the broker.
    answers = [server.request("POST", "/api/v1/passports/", body={"product": product.pk},
                              headers=acme.headers) for product in products]
    health = server.request("GET", "/health/")

    assert [answer.status for answer in answers] == [202, 202], answers
    assert {answer.json()["state"] for answer in answers} == {"pending"}
    assert health.status == 503 and health.json()["broker"].startswith("down")
    log = server.log()
    # The bound is the broker's own timeouts with no retry: the publish fails by name.
    assert log.count("broker unavailable: could not enqueue passports.sign "
                     "(OperationalError") == 2
    assert "CRITICAL" not in log and "must be restarted" not in log
    passports = [Passport.objects.get(pk=answer.json()["id"]) for answer in answers]
    assert {passport.state for passport in passports} == {Passport.State.PENDING}

    server.broker.restore()
    assert passports_requeue_stale(older_than=timedelta(0), claim_grace=timedelta(0)) == 2

    for passport in passports:
        wait_for_state(passport, Passport.State.ISSUED)
    assert server.request("GET", "/health/").status == 200
