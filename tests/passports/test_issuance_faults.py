"""Issuing under faults, on PostgreSQL, Redis and real worker processes: parallel requests make
one version, a worker killed mid-task is replaced within seconds, a passport that keeps killing
its worker fails cleanly after MAX_ATTEMPTS, and no status entry leaks on the way."""

import os
import signal
import threading
import time
import uuid
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

import psycopg
import pytest
from django.conf import settings
from django.db import connection

from config.celery import app as celery_app
from credentials.models import StatusList
from passports.models import Passport, PassportEvent, Product
from passports.services.issuance import (
    GAVE_UP,
    INTERNAL_FAILURE,
    MAX_ATTEMPTS,
    passport_request,
    passports_request,
    passports_requeue_stale,
    passports_sign,
)
from passports.tasks import sign_passports
from tests.support.api import api_client
from tests.support.environment import postgres_only, start_worker_process
from tests.support.factories import api_key
from tests.support.waiting import wait_for_state
from wallet.tenancy.authority import operator
from wallet.tenancy.services import organisation_create

WAIT = 60  # seconds: a bound against hangs, not a measurement


@pytest.fixture
def product(db):
    organisation = organisation_create(slug="acme", legal_name="Acme Batteries B.V.")
    return Product.objects.create(
        organisation=organisation, gtin="09506000134352", serial="SN-0001",
        name="Generic widget", category="generic", attributes={})


def issued_v1(product) -> Passport:
    passport = passport_request(product=product, actor=operator())
    passports_sign([passport.pk])
    return wait_for_state(passport, Passport.State.ISSUED)


def leaked_entries() -> int:
    """Status entries handed out but held by no passport: a finite, privacy-relevant pool."""
    allocated = sum(StatusList.objects.values_list("allocated", flat=True))
    return allocated - Passport.objects.filter(status_list__isnull=False).count()


def attempts_of(passport: Passport) -> int:
    return Passport.objects.values_list("attempts", flat=True).get(pk=passport.pk)


def wait_until(predicate, what: str, seconds: float = WAIT):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if value := predicate():
            return value
        time.sleep(0.05)
    raise AssertionError(f"waited {seconds} s for {what}")


# --- PostgreSQL sessions: a lock that holds a worker mid-task, and ending a dead one's session

def _conninfo() -> str:
    db = settings.DATABASES["default"]
    return psycopg.conninfo.make_conninfo(
        dbname=db["NAME"], user=db["USER"], password=db.get("PASSWORD") or None,
        host=db["HOST"] or "127.0.0.1", port=db["PORT"] or 5432)


@contextmanager
def holding_row_lock(passport: Passport):
    """Lock the previous version's row in a session of our own: signing the next version waits
    for it (superseding locks the older versions), with its claim committed and its new row
    locked: a worker mid-task, for as long as we like. Yields our session's backend pid."""
    with psycopg.connect(_conninfo()) as session:
        session.execute("SELECT 1 FROM passports_passport WHERE id = %s FOR UPDATE",
                        [passport.pk])
        yield session.info.backend_pid
        session.rollback()


def sessions_waiting_on(pid: int) -> list[int]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pid FROM pg_stat_activity WHERE %s = ANY(pg_blocking_pids(pid))",
                       [pid])
        return [row[0] for row in cursor.fetchall()]


def sessions_waiting_for_locks() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                       " AND wait_event_type = 'Lock'")
        return cursor.fetchone()[0]


def end_sessions(pids: list[int]) -> None:
    """End the sessions of a killed worker. PostgreSQL notices a dead client when it next reads
    from it; these wait on our lock instead, so we end them as PostgreSQL would."""
    with connection.cursor() as cursor:
        for pid in pids:
            cursor.execute("SELECT pg_terminate_backend(%s)", [pid])


def pool_processes(worker_pid: int) -> list[int]:
    children = Path(f"/proc/{worker_pid}/task/{worker_pid}/children").read_text().split()
    return [int(pid) for pid in children]


@contextmanager
def default_queue(queue: str):
    previous = celery_app.conf.task_default_queue
    celery_app.conf.task_default_queue = queue
    try:
        yield
    finally:
        celery_app.conf.task_default_queue = previous


# --- point 8: parallel requests --------------------------------------------------------------

@postgres_only
@pytest.mark.django_db(transaction=True)
def test_parallel_requests_for_one_product_make_exactly_one_new_version(product):
    first = issued_v1(product)
    _token, key = api_key(product.organisation, ["passports:read", "passports:issue"])
    requests, statuses = 10, []
    start = threading.Barrier(requests)

    def post():
        try:
            client = api_client(key)
            start.wait()
            response = client.post("/api/v1/passports/", {"product": product.pk},
                                   format="json")
            statuses.append((response.status_code, response.json().get("code")))
        finally:
            connection.close()

    # The new version's signing (in-process here) waits on our lock, so it stays pending
    # until every request has been answered.
    with holding_row_lock(first):
        threads = [threading.Thread(target=post) for _ in range(requests)]
        for thread in threads:
            thread.start()
        wait_until(lambda: len(statuses) + sessions_waiting_for_locks() >= requests,
                   "every request answered or signing")
    for thread in threads:
        thread.join(WAIT)

    assert sorted(statuses, key=str) == [(202, None)] + [(409, "passport_pending")] * 9
    assert list(product.passports.order_by("version").values_list("version", "state")) == \
        [(1, "superseded"), (2, "issued")]


# --- point 10: raw exception text ------------------------------------------------------------

