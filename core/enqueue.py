"""Enqueueing Celery tasks after commit, guarded against a broker that is down.

Every task of ours is work whose wish is already recorded in the database (a pending passport,
a pending status change, a decided review), so a lost message is recovered by a periodic sweep
that re-queues from that state. A broker outage must therefore never fail the request that
recorded the wish, nor hold it: the publish is tried once, through a connection of this
thread's own whose connect and socket timeouts are CELERY_PUBLISH_TIMEOUT (the worker's
consuming connection keeps the broker's transport options: its blocking reads need longer),
and a failure is logged as a warning naming the task, for the sweep to recover.

    enqueue_after_commit(sign_passports, chunk)           # in a service's transaction
    enqueue(publish_status_list, list_id, countdown=1.0)  # now (sweeps, after-commit hooks)
    enqueue_each(sign_passports, [(chunk,) for chunk in chunks])  # many, in one write"""

from __future__ import annotations

import functools
import logging
import os
import threading
from collections.abc import Sequence

from django.conf import settings
from django.db import transaction
from kombu.exceptions import BatchPublishError
from kombu.exceptions import OperationalError as BrokerError

log = logging.getLogger(__name__)

# What a broker outage raises: kombu wraps its transport's connection errors in OperationalError
# (a batch's write in BatchPublishError, the error it met as its cause); a socket error may
# surface unwrapped.
BROKER_ERRORS = (BrokerError, BatchPublishError, ConnectionError, TimeoutError)

# The publishing connection of each thread (kombu connections are not thread-safe) and process
# (a forked child must not share its parent's socket): kept, so a publish costs no connect;
# dropped after a failure, so the next publish connects afresh.
_publishing = threading.local()


def publish_connection(app):
    """This thread's connection for publishing to `app`'s broker, with the broker's transport
    options but CELERY_PUBLISH_TIMEOUT for connecting and for each socket operation, and no
    retries: a publish never waits longer for a broker that is down."""
    owner = (os.getpid(), app)
    if getattr(_publishing, "owner", None) != owner:
        _publishing.connection = None
    if _publishing.connection is None:
        timeout = settings.CELERY_PUBLISH_TIMEOUT
        _publishing.connection = app.connection_for_write(
            connect_timeout=timeout, transport_options={
                "socket_connect_timeout": timeout, "socket_timeout": timeout, "max_retries": 0})
        _publishing.owner = owner
    return _publishing.connection


def reset_publish_connection() -> None:
    """Close this thread's publishing connection; the next publish connects afresh (after a
    failure; tests that point the broker elsewhere)."""
    connection = getattr(_publishing, "connection", None)
    _publishing.connection = None
    if connection is not None:
        try:
            connection.release()
        except Exception:  # noqa: BLE001 - closing a broken connection may fail in any way
            log.debug("closing the broken publishing connection failed", exc_info=True)


def enqueue(task, *args, **options) -> bool:
    """Send `task(*args)` now, without retrying; False (and a warning) when the broker cannot be
    reached within CELERY_PUBLISH_TIMEOUT. Never raises for a broker failure: the caller's sweep
    recovers the work."""
    try:
        if task.app.conf.task_always_eager:  # the embedded mode runs the task here: no broker
            task.apply_async(args, retry=False, **options)
        else:
            task.apply_async(args, connection=publish_connection(task.app), retry=False,
                             **options)
    except BROKER_ERRORS as exc:
        return _broker_failed(task, exc)
    return True


def enqueue_each(task, calls: Sequence[tuple], **options) -> bool:
    """enqueue() of `task(*args)` for each `args` in `calls`, the messages written to the broker
    together (kombu's Producer.batch: one Redis pipeline) instead of one round trip each: 50
    signing tasks of a 10,000-row import took 30 ms one by one on an idle machine, ~150 ms
    once the workers had the first and competed for the CPU. False (and one warning) when the
    broker cannot be reached: the messages may or may not have been written (the sweep sends
    what is still pending again; signing a passport twice issues it once)."""
    try:
        if task.app.conf.task_always_eager:
            for args in calls:
                task.apply_async(args, retry=False, **options)
        else:
            producer = task.app.amqp.Producer(publish_connection(task.app), auto_declare=False)
            with producer.batch():
                for args in calls:
                    task.apply_async(args, producer=producer, retry=False, **options)
    except BROKER_ERRORS as exc:
        return _broker_failed(task, exc)
    return True


def _broker_failed(task, error: Exception) -> bool:
    """A publish that failed: the connection dropped, one warning naming the task and what
    the broker did (a batch's error is its cause's), False for the caller."""
    reset_publish_connection()
    if isinstance(error, BatchPublishError) and error.__cause__:
        error = error.__cause__
    log.warning("broker unavailable: could not enqueue %s (%s: %s); the sweep re-queues it",
                task.name, type(error).__name__, error)
    return False


def enqueue_after_commit(task, *args, using: str | None = None, **options) -> None:
    """enqueue() once the current transaction commits (at once outside a transaction), so the
    worker finds what the transaction wrote, and nothing is sent for a rollback."""
    transaction.on_commit(functools.partial(enqueue, task, *args, **options), using=using)


def enqueue_each_after_commit(task, calls: Sequence[tuple], using: str | None = None,
                              **options) -> None:
    """enqueue_each() once the current transaction commits (at once outside a transaction)."""
    transaction.on_commit(functools.partial(enqueue_each, task, calls, **options), using=using)
