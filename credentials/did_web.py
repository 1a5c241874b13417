"""did:web documents for our own DIDs, and resolution of any DID to its keys.

Own did:web documents come from the database, whatever address the DID carries: the current
`PUBLIC_BASE_URL` or one the service had before (a DID is ours when the key store holds keys
for exactly that DID; keys are only ever made for the service's own DIDs, so no other party can
become one of ours), so our own credentials never depend on the service fetching itself.

A foreign did:web is fetched over HTTPS only, from a public address only (the resolved address
is checked and then used for the connection, so DNS cannot point it elsewhere in between), with
a short timeout and a size cap, and cached."""

from __future__ import annotations

import http.client
import ipaddress
import json
import socket
import ssl
from urllib.parse import unquote, urlsplit

from django.conf import settings
from django.core.cache import cache
from django.db.models import Q

from credentials.dids import (
    did_web_document_url,
    did_web_for_url,
    public_key_from_method,
    resolve_did_key,
)
from credentials.errors import DidNotResolved, KeyNotFound, KeyResolutionError
from credentials.key_store import public_key_of
from credentials.keys import PublicKey
from credentials.models import KeyPair

DID_CONTEXTS = ["https://www.w3.org/ns/did/v1", "https://w3id.org/security/multikey/v1",
                "https://w3id.org/security/jwk/v1"]
FETCH_TIMEOUT_S = 3.0
MAX_DOCUMENT_BYTES = 64 * 1024
CACHE_SECONDS = 300


def service_did() -> str:
    return did_web_for_url(settings.PUBLIC_BASE_URL)


def organisation_did(slug: str) -> str:
    return did_web_for_url(settings.PUBLIC_BASE_URL, "orgs", slug)


def is_own_did(did: str) -> bool:
    """A DID of this service at its current address (no database: see `is_hosted_here` for
    the DIDs of its earlier addresses)."""
    return did == service_did() or did.startswith(service_did() + ":")


def did_web_host(did: str) -> str | None:
    """The host of a did:web, as the DID writes it (`name` or `name%3Aport`)."""
    if not isinstance(did, str) or not did.startswith("did:web:"):
        return None
    return did.removeprefix("did:web:").split(":", 1)[0] or None


def is_own_host(host: str | None) -> bool:
    """Whether this service serves or served DIDs at `host` (as a did:web writes it): its
    current address, or an earlier one the key store holds DIDs of."""
    if not host:
        return False
    if host == did_web_host(service_did()):
        return True
    return KeyPair.objects.filter(Q(controller=f"did:web:{host}")
                                  | Q(controller__startswith=f"did:web:{host}:")).exists()


def is_hosted_here(did: str) -> bool:
    """A DID this service holds keys for, at any address it had (one indexed query)."""
    return isinstance(did, str) and KeyPair.objects.filter(controller=did).exists()


def earlier_address(did: str) -> str | None:
    """The earlier address (`host[:port]`) of this service that `did` carries, when it is one
    of ours from before PUBLIC_BASE_URL changed; None for a current or a foreign DID."""
    if not did.startswith("did:web:") or is_own_did(did) or not is_hosted_here(did):
        return None
    return unquote(did_web_host(did))


def note_earlier_address(credential: dict, verdict: dict) -> None:
    """An extra check for the verifier: when the issuer's DID is one of ours from an earlier
    address, the issuer check says so (its keys came from our records, not from that address)."""
    issuer = (verdict.get("issuer") or {}).get("id")
    address = earlier_address(issuer) if isinstance(issuer, str) else None
    if address is None:
        return
    for check in verdict["checks"]:
        if check["check"] == "issuer" and check["ok"]:
            check.update(code="earlier_address",
                         detail=f"{issuer} is a DID of this service at its earlier address "
                                f"{address}, resolved from the service's own records")


def own_url_path(url: str) -> str | None:
    """The path of `url` when it is an address of this service, now or before PUBLIC_BASE_URL
    changed (a status list or credential id in what it issued then); None otherwise."""
    if not isinstance(url, str):
        return None
    base = settings.PUBLIC_BASE_URL
    if url.startswith(base + "/"):
        return urlsplit(url).path
    try:
        parts = urlsplit(url)
        hostname, port = parts.hostname, parts.port
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not hostname or parts.username is not None:
        return None
    host = hostname + (f"%3A{port}" if port else "")
    return parts.path if is_own_host(host) else None


def did_document(did: str) -> dict | None:
    """Our DID document for `did`, or None when it has no keys here."""
    keys = list(KeyPair.objects.filter(controller=did).order_by("created_at", "id"))
    if not keys:
        return None
    methods = [verification_method(key) for key in keys]
    ids = [method["id"] for method in methods]
    # Retired keys stay listed for assertion, so what they signed still verifies.
    return {"@context": DID_CONTEXTS, "id": did, "verificationMethod": methods,
            "assertionMethod": ids, "authentication": ids}


def verification_method(key: KeyPair) -> dict:
    """One key of a DID document, readable both ways: `JsonWebKey` with `publicKeyJwk` (what
    JOSE resolvers and EU wallets read) and the same key as `publicKeyMultibase` (what Multikey
    readers of the Data Integrity suites read). Both name one key, so they cannot disagree."""
    return {"id": key.verification_method, "type": "JsonWebKey", "controller": key.controller,
            "publicKeyJwk": public_key_of(key).jwk(),
            "publicKeyMultibase": key.public_key_multibase}


