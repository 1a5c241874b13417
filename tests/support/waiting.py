"""Waiting for what a real worker does, with a generous anti-hang bound (never a timing)."""

from __future__ import annotations

import time

from passports.models import Passport


def wait_for_state(passport: Passport, state: str, seconds: float = 30) -> Passport:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        passport.refresh_from_db()
        if passport.state == state:
            return passport
        time.sleep(0.1)
    raise AssertionError(f"passport stayed {passport.state}, expected {state}")


def wait_until_worker_idle(queue: str, seconds: float = 30) -> bool:
    """Until the test worker has nothing queued on `queue` and runs nothing (acks late: a
    running or prefetched task stays in kombu's `unacked` hash; one held for a later time, a
    countdown, does not count). A test that ends while its tasks still write can have its
    transactional teardown's TRUNCATE deadlock with them (seen in CI: the next test then found
    the last one's rows). Returns whether it got idle; never fails the test itself."""
    import json

    import redis
    from django.conf import settings

    def running(raw: bytes) -> bool:
        try:
            payload, _exchange, routing_key = json.loads(raw)
            return routing_key == queue and not (payload.get("headers") or {}).get("eta")
        except (ValueError, TypeError, AttributeError):
            return True

    broker = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    deadline = time.monotonic() + seconds
    try:
        while time.monotonic() < deadline:
            if not broker.llen(queue) and not any(
                    running(raw) for raw in broker.hvals("unacked")):
                return True
            time.sleep(0.1)
        return False
    finally:
        broker.close()
