"""Webhooks (issue #24, webhooks/): a real local HTTPS receiver gets Standard Webhooks
messages that verify with the documented recipe (docs/webhooks.md: `standardwebhooks.Webhook
(secret).verify(body, headers)`); a receiver that is down gets the retries of the schedule and
then a failure the admin shows; nothing goes to a private address without the test-only
allowance; an organisation that is not entitled hears of nothing.

Embedded mode sends with eager tasks (a retry follows at once); the `worker` tests go through
the real Celery worker, whose retry schedule (tests/support/receiver.py) they check."""

from __future__ import annotations

import json
import time

import pytest
from django.contrib.auth import get_user_model
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from core import events
from passports.models import Entitlement
from passports.services.issuance import passport_request
from passports.services.status import passport_reinstate, passport_revoke, passport_suspend
from tests.support.api import battery_product, party
from tests.support.factories import organisation
from tests.support.public import issue as sign_here
from tests.support.receiver import RETRY_SCHEDULE, Receiver, allow_loopback, down_url
from wallet.tenancy.authority import operator
from webhooks.models import Delivery, Subscription
from webhooks.services import secret_of

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def receiver():
    server = Receiver()
    yield server
    server.stop()


@pytest.fixture
def allowance(settings):
    allow_loopback(settings)


@pytest.fixture
def acme(db):
    return party(organisation("acme", "Acme Batteries B.V."))


@pytest.fixture
def recycle(acme):
    partner = party(organisation("recycle", "Recycle B.V."))
    Entitlement.objects.create(manufacturer=acme.organisation, partner=partner.organisation,
                               access_group="legitimate_interest")
    return partner


@pytest.fixture
def other(db):
    return party(organisation("other", "Other Batteries GmbH"))


@pytest.fixture
def passport(acme):
    return sign_here(battery_product(acme.organisation))  # signed in this process, both modes


def subscribe(party, url: str, kinds=(events.PASSPORT_REVOKED,)) -> tuple[str, str]:
    response = party.client.post("/api/v1/webhooks/subscriptions/",
                                 {"url": url, "events": list(kinds)}, format="json")
    assert response.status_code == 201, response.content
    return response.json()["id"], response.json()["secret"]


# Signed delivery -------------------------------------------------------------------------------

def _verified(secret: str, request) -> dict:
    """docs/webhooks.md's recipe for receivers."""
    return Webhook(secret).verify(request.body, request.headers)


def test_a_revocation_delivers_one_signed_event_that_verifies(allowance, receiver, acme,
                                                              passport):
    _id, secret = subscribe(acme, receiver.url)

    passport_revoke(actor=operator(), passport=passport, reason="Cell defect")

    [request] = receiver.wait_for(1)
    message = _verified(secret, request)
    assert message["type"] == "passport.revoked"
    assert message["data"]["passport"] == str(passport.pk)
    assert message["data"]["reason"] == "Cell defect"
    assert request.headers["webhook-id"].startswith("evt_")
    assert request.headers["webhook-signature"].startswith("v1,")
    with pytest.raises(WebhookVerificationError):  # another secret does not verify it
        Webhook("whsec_" + "A" * 43 + "=").verify(request.body, request.headers)
    time.sleep(0.2)  # nothing else arrives (a second delivery would be a duplicate)
    assert len(receiver.requests) == 1
    delivery = Delivery.objects.get()
    assert (delivery.state, delivery.attempts, delivery.last_status) == ("delivered", 1, 200)
    assert delivery.log.get().latency_ms > 0


def test_every_passport_event_is_delivered_to_who_asked_for_it(allowance, receiver, acme,
                                                                passport,
                                                                django_capture_on_commit_callbacks):
    _id, secret = subscribe(acme, receiver.url, events.KINDS[:5])

    passport_suspend(actor=operator(), passport=passport, reason="Review")
    passport_reinstate(actor=operator(), passport=passport)
    with django_capture_on_commit_callbacks(execute=True):
        newer = passport_request(actor=operator(), product=passport.product)

    received = receiver.wait_for(4)
    types = [_verified(secret, r)["type"] for r in received]
    assert sorted(types) == sorted(["passport.suspended", "passport.reinstated",
                                    "passport.issued", "passport.superseded"])
    superseded = next(json.loads(r.body) for r in received
                      if json.loads(r.body)["type"] == "passport.superseded")
    assert superseded["data"]["superseded_by"] == str(newer.pk)


