"""The one way the credential engine fetches from other servers (did:web documents, status
lists, JWT VC Issuer Metadata and JWK Sets): a GET over guarded HTTPS.

- https only;
- every address the host name resolves to must be public (`is_public_ip`), and the connection
  goes to the vetted address (pinned, with SNI and the certificate checked for the name), so
  DNS cannot point it elsewhere in between;
- one deadline for the whole fetch: connecting, the TLS handshake, sending the request and every
  read of the answer share DEADLINE_SECONDS, so a server that drips a byte at a time cannot
  hold the worker longer than that;
- within `time_budget()` (every verification: credentials.verifier), one more deadline shared
  by all its fetches, so a presentation of many credentials, each naming a slow server, cannot
  multiply DEADLINE_SECONDS either;
- a size cap.

Failures raise FetchError (a CredentialError) whose detail names the URL and the reason; its
code says which: `fetch_refused` (not https, a non-public address), `fetch_timeout` (past a
deadline) or `fetch_failed` (anything else)."""

from __future__ import annotations

import http.client
import ipaddress
import socket
import ssl
import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import cache
from typing import Any
from urllib.parse import urlsplit

from core import json_limits
from credentials.errors import CredentialError

DEADLINE_SECONDS = 3.0  # one fetch, from connecting to the last byte
BUDGET_SECONDS = 10.0  # all fetches of one verification (gunicorn gives a request 30 s)
MAX_DOCUMENT_BYTES = 64 * 1024  # a JSON document: a DID document, issuer metadata, a JWK Set
USER_AGENT = "dpp-wallet"

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# IPv6 forms that carry an IPv4 address (RFC 4291 §2.5.5, RFC 6052, RFC 3056, RFC 4380): a
# packet to them reaches, or is translated to, that IPv4 address.
NAT64 = ipaddress.ip_network("64:ff9b::/96")  # RFC 6052 well-known prefix: the last 32 bits
NAT64_LOCAL = ipaddress.ip_network("64:ff9b:1::/48")  # RFC 8215: local use, never public
SIIT_TRANSLATED = ipaddress.ip_network("::ffff:0:0:0/96")  # RFC 2765 "IPv4-translated"


class FetchError(CredentialError):
    code = "fetch_failed"


def is_public_ip(ip: IPAddress) -> bool:
    """Whether a server at `ip` is one of the public internet's. An IPv6 address that embeds
    an IPv4 address (v4-mapped, v4-compatible, SIIT, NAT64, 6to4, Teredo) is judged by the
    address it embeds: `::127.0.0.1` or `64:ff9b::a9fe:a9fe` (169.254.169.254) is not public."""
    if isinstance(ip, ipaddress.IPv6Address):
        if ip in NAT64_LOCAL:
            return False
        embedded = embedded_ipv4(ip)
        if embedded:
            return all(is_public_ip(address) for address in embedded)
    return ip.is_global and not ip.is_multicast


def embedded_ipv4(ip: ipaddress.IPv6Address) -> list[ipaddress.IPv4Address]:
    """The IPv4 addresses an IPv6 address embeds (a Teredo address two: its server and its
    client, whose bits are inverted), or none."""
    value = int(ip)
    if ip.ipv4_mapped is not None:  # ::ffff:a.b.c.d
        return [ip.ipv4_mapped]
    if value >> 32 == 0 or ip in SIIT_TRANSLATED or ip in NAT64:  # ::a.b.c.d (and ::, ::1)
        return [ipaddress.IPv4Address(value & 0xFFFFFFFF)]
    if ip.sixtofour is not None:  # 2002:aabb:ccdd::/48
        return [ip.sixtofour]
    if ip.teredo is not None:  # 2001:0:<server>:<flags>:<port>:<~client>
        return list(ip.teredo)
    return []


