"""Rate limits per client address for the open endpoints (verify, VC-API verify, resolver,
public page), kept in Django's cache: Redis when one is configured, so every web process counts
together; per-process memory in the embedded mode.

A fixed window per (scope, client address): the first request of a window starts its counter,
which expires with the window. Limits are named by scope and set in
`REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]` as "<count>/<period>" (period: second, minute,
hour, day, or a number of seconds), e.g. {"verify": "600/minute"}; "off" (or None) turns a
scope off.

    from core import ratelimit

    retry_after = ratelimit.rate_limited(request, "public")    # None, or seconds to wait
    if retry_after is not None:
        return ratelimit.too_many_requests(retry_after)

    @ratelimit.limit("public")                                  # the same, as a decorator
    def page(request, ...): ...

The client address is REMOTE_ADDR, or, behind `REST_FRAMEWORK["NUM_PROXIES"]` trusted
proxies, the address those proxies saw (from X-Forwarded-For). IPv6 clients are counted per /64,
the block one subscriber usually holds.

While the shared cache is unreachable the limiter neither fails the request nor stops counting:
each process counts in its own memory (so a client may get up to the limit from every process)
until the cache answers again (core.outages)."""

from __future__ import annotations

import functools
import hashlib
import ipaddress
import os
import threading
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import DEFAULT_CACHE_ALIAS, caches
from django.core.cache.backends.locmem import LocMemCache
from django.core.cache.backends.redis import RedisCache
from django.http import HttpResponse
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError

from core.api.problems import problem_response
from core.outages import CACHE_ERRORS, best_effort

PERIODS = {"s": 1, "sec": 1, "second": 1, "m": 60, "min": 60, "minute": 60, "h": 3600,
           "hour": 3600, "d": 86400, "day": 86400}


@dataclass(frozen=True)
class Decision:
    allowed: bool
    limit: int
    remaining: int
    retry_after: int  # seconds until the window ends


@functools.lru_cache(maxsize=64)
def parse_rate(rate: str | None) -> tuple[int, int] | None:
    """"600/minute" → (600, 60); "10/30" → (10, 30); None or "off" → None (no limit)."""
    if rate is None or rate.strip().lower() == "off":
        return None
    count, _, period = rate.partition("/")
    seconds = int(period) if period.isdigit() else PERIODS[period.strip().lower()]
    return int(count), seconds


def rate_for(scope: str) -> tuple[int, int] | None:
    rates = settings.REST_FRAMEWORK.get("DEFAULT_THROTTLE_RATES", {})
    if scope not in rates:
        raise KeyError(f"no rate for the scope {scope!r} in DEFAULT_THROTTLE_RATES")
    return parse_rate(rates[scope])


def client_address(request) -> str:
    """The address to count a request against (see the module's docstring)."""
    meta = request.META
    address = meta.get("REMOTE_ADDR", "")
    proxies = settings.REST_FRAMEWORK.get("NUM_PROXIES")
    forwarded = meta.get("HTTP_X_FORWARDED_FOR")
    if proxies and forwarded:
        hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
        if hops:
            address = hops[-min(proxies, len(hops))]
    return _counted(address)