def test_nothing_is_sent_for_a_rolled_back_change(allowance, receiver, acme, passport):
    from django.db import transaction

    subscribe(acme, receiver.url)
    with pytest.raises(RuntimeError), transaction.atomic():
        passport_revoke(actor=operator(), passport=passport)
        raise RuntimeError("rolled back")
    assert Delivery.objects.count() == 0 and receiver.requests == []


# Retries ---------------------------------------------------------------------------------------

def test_a_receiver_that_is_down_gets_every_retry_then_fails(allowance, acme, passport):
    subscribe(acme, down_url())

    passport_revoke(actor=operator(), passport=passport)

    delivery = Delivery.objects.get()
    schedule = [float(v) for v in RETRY_SCHEDULE.split(",")]
    assert delivery.state == "failed"
    assert delivery.attempts == len(schedule) + 1
    assert all(a.status is None and a.error.startswith("failed") for a in delivery.log.all())


def test_a_server_error_is_retried_and_a_later_success_delivers(allowance, receiver, acme,
                                                                passport, settings):
    settings.WEBHOOK_RETRY_SCHEDULE = [0.0, 0.0, 0.0]
    subscribe(acme, receiver.url)
    receiver.status = 503
    passport_revoke(actor=operator(), passport=passport)
    delivery = Delivery.objects.get()
    assert (delivery.state, delivery.attempts, delivery.last_status) == ("failed", 4, 503)

    receiver.status = 200
    admin = get_user_model().objects.create_superuser("root", "root@example.org", "pw")
    from django.test import Client
    browser = Client()
    browser.force_login(admin)
    page = browser.get("/admin/webhooks/delivery/?state=failed")
    assert b"passport.revoked" in page.content
    detail = browser.get(f"/admin/webhooks/delivery/{delivery.pk}/change/").content.decode()
    assert "503" in detail and "answered 503" in detail

    browser.post("/admin/webhooks/delivery/", {"action": "retry",
                                               "_selected_action": [delivery.pk]})

    delivery.refresh_from_db()
    assert (delivery.state, delivery.last_status) == ("delivered", 200)
    assert len(receiver.requests) == 5


@pytest.mark.worker
def test_through_the_worker_retries_keep_the_schedule_then_fail_in_the_admin(acme, passport):
    subscribe_url = down_url()
    allow = pytest.MonkeyPatch()  # the API checks the URL in this process too
    from django.conf import settings as live
    allow.setattr(live, "WEBHOOK_TEST_ALLOWED_ADDRESSES", ["127.0.0.1"])
    try:
        subscribe(acme, subscribe_url)
    finally:
        allow.undo()

    passport_revoke(actor=operator(), passport=passport)

    deadline = time.monotonic() + 60
    delivery = Delivery.objects.get()
    while delivery.state == "pending" and time.monotonic() < deadline:
        time.sleep(0.2)
        delivery.refresh_from_db()
    attempts = list(delivery.log.order_by("number"))
    schedule = [float(v) for v in RETRY_SCHEDULE.split(",")]
    assert delivery.state == "failed" and len(attempts) == len(schedule) + 1
    for before, after, wait in zip(attempts, attempts[1:], schedule, strict=False):
        assert (after.started_at - before.started_at).total_seconds() >= wait - 0.05


@pytest.mark.worker
def test_through_the_worker_a_revocation_is_delivered_signed(acme, passport, receiver):
    from django.conf import settings as live
    allow = pytest.MonkeyPatch()
    allow.setattr(live, "WEBHOOK_TEST_ALLOWED_ADDRESSES", ["127.0.0.1"])
    try:
        _id, secret = subscribe(acme, receiver.url)
    finally:
        allow.undo()

    passport_revoke(actor=operator(), passport=passport)

    [request] = receiver.wait_for(1)
    assert _verified(secret, request)["data"]["passport"] == str(passport.pk)


# No private addresses --------------------------------------------------------------------------

