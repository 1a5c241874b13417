"""Outages of the backing services (PostgreSQL, the Redis cache, the broker): telling one from a
bug, and the shared cache used where an outage must not fail the request.

- `unavailable_service(exc)` names the service an exception says is down, so the edges answer
  503 with Retry-After (problem+json for machines, a page for people) instead of a 500.
- `best_effort` is the cache for what only saves work or coordinates it loosely (verdict
  caches, foreign documents, the coalescing of status-list publications): while the cache is
  unreachable a read is a miss and a write is skipped, and the process stops asking it for
  `PAUSE_SECONDS` after a failure, so an outage costs one failed round trip per pause, not one
  per call. Secrets whose absence must refuse (nonces, challenges) use the cache directly: its
  outage is a 503 there.

See the README's "Operations" section for each endpoint's degraded mode."""

from __future__ import annotations

import logging
import threading
import time

from django.core.cache import DEFAULT_CACHE_ALIAS, caches
from django.db import InterfaceError, OperationalError

log = logging.getLogger(__name__)

# Seconds a client is told to wait (Retry-After) while a backing service is down.
RETRY_AFTER_SECONDS = 5
# Seconds this process leaves the cache alone after it failed.
PAUSE_SECONDS = 2.0

try:  # the Redis client is there whenever a Redis cache or broker is configured
    from redis.exceptions import ConnectionError as _RedisConnectionError
    from redis.exceptions import TimeoutError as _RedisTimeoutError

    CACHE_ERRORS: tuple[type[BaseException], ...] = (_RedisConnectionError, _RedisTimeoutError,
                                                     ConnectionError, TimeoutError)
except ImportError:  # pragma: no cover - redis is a dependency
    CACHE_ERRORS = (ConnectionError, TimeoutError)

DATABASE_ERRORS = (OperationalError, InterfaceError)


def unavailable_service(exc: BaseException) -> str | None:
    """"database" or "cache" when `exc` says that service cannot be reached now (a transient
    condition: the answer is 503 with Retry-After), else None."""
    from kombu.exceptions import OperationalError as BrokerError

    if isinstance(exc, DATABASE_ERRORS):
        return "database"
    if isinstance(exc, CACHE_ERRORS):
        return "cache"
    if isinstance(exc, BrokerError):
        return "broker"
    return None


def log_outage(service: str, exc: BaseException, path: str) -> None:
    """One warning line for a request answered 503: an outage is not a bug (no traceback)."""
    log.warning("%s unavailable: %s answered 503 (%s)", service, path, type(exc).__name__)


class _BestEffortCache:
    """Django's default cache, where an outage is a miss (see the module's doc)."""

    def __init__(self, alias: str = DEFAULT_CACHE_ALIAS):
        self.alias = alias
        self._paused_until = 0.0
        self._lock = threading.Lock()

    @property
    def available(self) -> bool:
        return time.monotonic() >= self._paused_until

    def get(self, key: str, default=None):
        return self._call("get", default, key, default)

    def set(self, key: str, value, timeout: float | None) -> None:
        self._call("set", None, key, value, timeout)

    def add(self, key: str, value, timeout: float | None) -> bool | None:
        """True when added, False when the key exists, None when the cache is down."""
        return self._call("add", None, key, value, timeout)

    def delete(self, key: str) -> None:
        self._call("delete", None, key)

    def _call(self, method: str, fallback, *args):
        if not self.available:
            return fallback
        try:
            return getattr(caches[self.alias], method)(*args)
        except CACHE_ERRORS as exc:
            self.failed(exc)
            return fallback

    def resume(self) -> None:
        """Ask the cache again from the next call on (tests, after an outage they made)."""
        self._paused_until = 0.0

    def failed(self, exc: BaseException) -> None:
        """Record a failure of the cache (also for callers that talk to it directly)."""
        with self._lock:
            first = self.available
            self._paused_until = time.monotonic() + PAUSE_SECONDS
        if first:
            log.warning("cache unavailable (%s: %s); degraded mode for %.0f s",
                        type(exc).__name__, exc, PAUSE_SECONDS)


best_effort = _BestEffortCache()
