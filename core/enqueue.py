"""Enqueueing Celery tasks after commit, guarded against a broker that is down.

Every task of ours is work whose wish is already recorded in the database (a pending passport,
a pending status change, a decided review), so a lost message is recovered by a periodic sweep
that re-queues from that state. A broker outage must therefore never fail the request that
recorded the wish, nor hold it: the publish is tried once, bounded by the broker's connect and
socket timeouts (settings: CELERY_BROKER_CONNECTION_TIMEOUT, CELERY_BROKER_TRANSPORT_OPTIONS),
and a failure is logged as a warning naming the task, for the sweep to recover.

    enqueue_after_commit(sign_passports, chunk)           # in a service's transaction
    enqueue(publish_status_list, list_id, countdown=1.0)  # now (sweeps, after-commit hooks)"""

from __future__ import annotations

import functools
import logging

from django.db import transaction
from kombu.exceptions import OperationalError as BrokerError

log = logging.getLogger(__name__)

# What a broker outage raises: kombu wraps its transport's connection errors in OperationalError;
# a socket error may surface unwrapped.
BROKER_ERRORS = (BrokerError, ConnectionError, TimeoutError)


def enqueue(task, *args, **options) -> bool:
    """Send `task(*args)` now, without retrying; False (and a warning) when the broker cannot be
    reached. Never raises for a broker failure: the caller's sweep recovers the work."""
    try:
        task.apply_async(args, retry=False, **options)
    except BROKER_ERRORS as exc:
        log.warning("broker unavailable: could not enqueue %s (%s: %s); the sweep re-queues it",
                    task.name, type(exc).__name__, exc)
        return False
    return True


def enqueue_after_commit(task, *args, using: str | None = None, **options) -> None:
    """enqueue() once the current transaction commits (at once outside a transaction), so the
    worker finds what the transaction wrote, and nothing is sent for a rollback."""
    transaction.on_commit(functools.partial(enqueue, task, *args, **options), using=using)