@postgres_only
@pytest.mark.django_db(transaction=True)
def test_an_internal_error_fails_the_passport_with_a_clean_reason_in_the_api(product):
    issued_v1(product)
    trigger = f"fault_{uuid.uuid4().hex[:8]}"
    with connection.cursor() as cursor:  # a database fault with an internal detail in its text
        cursor.execute(f"""
            CREATE FUNCTION {trigger}() RETURNS trigger AS $$ BEGIN
              RAISE EXCEPTION 'internal: relation secret_table, session 4711';
            END $$ LANGUAGE plpgsql;
            CREATE TRIGGER {trigger} BEFORE UPDATE ON passports_passport FOR EACH ROW
              WHEN (NEW.state = 'issued' AND NEW.version = 2) EXECUTE FUNCTION {trigger}();
        """)
    try:
        # signed (in-process) after commit
        passport = passport_request(product=product, actor=operator())
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"DROP TRIGGER {trigger} ON passports_passport; "
                           f"DROP FUNCTION {trigger}()")

    passport.refresh_from_db()
    assert (passport.state, passport.state_reason) == ("failed", INTERNAL_FAILURE)
    _token, key = api_key(product.organisation, ["passports:read"])
    body = api_client(key).get(f"/api/v1/passports/{passport.pk}/").content.decode()
    assert INTERNAL_FAILURE in body
    assert "4711" not in body and "secret_table" not in body
    assert not PassportEvent.objects.filter(reason__contains="4711").exists()
    assert leaked_entries() == 0


# --- points 9, 10, 11: real workers killed ----------------------------------------------------

@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_duplicate_and_requeued_tasks_leak_no_status_entry(product):
    products = [Product.objects.create(organisation=product.organisation, gtin=product.gtin,
                                       serial=f"SN-{n:04d}", name="Widget", category="generic",
                                       attributes={}) for n in range(2, 402)]
    # two chunks, enqueued after commit
    passports = passports_request(products=products, actor=operator())
    ids = [str(p.pk) for p in passports]

    # What the old sweep did to passports only waiting in the queue, plus plain duplicates.
    for _ in range(3):
        passports_requeue_stale(older_than=timedelta(0), claim_grace=timedelta(0))
        sign_passports.delay(ids[:200])
        sign_passports.delay(ids[200:])
    issued = Passport.objects.filter(pk__in=ids, state=Passport.State.ISSUED)
    wait_until(lambda: issued.count() == 400, "400 issued")

    assert PassportEvent.objects.filter(action="issued", passport__in=ids).count() == 400
    assert leaked_entries() == 0


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_passport_whose_worker_is_killed_is_issued_by_another_within_seconds(
        product, celery_worker):
    first = issued_v1(product)
    victim_queue = f"{celery_worker['queue']}-victim"
    victim, _log, log_file = start_worker_process(victim_queue, celery_worker["env"],
                                                  start_new_session=True)
    try:
        with holding_row_lock(first) as blocker:
            with default_queue(victim_queue):
                second = passport_request(product=product, actor=operator())
            dead = wait_until(lambda: sessions_waiting_on(blocker), "the victim mid-task")
            os.killpg(victim.pid, signal.SIGKILL)  # the worker and its pool processes
            victim.wait(WAIT)
            end_sessions(dead)
    finally:
        if victim.poll() is None:
            os.killpg(victim.pid, signal.SIGKILL)
        log_file.close()
    second.refresh_from_db()
    assert (second.state, second.attempts) == ("pending", 1)

    # The sweep (beat runs it every few seconds) tells a dead worker's claim from a queued
    # passport; the surviving worker (the session's) signs it.
    wait_until(lambda: passports_requeue_stale(), "the sweep to send it again")
    second = wait_for_state(second, Passport.State.ISSUED, WAIT)

    assert second.attempts == 2
    assert PassportEvent.objects.filter(passport=second, action="issued").count() == 1
    assert leaked_entries() == 0


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_passport_that_kills_its_worker_every_time_fails_after_max_attempts(
        product, celery_worker):
    first = issued_v1(product)
    with holding_row_lock(first) as blocker:
        second = passport_request(product=product, actor=operator())
        for attempt in range(1, MAX_ATTEMPTS + 1):
            dead = wait_until(lambda attempt=attempt: attempts_of(second) == attempt
                              and sessions_waiting_on(blocker), f"attempt {attempt} mid-task")
            # The pool process dies; the worker puts the task back (reject_on_worker_lost).
            for pid in pool_processes(celery_worker["process"].pid):
                os.kill(pid, signal.SIGKILL)
            end_sessions(dead)
        second = wait_for_state(second, Passport.State.FAILED, WAIT)

    assert (second.attempts, second.state_reason) == (MAX_ATTEMPTS, GAVE_UP)
    assert leaked_entries() == 0  # one entry, allocated once, reused by every attempt
    _token, key = api_key(product.organisation, ["passports:read"])
    output = api_client(key).get(f"/api/v1/passports/{second.pk}/").json()
    assert (output["state"], output["state_reason"]) == ("failed", GAVE_UP)


@pytest.mark.django_db(transaction=True)
def test_the_sweep_sends_an_unclaimed_passport_again_only_once_nothing_is_queued(product):
    queue = f"test-sweep-{uuid.uuid4().hex[:8]}"
    passport = Passport.objects.create(product=product, version=1)  # requested, never claimed
    Passport.objects.filter(pk=passport.pk).update(
        updated_at=passport.updated_at - timedelta(seconds=10))
    with default_queue(queue):
        celery_app.conf.task_always_eager = False
        sign_passports.apply_async(([],))  # a message waiting for a worker
        celery_app.conf.task_always_eager = True

        # Its message may be the one waiting: not yet.
        assert passports_requeue_stale() == 0
        with celery_app.connection_for_write() as broker:
            broker.default_channel.queue_purge(queue)
        # Nothing waits: a worker received its message and died before claiming it.
        assert passports_requeue_stale() == 1

    assert wait_for_state(passport, Passport.State.ISSUED).attempts == 1
