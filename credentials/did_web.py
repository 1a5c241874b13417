"""did:web documents for our own DIDs, and resolution of any DID to its keys.

Own did:web documents come from the database, whatever address the DID carries: the current
`PUBLIC_BASE_URL` or one the service had before (a DID is ours when the key store holds keys
for exactly that DID; keys are only ever made for the service's own DIDs, so no other party can
become one of ours), so our own credentials never depend on the service fetching itself.

A foreign did:web is fetched over guarded HTTPS (credentials.guarded_http: https only, public
addresses only and pinned, one deadline for the whole fetch, a size cap) and cached."""

from __future__ import annotations

from urllib.parse import unquote, urlsplit

from django.conf import settings
from django.db.models import Q

from core import json_limits
from core.outages import best_effort
from core.times import iso8601
from credentials import guarded_http, mirrors, schemas
from credentials.dids import (
    did_web_document_url,
    did_web_for_url,
    public_key_from_method,
    resolve_did_key,
)
from credentials.errors import DidNotResolved, KeyNotFound, KeyResolutionError
from credentials.key_store import public_key_for_verification, public_key_of
from credentials.keys import CompromisedKey, PublicKey
from credentials.models import KeyPair

DID_CONTEXTS = ["https://www.w3.org/ns/did/v1", "https://w3id.org/security/multikey/v1",
                "https://w3id.org/security/jwk/v1"]
DID_MEDIA_TYPES = "application/did+json, application/json"
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
    keys = _own_keys(did)
    return _document(did, keys) if keys else None


def _own_keys(did: str) -> list[KeyPair]:
    return list(KeyPair.objects.filter(controller=did).order_by("created_at", "id"))


def own_did_documents() -> dict[str, dict]:
    """Every DID document of ours at the current address, by DID, from one query."""
    own = service_did()
    by_did: dict[str, list[KeyPair]] = {}
    for key in (KeyPair.objects.filter(Q(controller=own) | Q(controller__startswith=own + ":"))
                .order_by("controller", "created_at", "id")):
        by_did.setdefault(key.controller, []).append(key)
    return {did: _document(did, keys) for did, keys in by_did.items()}


def _document(did: str, keys: list[KeyPair]) -> dict:
    methods = [verification_method(key) for key in keys]
    # Retired keys stay listed for assertion, so what they signed still verifies. A compromised
    # key stays a verification method marked `revoked` (W3C Controlled Identifiers §2.2), but
    # no longer an assertion or authentication method: nobody should take its word any more.
    ids = [key.verification_method for key in keys if key.compromised_at is None]
    return {"@context": DID_CONTEXTS, "id": did, "verificationMethod": methods,
            "assertionMethod": ids, "authentication": ids}


def verification_method(key: KeyPair) -> dict:
    """One key of a DID document, readable both ways: `JsonWebKey` with `publicKeyJwk` (what
    JOSE resolvers and EU wallets read) and the same key as `publicKeyMultibase` (what Multikey
    readers of the Data Integrity suites read). Both name one key, so they cannot disagree.
    A compromised key carries `revoked`, the time from which it is not to be trusted (defined
    by both the JsonWebKey and the Multikey contexts, so no term of our own)."""
    method = {"id": key.verification_method, "type": "JsonWebKey", "controller": key.controller,
              "publicKeyJwk": public_key_of(key).jwk(),
              "publicKeyMultibase": key.public_key_multibase}
    if key.compromised_at is not None:
        method["revoked"] = iso8601(key.compromised_at)
    return method


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
        return self._foreign(did)

    def _foreign(self, did: str) -> dict:
        if is_own_did(did) or is_own_host(did_web_host(did)):
            raise DidNotResolved(f"{did} is not a DID of this service")
        mirrored = mirrored_did_document(did)
        if mirrored is not None:
            return mirrored
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
        own = _own_keys(did)
        if own:  # ours: from the key store, with each key's compromise and the signing log
            for key in own:
                if key.verification_method == verification_method:
                    return public_key_for_verification(key)
            raise KeyNotFound(f"{did} has no verification method {verification_method}")
        document = self._foreign(did)
        for method in document.get("verificationMethod", []):
            method_id = method.get("id", "")
            if method_id.startswith("#"):
                method_id = did + method_id
            if method_id == verification_method:
                revoked = method.get("revoked")
                if revoked is not None:
                    return _revoked_foreign_key(method, verification_method, revoked)
                if not _listed(document, method_id, did):
                    raise KeyNotFound(f"{verification_method} is not an assertion or "
                                      f"authentication method of {did}")
                key = public_key_from_method(method)
                return PublicKey(key.key_type, key.raw, verification_method)
        raise KeyNotFound(f"{did} has no verification method {verification_method}")


def _revoked_foreign_key(method: dict, verification_method: str, revoked) -> PublicKey:
    """A foreign issuer's key its DID document marks `revoked`: we hold no record of what it
    signed when, so nothing it signed is accepted (CompromisedKey without a log)."""
    key = public_key_from_method(method)
    moment = schemas.parse_datetime(revoked) if isinstance(revoked, str) else None
    return CompromisedKey(key.key_type, key.raw, verification_method, compromised_at=moment,
                          reason="" if moment else f"revoked: {revoked!r}")


def _listed(document: dict, method_id: str, did: str) -> bool:
    for relation in ("assertionMethod", "authentication"):
        for entry in document.get(relation, []):
            ref = entry.get("id") if isinstance(entry, dict) else entry
            if ref == method_id or (isinstance(ref, str) and did + ref == method_id):
                return True
    return False


# --- foreign did:web documents -----------------------------------------------------------------

def mirrored_did_document(did: str) -> dict | None:
    """A local copy of a foreign did:web document (credentials.mirrors), checked as a fetched
    one is: JSON naming exactly that DID."""
    try:
        url = did_web_document_url(did)
    except ValueError:
        return None
    body = mirrors.copy_of(url)
    if body is None:
        return None
    try:
        document = json_limits.loads(body)
    except ValueError:
        return None
    return document if isinstance(document, dict) and document.get("id") == did else None


def fetch_did_web(did: str) -> dict:
    cache_key = f"did-web:{did}"
    document = best_effort.get(cache_key)
    if document is None:
        try:
            url = did_web_document_url(did)
        except ValueError as exc:
            raise KeyResolutionError(str(exc)) from None
        try:
            document = guarded_http.fetch_json(url, accept=DID_MEDIA_TYPES)
        except guarded_http.FetchError as exc:
            raise KeyResolutionError(exc.detail) from None
        if not isinstance(document, dict) or document.get("id") != did:
            raise KeyResolutionError(f"the document at {url} is not the DID document of {did}")
        best_effort.set(cache_key, document, CACHE_SECONDS)
    return document
