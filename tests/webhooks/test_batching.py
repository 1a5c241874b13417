"""Webhook deliveries in batches (webhooks/services.py, docs/webhooks.md "Deliveries"): a burst
of events costs a few tasks and queries per batch, not per delivery; an endpoint that is slow
to answer holds only its own deliveries; a worker killed mid-batch loses nothing: once its
lease has run out the sweep sends its deliveries again, with the same `webhook-id`."""

from __future__ import annotations

import os
import signal
import threading
import time

import pytest
from celery.signals import task_prerun
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from standardwebhooks.webhooks import Webhook

from config.celery import app as celery_app
from core import events
from tests.support.api import party
from tests.support.environment import start_worker_process
from tests.support.factories import organisation
from tests.support.receiver import Receiver, allow_loopback
from webhooks.models import Delivery
from webhooks.services import BATCH, LANES, deliveries_record, deliveries_requeue_due

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def acme(db):
    return party(organisation("acme", "Acme Batteries B.V."))


@pytest.fixture
def receivers():
    made = []
    yield lambda: made.append(Receiver()) or made[-1]
    for receiver in made:
        receiver.stop()


def subscribe(party, url: str) -> str:
    """The secret of a new subscription of `party` to passport revocations at `url` (the API
    checks the URL in this process: the test-only loopback allowance, as the worker has it)."""
    from django.conf import settings

    allowed = settings.WEBHOOK_TEST_ALLOWED_ADDRESSES
    settings.WEBHOOK_TEST_ALLOWED_ADDRESSES = ["127.0.0.1"]
    try:
        response = party.client.post("/api/v1/webhooks/subscriptions/",
                                     {"url": url, "events": [events.PASSPORT_REVOKED]},
                                     format="json")
    finally:
        settings.WEBHOOK_TEST_ALLOWED_ADDRESSES = allowed
    assert response.status_code == 201, response.content
    return response.json()["secret"]


def revocations(party, count: int) -> list[events.Event]:
    """`count` revocation events for `party`'s organisation, as a bulk revocation publishes."""
    return [events.Event(events.PASSPORT_REVOKED, frozenset({party.organisation.pk}),
                         {"passport": f"p-{n}", "state": "revoked"}) for n in range(count)]


class TasksRun:
    """Counts the webhook tasks run (eager tasks send Celery's signals too)."""

    def __init__(self):
        self.count = 0

    def __call__(self, sender=None, **_):
        if sender is not None and sender.name == "webhooks.deliver_batch":
            self.count += 1


def test_a_burst_is_sent_in_batches_of_few_queries_and_tasks(settings, acme, receivers):
    allow_loopback(settings)
    receiver = receivers()
    secret = subscribe(acme, receiver.url)
    burst = revocations(acme, 2 * BATCH + 50)
    tasks = TasksRun()
    task_prerun.connect(tasks, weak=False)
    try:
        with CaptureQueriesContext(connection) as queries:
            deliveries_record(burst)  # the sink, after the commit; tasks run here (eager)
    finally:
        task_prerun.disconnect(tasks)

    received = receiver.wait_for(len(burst))
    ids = {request.headers["webhook-id"] for request in received}
    assert len(received) == len(ids) == len(burst)
    assert ids == {event.id for event in burst}
    for request in received:  # every one signed with the subscription's secret
        Webhook(secret).verify(request.body, request.headers)
    assert Delivery.objects.filter(state="delivered", attempts=1).count() == len(burst)
    # One task per BATCH deliveries; per task: claim (select, lease), record (the attempts, the
    # states). One delivery per task, as before, took 250 tasks and 5 statements for each.
    assert tasks.count == 3
    statements = [q["sql"] for q in queries
                  if not q["sql"].startswith(("BEGIN", "COMMIT", "SAVEPOINT", "RELEASE"))]
    recorded = [sql for sql in statements if sql.startswith('INSERT INTO "webhooks_delivery" ')]
    assert 1 <= len(recorded) <= 4  # SQLite's bound on parameters splits the INSERT
    assert len(statements) - len(recorded) == 1 + tasks.count * 4, "\n".join(statements)


def test_an_endpoint_slow_to_answer_holds_only_its_own_deliveries(settings, acme, receivers):
    allow_loopback(settings)
    slow, fast = receivers(), receivers()
    slow.gate = threading.Event()  # answers nothing until it opens
    subscribe(acme, slow.url)
    subscribe(acme, fast.url)
    burst = revocations(acme, 20)

    def record_and_send():  # what the sink and an eager task do after a commit
        try:
            deliveries_record(burst)
        finally:
            connection.close()

    sender = threading.Thread(target=record_and_send)
    sender.start()
    try:
        # All of the fast endpoint's deliveries arrive while the slow one holds its first.
        assert len(fast.wait_for(len(burst))) == len(burst)
        assert 1 <= len(slow.requests) <= LANES
    finally:
        slow.gate.set()
        sender.join(60)
    assert len({r.headers["webhook-id"] for r in slow.wait_for(len(burst))}) == len(burst)
    assert Delivery.objects.filter(state="delivered").count() == 2 * len(burst)


@pytest.mark.worker
def test_a_worker_killed_mid_batch_leaves_its_deliveries_to_the_sweep_with_the_same_ids(
        acme, receivers, celery_worker):
    receiver = receivers()
    receiver.gate = threading.Event()  # the victim's first POSTs stay unanswered
    subscribe(acme, receiver.url)
    burst = revocations(acme, 10)
    victim_queue = f"{celery_worker['queue']}-victim"
    victim, _log, log_file = start_worker_process(victim_queue, celery_worker["env"],
                                                  start_new_session=True)
    session_queue = celery_app.conf.task_default_queue
    try:
        celery_app.conf.task_default_queue = victim_queue
        deliveries_record(burst)
        celery_app.conf.task_default_queue = session_queue
        receiver.wait_for(1, timeout=60)  # the victim is mid-batch
        os.killpg(victim.pid, signal.SIGKILL)  # the worker and its pool processes
        victim.wait(30)
    finally:
        celery_app.conf.task_default_queue = session_queue
        if victim.poll() is None:
            os.killpg(victim.pid, signal.SIGKILL)
        log_file.close()
    receiver.gate.set()
    sent_before = {r.headers["webhook-id"] for r in receiver.requests}

    # Nothing was recorded: all pending, unattempted, leased to the dead worker; the sweep
    # leaves a live lease alone.
    pending = Delivery.objects.filter(state="pending", attempts=0, lease_until__isnull=False)
    assert pending.count() == len(burst)
    assert deliveries_requeue_due() == 0

    Delivery.objects.update(lease_until=timezone.now())  # as if WEBHOOK_LEASE_SECONDS passed
    assert deliveries_requeue_due() == len(burst)  # to the session's worker

    received = receiver.wait_for(len(burst) + len(sent_before), timeout=60)
    delivered = Delivery.objects.filter(state="delivered", attempts=1)
    deadline = time.monotonic() + 60  # the worker records the batch after its last answer
    while delivered.count() < len(burst) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert {r.headers["webhook-id"] for r in received} == {event.id for event in burst}
    assert set(delivered.values_list("event_id", flat=True)) == {e.id for e in burst}
    # At least once: what reached the receiver before the kill came again with the same id.
    arrivals = [r.headers["webhook-id"] for r in received]
    assert sent_before and {i for i in sent_before if arrivals.count(i) == 2} == sent_before