def test_without_the_allowance_a_private_address_is_refused_and_nothing_is_sent(
        settings, receiver, acme, passport):
    settings.WEBHOOK_TEST_CA_FILE = None
    settings.WEBHOOK_TEST_ALLOWED_ADDRESSES = []
    for url in (receiver.url, "https://10.0.0.1/hook", "https://[::1]/hook",
                "https://169.254.169.254/latest", "http://example.org/hook"):
        response = acme.client.post("/api/v1/webhooks/subscriptions/",
                                    {"url": url, "events": ["passport.revoked"]}, format="json")
        assert response.status_code == 400, url
        assert response["Content-Type"] == "application/problem+json"
    assert Subscription.objects.count() == 0

    # A subscription made while its name was public (DNS changed since): refused at sending.
    allow_loopback(settings)
    subscribe(acme, receiver.url)
    settings.WEBHOOK_TEST_ALLOWED_ADDRESSES = []
    passport_revoke(actor=operator(), passport=passport)

    delivery = Delivery.objects.get()
    assert delivery.state == "failed" and delivery.attempts == 1
    assert delivery.last_error.startswith("refused")
    assert receiver.requests == []


# Entitlement -----------------------------------------------------------------------------------

def test_no_event_leaks_to_an_organisation_that_is_not_entitled(allowance, acme, recycle, other,
                                                                passport):
    receivers = {name: Receiver() for name in ("acme", "recycle", "other")}
    try:
        for name, who in (("acme", acme), ("recycle", recycle), ("other", other)):
            subscribe(who, receivers[name].url)

        passport_revoke(actor=operator(), passport=passport)

        assert len(receivers["acme"].wait_for(1)) == 1
        assert len(receivers["recycle"].wait_for(1)) == 1
        assert receivers["other"].requests == []
        assert not Delivery.objects.filter(subscription__organisation=other.organisation)
    finally:
        for server in receivers.values():
            server.stop()


# The API ---------------------------------------------------------------------------------------

def test_the_secret_is_shown_once_and_stored_encrypted(allowance, receiver, acme, other):
    subscription_id, secret = subscribe(acme, receiver.url)

    assert secret.startswith("whsec_")
    listed = acme.client.get("/api/v1/webhooks/subscriptions/").json()
    read = acme.client.get(f"/api/v1/webhooks/subscriptions/{subscription_id}/").json()
    assert "secret" not in json.dumps(listed) and secret not in json.dumps(read)
    stored = Subscription.objects.get()
    assert secret.encode() not in bytes(stored.wrapped_secret)
    assert secret_of(stored) == secret
    # Another organisation sees nothing of it.
    assert other.client.get(f"/api/v1/webhooks/subscriptions/{subscription_id}/") \
        .status_code == 404
    assert other.client.get("/api/v1/webhooks/subscriptions/").json()["count"] == 0
    assert other.client.delete(f"/api/v1/webhooks/subscriptions/{subscription_id}/") \
        .status_code == 404
    assert acme.client.delete(f"/api/v1/webhooks/subscriptions/{subscription_id}/") \
        .status_code == 204
    assert Subscription.objects.count() == 0


@pytest.mark.parametrize("body", [
    {"url": "https://example.org/hook", "events": ["passport.exploded"]},
    {"url": "https://example.org/hook", "events": []},
    {"url": "not a url", "events": ["passport.revoked"]},
])
def test_bad_subscriptions_get_a_problem_and_change_nothing(acme, body):
    response = acme.client.post("/api/v1/webhooks/subscriptions/", body, format="json")
    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    assert Subscription.objects.count() == 0


def test_deliveries_and_their_attempts_are_listed(allowance, receiver, acme, passport):
    subscription_id, _secret = subscribe(acme, receiver.url)
    passport_revoke(actor=operator(), passport=passport)
    receiver.wait_for(1)

    page = acme.client.get(f"/api/v1/webhooks/subscriptions/{subscription_id}/deliveries/")

    [delivery] = page.json()["results"]
    assert delivery["state"] == "delivered"
    assert delivery["attempt_log"][0]["status"] == 200
    retried = acme.client.post(f"/api/v1/webhooks/deliveries/{delivery['id']}/retry")
    assert retried.status_code == 202
    assert len(receiver.wait_for(2)) == 2


def test_a_kept_connection_sends_without_waiting_for_acks(allowance, receiver, acme, passport):
    """TCP_NODELAY: http.client sends the headers and the body in two writes; with Nagle's
    algorithm the body would wait for the receiver's delayed ACK (~40 ms a delivery)."""
    import socket

    from webhooks import sending

    subscribe(acme, receiver.url)
    passport_revoke(actor=operator(), passport=passport)
    receiver.wait_for(1)

    [kept] = sending.kept_connections("127.0.0.1", receiver.port)
    assert kept.sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) == 1