class DidResolver:
    """The engine's KeyResolver: did:key, our own did:web from the database, foreign did:web
    over guarded HTTPS."""

    def __init__(self, *, allow_remote: bool = True):
        self.allow_remote = allow_remote

    def resolve(self, did: str) -> dict:
        """The DID document; DidNotResolved saying why there is none."""
        document = did_document(did)  # ours, at this address or an earlier one
        if document is not None:
            return document
        if is_own_did(did) or is_own_host(did_web_host(did)):
            raise DidNotResolved(f"{did} is not a DID of this service")
        if not self.allow_remote:
            raise DidNotResolved(f"foreign DID {did} not resolved (remote resolution off)")
        try:
            return fetch_did_web(did)
        except DidNotResolved:
            raise
        except KeyResolutionError as exc:
            raise DidNotResolved(f"{did}: {exc.detail}") from None

    def public_key(self, verification_method: str) -> PublicKey:
        if not isinstance(verification_method, str) or "#" not in verification_method:
            raise KeyResolutionError(f"not a DID URL with a fragment: {verification_method!r}")
        if verification_method.startswith("did:key:"):
            return resolve_did_key(verification_method)
        if not verification_method.startswith("did:web:"):
            raise KeyResolutionError(
                f"unsupported DID method in {verification_method!r} (did:web, did:key)")
        did = verification_method.split("#", 1)[0]
        document = self.resolve(did)
        for method in document.get("verificationMethod", []):
            method_id = method.get("id", "")
            if method_id.startswith("#"):
                method_id = did + method_id
            if method_id == verification_method:
                if not _listed(document, method_id, did):
                    raise KeyNotFound(f"{verification_method} is not an assertion or "
                                      f"authentication method of {did}")
                key = public_key_from_method(method)
                return PublicKey(key.key_type, key.raw, verification_method)
        raise KeyNotFound(f"{did} has no verification method {verification_method}")


def _listed(document: dict, method_id: str, did: str) -> bool:
    for relation in ("assertionMethod", "authentication"):
        for entry in document.get(relation, []):
            ref = entry.get("id") if isinstance(entry, dict) else entry
            if ref == method_id or (isinstance(ref, str) and did + ref == method_id):
                return True
    return False


# --- guarded fetching of foreign did:web documents --------------------------------------------

def public_address(host: str, port: int) -> str:
    """The first address of `host`, refusing names that resolve to anything non-public."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise KeyResolutionError(f"cannot resolve {host}: {exc}") from None
    addresses = [info[4][0] for info in infos]
    for address in addresses:
        ip = ipaddress.ip_address(address.split("%")[0])
        if not ip.is_global or ip.is_multicast:
            raise KeyResolutionError(f"{host} resolves to a non-public address ({ip}): refused")
    return addresses[0]


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    """HTTPS to a vetted IP address, with SNI and certificate checks for the host name."""

    def __init__(self, host: str, address: str, port: int, timeout: float):
        super().__init__(host, port, timeout=timeout, context=ssl.create_default_context())
        self._address = address

    def connect(self):
        sock = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)


def fetch_json_https(url: str, *, max_bytes: int = MAX_DOCUMENT_BYTES,
                     accept: str = "application/json") -> dict:
    """GET a JSON document over guarded HTTPS (used for DID documents and status lists)."""
    parts = urlsplit(url)
    if parts.scheme != "https" or not parts.hostname:
        raise KeyResolutionError(f"only https URLs are fetched: {url!r}")
    port = parts.port or 443
    address = public_address(parts.hostname, port)
    connection = _PinnedHTTPSConnection(parts.hostname, address, port, FETCH_TIMEOUT_S)
    try:
        connection.request("GET", parts.path + (f"?{parts.query}" if parts.query else ""),
                           headers={"Accept": accept, "User-Agent": "dpp-wallet"})
        response = connection.getresponse()
        if response.status != 200:
            raise KeyResolutionError(f"{url} answered {response.status}")
        body = response.read(max_bytes + 1)
    except (OSError, http.client.HTTPException) as exc:
        raise KeyResolutionError(f"cannot fetch {url}: {type(exc).__name__}") from None
    finally:
        connection.close()
    if len(body) > max_bytes:
        raise KeyResolutionError(f"{url} is larger than {max_bytes} bytes")
    try:
        return json.loads(body)
    except ValueError:
        raise KeyResolutionError(f"{url} is not JSON") from None


def fetch_did_web(did: str) -> dict:
    cache_key = f"did-web:{did}"
    document = cache.get(cache_key)
    if document is None:
        try:
            url = did_web_document_url(did)
        except ValueError as exc:
            raise KeyResolutionError(str(exc)) from None
        document = fetch_json_https(url)
        if not isinstance(document, dict) or document.get("id") != did:
            raise KeyResolutionError(f"the document at {url} is not the DID document of {did}")
        cache.set(cache_key, document, CACHE_SECONDS)
    return document