@functools.lru_cache(maxsize=4096)
def _counted(address: str) -> str:
    """The counter's name for a client address (IPv6: its /64), kept for the addresses seen
    most recently: a client sends many requests, and parsing an address costs more than
    counting it."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address or "unknown"
    if ip.version == 6:
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.ip_network(f"{ip}/64", strict=False).network_address) + "/64"
    return str(ip)


def hit(request, scope: str, limit: int | None = None, window: int | None = None) -> Decision:
    """Count one request of `request`'s client in `scope` and say whether it is allowed.
    `limit` requests per `window` seconds; both default to the scope's configured rate."""
    if limit is None or window is None:
        rate = rate_for(scope)
        if rate is None:
            return Decision(True, 0, 0, 0)
        limit, window = rate
    now = time.time()
    window_start = int(now // window) * window
    key = f"ratelimit:{scope}:{client_address(request)}:{window_start}"
    count = _increment(key, window)
    retry_after = max(1, int(window_start + window - now + 0.999))
    return Decision(count <= limit, limit, max(0, limit - count), retry_after)


def rate_limited(request, scope: str, limit: int | None = None,
                 window: int | None = None) -> int | None:
    """None when the request may go on, else the seconds to wait (for Retry-After)."""
    decision = hit(request, scope, limit, window)
    return None if decision.allowed else decision.retry_after


def too_many_requests(retry_after: int) -> HttpResponse:
    """A 429 problem (RFC 9457) with Retry-After."""
    return problem_response(
        429, "rate_limited",
        f"Too many requests from your address; try again in {retry_after} s.",
        title="Too many requests", headers={"Retry-After": str(retry_after)})


def limit(scope: str, limit: int | None = None, window: int | None = None):
    """Decorator for function views: 429 with Retry-After once the client is over the limit."""
    def decorator(view):
        @functools.wraps(view)
        def wrapped(request, *args, **kwargs):
            retry_after = rate_limited(request, scope, limit, window)
            if retry_after is not None:
                return too_many_requests(retry_after)
            return view(request, *args, **kwargs)
        return wrapped
    return decorator


# The counters of this process while the shared cache is down.
_local_counters = LocMemCache("dpp-ratelimit-fallback", {"OPTIONS": {"MAX_ENTRIES": 10_000}})


def _increment(key: str, window: int) -> int:
    """Add one to the counter `key`, created to expire with its window; returns the count.
    On Redis one command (`_count`); elsewhere Django's add/incr. While Redis is unreachable,
    in this process's memory (see the module's doc)."""
    backend = caches[DEFAULT_CACHE_ALIAS]
    if isinstance(backend, RedisCache):
        if best_effort.available:
            full_key = backend.make_key(key)  # our keys need no validation (memcached's rules)
            try:
                return _count(_writer(backend._cache), full_key, window + 1)
            except CACHE_ERRORS as exc:
                best_effort.failed(exc)
        backend = _local_counters
    if backend.add(key, 1, window + 1):
        return 1
    try:
        return backend.incr(key)
    except ValueError:  # expired between add and incr
        backend.add(key, 1, window + 1)
        return 1


# INCR, and EXPIRE NX: the first request of a window sets its expiry, later ones leave it. One
# script, so one command and one reply per request (a pipeline of the two cost redis-py twice
# the packing, parsing and bookkeeping), and atomic.
COUNT_SCRIPT = ("local count = redis.call('INCR', KEYS[1]) "
                "redis.call('EXPIRE', KEYS[1], ARGV[1], 'NX') return count")
COUNT_SHA = hashlib.sha1(COUNT_SCRIPT.encode()).hexdigest()  # noqa: S324 - Redis names it so


def _count(client, key: str, ttl: int) -> int:
    """Run COUNT_SCRIPT on `key`: by its SHA1, sent whole the first time a Redis server lacks
    it (EVAL keeps it in the script cache). A connection that was open and fails (Redis
    restarted, or closed it while idle) is opened again once, as a pool checks the connections
    it hands out; a timeout or a refused connection is the caller's (degraded mode).

    The command is written and its one-line reply read on the connection's socket itself:
    redis-py's packing and reply parser cost ~55 µs of the ~85 µs of CPU the round trip took
    (the connection is still redis-py's: it connects, authenticates and selects the database)."""
    connection = _connection(client.connection_pool)

    def send() -> int:
        if connection._sock is None:
            connection.connect()
        reply = _exchange(connection._sock, _command(b"EVALSHA", COUNT_SHA, key, ttl))
        if reply.startswith(b"-NOSCRIPT"):
            reply = _exchange(connection._sock, _command(b"EVAL", COUNT_SCRIPT, key, ttl))
        if reply[:1] == b":":
            return int(reply[1:])
        raise ResponseError(reply[1:].decode("utf-8", "replace"))

    try:
        was_open = connection._sock is not None
        try:
            return send()
        except RedisConnectionError:
            if not was_open:
                raise
            connection.disconnect()
            return send()
    except BaseException:
        connection.disconnect()  # whatever stopped it, the next command starts afresh
        raise


def _command(name: bytes, script: str, key: str, ttl: int) -> bytes:
    """`name script 1 key ttl` in RESP (an array of bulk strings)."""
    parts = (name, script.encode(), b"1", key.encode(), str(ttl).encode())
    return b"*5\r\n" + b"".join(b"$%d\r\n%s\r\n" % (len(part), part) for part in parts)


def _exchange(sock, command: bytes) -> bytes:
    """Send `command` and read its reply, a single line (an integer or an error), without its
    CRLF. Socket errors are redis-py's, as its own reads raise them."""
    try:
        sock.sendall(command)
        reply = sock.recv(512)
        while not reply.endswith(b"\r\n"):
            more = sock.recv(512)
            if not more:
                break
            reply += more
    except TimeoutError as exc:
        raise RedisTimeoutError(f"Timeout reading from Redis: {exc}") from exc
    except OSError as exc:
        raise RedisConnectionError(f"Error while talking to Redis: {exc}") from exc
    if not reply.endswith(b"\r\n"):
        raise RedisConnectionError("Connection closed by Redis.")
    return reply[:-2]


_connections = threading.local()


def _connection(pool):
    """This thread's own connection to the cache's Redis, made as `pool` makes its own: the
    counter is the one command of most open requests, and taking a connection from the pool
    and giving it back (with its checks for unread data) cost as much as the command. Made
    again in a forked child and for another pool (tests change the cache)."""
    held = getattr(_connections, "held", None)
    if held is not None and held[0] is pool and held[1] == os.getpid():
        return held[2]
    if held is not None and held[1] == os.getpid():
        held[2].disconnect()
    connection = pool.connection_class(**pool.connection_kwargs)
    _connections.held = (pool, os.getpid(), connection)
    return connection


@functools.lru_cache(maxsize=16)
def _writer(cache_client):
    """The redis-py client for writes behind Django's RedisCache, made once: Django makes a new
    one for every call (costing about as much as the round trip), though writes always go to
    its first server and one client, over the shared connection pool, is thread-safe."""
    return cache_client.get_client(write=True)