def public_address(host: str, port: int, *, also_allowed: frozenset[str] = frozenset()) -> str:
    """The first address of `host`, refusing a name any of whose addresses is not public
    (`also_allowed`: addresses a test allows besides, never set in production)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise FetchError(f"cannot resolve {host}: {exc}") from None
    addresses = [info[4][0] for info in infos]
    allowed = _test_allowed_addresses() | also_allowed
    for address in addresses:
        ip = ipaddress.ip_address(address.split("%")[0])
        if not is_public_ip(ip) and str(ip) not in allowed:
            raise FetchError(f"{host} resolves to a non-public address ({ip}): refused",
                             code="fetch_refused")
    return addresses[0]


def fetch(url: str, *, accept: str, max_bytes: int) -> bytes:
    """The body of a 200 answer to GET `url`, over guarded HTTPS (see the module's doc)."""
    parts = urlsplit(url)
    if parts.scheme != "https" or not parts.hostname:
        raise FetchError(f"only https URLs are fetched: {url!r}", code="fetch_refused")
    deadline = Deadline(DEADLINE_SECONDS, f"the {DEADLINE_SECONDS:g} s deadline of a fetch")
    budget = _budget.get()
    if budget is not None and budget.end < deadline.end:
        deadline = budget
    if deadline.end <= time.monotonic():
        raise FetchError(f"{url} not fetched: {deadline.name} is spent", code="fetch_timeout")
    port = parts.port or 443
    address = public_address(parts.hostname, port)
    connection = _PinnedHTTPSConnection(parts.hostname, address, port, deadline)
    try:
        connection.request("GET", parts.path + (f"?{parts.query}" if parts.query else ""),
                           headers={"Accept": accept, "User-Agent": USER_AGENT})
        response = connection.getresponse()
        if response.status != 200:
            raise FetchError(f"{url} answered {response.status}")
        body = response.read(max_bytes + 1)
    except TimeoutError:
        raise FetchError(f"{url} did not answer within {deadline.name}",
                         code="fetch_timeout") from None
    except (OSError, http.client.HTTPException) as exc:
        raise FetchError(f"cannot fetch {url}: {type(exc).__name__}") from None
    finally:
        connection.close()
    if len(body) > max_bytes:
        raise FetchError(f"{url} is larger than {max_bytes} bytes")
    return body


def fetch_json(url: str, *, accept: str, max_bytes: int = MAX_DOCUMENT_BYTES) -> Any:
    """fetch(), parsed as JSON nested at most core.json_limits.MAX_DEPTH levels."""
    body = fetch(url, accept=accept, max_bytes=max_bytes)
    try:
        return json_limits.loads(body)
    except ValueError as exc:
        raise FetchError(f"{url} is not JSON ({exc})") from None


def _test_allowed_addresses() -> frozenset[str]:
    """FETCH_TEST_ALLOWED_ADDRESSES: the loopback addresses tests and benchmarks run a second
    instance of the service on (empty in production, where nothing else is allowed)."""
    from django.conf import settings

    return frozenset(getattr(settings, "FETCH_TEST_ALLOWED_ADDRESSES", ()) or ())


def _test_ca_file() -> str | None:
    """FETCH_TEST_CA_FILE: the test CA those instances' certificates chain to (never set in
    production: the system's trust store)."""
    from django.conf import settings

    return getattr(settings, "FETCH_TEST_CA_FILE", "") or None


def post(url: str, body: bytes, *, headers: dict[str, str], seconds: float,
         max_answer_bytes: int = MAX_DOCUMENT_BYTES, also_allowed: frozenset[str] = frozenset(),
         cafile: str | None = None) -> tuple[int, bytes]:
    """POST `body` to `url` over guarded HTTPS, as `fetch` GETs (https only, public and pinned
    addresses, one deadline of `seconds`): (the answer's status, its body). `also_allowed` and
    `cafile` are test allowances (a receiver on 127.0.0.1 with a test CA's certificate), empty
    in production. FetchError when no answer came."""
    parts = urlsplit(url)
    if parts.scheme != "https" or not parts.hostname or parts.username or parts.password:
        raise FetchError(f"only https URLs without credentials are posted to: {url!r}",
                         code="fetch_refused")
    deadline = Deadline(seconds, f"the {seconds:g} s deadline of a post")
    port = parts.port or 443
    address = public_address(parts.hostname, port, also_allowed=also_allowed)
    connection = _PinnedHTTPSConnection(parts.hostname, address, port, deadline, cafile=cafile)
    try:
        connection.request("POST", (parts.path or "/") + (f"?{parts.query}" if parts.query
                                                          else ""), body=body,
                           headers={**headers, "User-Agent": USER_AGENT})
        response = connection.getresponse()
        answer = response.read(max_answer_bytes)
    except TimeoutError:
        raise FetchError(f"{url} did not answer within {deadline.name}",
                         code="fetch_timeout") from None
    except (OSError, http.client.HTTPException) as exc:
        raise FetchError(f"cannot post to {url}: {type(exc).__name__}") from None
    finally:
        connection.close()
    return response.status, answer


class Deadline:
    def __init__(self, seconds: float, name: str):
        self.end = time.monotonic() + seconds
        self.name = name  # what an error says ran out

    def remaining(self) -> float:
        """Seconds left, for the next blocking call; TimeoutError when none are."""
        left = self.end - time.monotonic()
        if left <= 0:
            raise TimeoutError("deadline passed")
        return left


_budget: ContextVar[Deadline | None] = ContextVar("guarded_http_budget", default=None)


@contextmanager
def time_budget(seconds: float | None = None) -> Iterator[None]:
    """Every fetch inside ends by `seconds` (BUDGET_SECONDS) from now, or by an enclosing
    budget's end when that is sooner; each still within its own DEADLINE_SECONDS."""
    seconds = BUDGET_SECONDS if seconds is None else seconds
    deadline = Deadline(seconds, f"the {seconds:g} s fetching budget of a verification")
    outer = _budget.get()
    token = _budget.set(outer if outer is not None and outer.end < deadline.end else deadline)
    try:
        yield
    finally:
        _budget.reset(token)


class _DeadlineSocket(ssl.SSLSocket):
    """A TLS socket whose every blocking call may take only what is left of its deadline
    (a socket timeout bounds one call only; http.client makes one per line and per buffer)."""

    deadline: Deadline

    def do_handshake(self, *args, **kwargs):
        self.settimeout(self.deadline.remaining())
        return super().do_handshake(*args, **kwargs)

    def send(self, *args, **kwargs):  # sendall() sends through send()
        self.settimeout(self.deadline.remaining())
        return super().send(*args, **kwargs)

    def read(self, *args, **kwargs):  # recv() and recv_into() read through read()
        self.settimeout(self.deadline.remaining())
        return super().read(*args, **kwargs)


@cache
def tls_context(cafile: str | None = None) -> ssl.SSLContext:
    """The system's trust store (or `cafile`'s, for tests) and checks, with sockets that keep
    a deadline."""
    context = ssl.create_default_context(cafile=cafile)
    context.sslsocket_class = _DeadlineSocket
    return context


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    """HTTPS to a vetted IP address, with SNI and certificate checks for the host name, all
    within one deadline."""

    def __init__(self, host: str, address: str, port: int, deadline: Deadline,
                 cafile: str | None = None):
        cafile = cafile or _test_ca_file()
        context = tls_context(cafile) if cafile else tls_context()
        super().__init__(host, port, timeout=deadline.remaining(), context=context)
        self._address = address
        self._deadline = deadline

    def connect(self):
        sock = socket.create_connection((self._address, self.port), self._deadline.remaining())
        try:
            tls = self._context.wrap_socket(sock, server_hostname=self.host,
                                            do_handshake_on_connect=False)
        except BaseException:
            sock.close()
            raise
        tls.deadline = self._deadline
        self.sock = tls
        tls.do_handshake()
