"""Sending one webhook: an HTTPS POST to a public address only, with
credentials.guarded_http's judgement (`is_public_ip`: every address the name resolves to) and
its pinned connection (the vetted address, SNI and the certificate checked for the name), all
within WEBHOOK_TIMEOUT_SECONDS. Nothing is sent to a refused URL: the refusal comes before any
connection.

Connections stay open per endpoint in this process (keep-alive) while the receiver keeps them,
for at most IDLE_SECONDS unused, up to MAX_KEPT_PER_ENDPOINT of them (a batch sends to one
endpoint on several at once): a burst of events costs a few TLS handshakes, not one each. A
kept connection stays pinned to the address vetted when it was opened; every new one is vetted
afresh.

WEBHOOK_TEST_ALLOWED_ADDRESSES and WEBHOOK_TEST_CA_FILE (settings; empty in production) let
tests and benchmarks reach their receiver on 127.0.0.1 with a test CA's certificate."""

from __future__ import annotations

import http.client
import ipaddress
import socket
import threading
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings

from credentials import guarded_http

IDLE_SECONDS = 30.0
MAX_KEPT_PER_ENDPOINT = 8  # idle connections kept per endpoint (a batch sends on several)
MAX_ANSWER_BYTES = 64 * 1024  # what is read of an answer (and discarded)
USER_AGENT = "dpp-wallet-webhooks"


class SendError(Exception):
    """Why a webhook was not delivered: `refused` (not https, a private address: nothing was
    sent), `timeout`, or `failed` (the connection)."""

    def __init__(self, message: str, *, code: str = "failed"):
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class Endpoint:
    host: str
    port: int
    target: str  # path and query


def endpoint(url: str) -> Endpoint:
    """The parts of a webhook URL; SendError(refused) for one we never send to."""
    try:
        parts = urlsplit(url)
        port = parts.port or 443
    except ValueError:
        raise SendError(f"not a URL: {url!r}", code="refused") from None
    if parts.scheme != "https" or not parts.hostname:
        raise SendError("webhooks are sent over https only", code="refused")
    if parts.username or parts.password:
        raise SendError("a webhook URL carries no user name or password", code="refused")
    return Endpoint(parts.hostname, port, (parts.path or "/") + (f"?{parts.query}"
                                                                  if parts.query else ""))


def allowed_ip(ip) -> bool:
    if guarded_http.is_public_ip(ip):
        return True
    return str(ip) in set(settings.WEBHOOK_TEST_ALLOWED_ADDRESSES)


def vetted_address(host: str, port: int) -> str:
    """The first address of `host`, refusing a name any of whose addresses is not public."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise SendError(f"cannot resolve {host}: {exc}") from None
    for info in infos:
        ip = ipaddress.ip_address(info[4][0].split("%")[0])
        if not allowed_ip(ip):
            raise SendError(f"{host} resolves to a non-public address ({ip}): refused",
                            code="refused")
    return infos[0][4][0]


def check_url(url: str) -> None:
    """SendError(refused) for a URL no webhook may be sent to (subscribing checks it too)."""
    target = endpoint(url)
    vetted_address(target.host, target.port)


class _Connection(guarded_http._PinnedHTTPSConnection):  # noqa: SLF001 - the engine's pin
    def __init__(self, host: str, address: str, port: int, deadline):
        super().__init__(host, address, port, deadline)
        if settings.WEBHOOK_TEST_CA_FILE:
            self._context = guarded_http.tls_context(settings.WEBHOOK_TEST_CA_FILE)
        self.last_used = time.monotonic()

    def connect(self):
        super().connect()
        # One request is a few hundred bytes: without this, Nagle's algorithm holds the body
        # back until the receiver's delayed ACK of the headers (~40 ms on every delivery).
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def rearm(self, deadline) -> None:
        self._deadline = deadline
        if self.sock is not None:
            self.sock.deadline = deadline


# Idle kept connections per endpoint (host, port), the most recently used last; the sender
# threads of a batch (webhooks.services) take one each and give it back after the exchange.
_idle: dict[tuple[str, int], list[_Connection]] = {}
_idle_lock = threading.Lock()


def kept_connections(host: str, port: int) -> list[_Connection]:
    """The idle connections kept open to an endpoint (what tests look at)."""
    with _idle_lock:
        return list(_idle.get((host, port), []))


def _take(key: tuple[str, int]) -> _Connection | None:
    """A kept connection to `key`, unused for less than IDLE_SECONDS; None when there is none."""
    with _idle_lock:
        kept = _idle.get(key, [])
        while kept:
            connection = kept.pop()
            if time.monotonic() - connection.last_used <= IDLE_SECONDS:
                return connection
            connection.close()
    return None


def _give_back(key: tuple[str, int], connection: _Connection) -> None:
    connection.last_used = time.monotonic()
    with _idle_lock:
        kept = _idle.setdefault(key, [])
        kept.append(connection)
        while len(kept) > MAX_KEPT_PER_ENDPOINT:
            kept.pop(0).close()


def post(url: str, body: bytes, headers: dict[str, str]) -> int:
    """POST `body` to `url`; the answer's status. SendError when none came. Thread-safe: each
    caller has a connection of its own for the exchange (a kept one, or a new one to a freshly
    vetted address)."""
    target = endpoint(url)
    seconds = settings.WEBHOOK_TIMEOUT_SECONDS
    deadline = guarded_http.Deadline(seconds, f"the {seconds:g} s deadline of a webhook")
    key = (target.host, target.port)
    headers = {**headers, "User-Agent": USER_AGENT, "Content-Type": "application/json"}
    kept = _take(key)
    if kept is not None:
        kept.rearm(deadline)
        try:
            return _exchange(kept, key, target, body, headers)
        except SendError as error:
            if error.code != "stale":
                raise
    connection = _Connection(target.host, vetted_address(target.host, target.port),
                             target.port, deadline)
    try:
        return _exchange(connection, key, target, body, headers)
    except SendError as error:
        if error.code == "stale":
            raise SendError(f"{target.host} closed the connection") from None
        raise


def _exchange(connection: _Connection, key, target: Endpoint, body: bytes,
              headers: dict) -> int:
    reused = connection.sock is not None
    try:
        connection.request("POST", target.target, body=body, headers=headers)
        response = connection.getresponse()
        response.read(MAX_ANSWER_BYTES)
    except TimeoutError:
        connection.close()
        raise SendError(f"{target.host} did not answer within {connection._deadline.name}",
                        code="timeout") from None
    except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError) as exc:
        connection.close()
        if reused:  # the receiver closed a kept connection: try once on a new one
            raise SendError("stale", code="stale") from None
        raise SendError(f"cannot send to {target.host}: {type(exc).__name__}") from None
    except (OSError, http.client.HTTPException) as exc:
        connection.close()
        raise SendError(f"cannot send to {target.host}: {type(exc).__name__}") from None
    if response.will_close:
        connection.close()
    else:
        _give_back(key, connection)
    return response.status
