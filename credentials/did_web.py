"""did:web documents for our own DIDs, and resolution of any DID to its keys.

Own did:web documents come from the database. A foreign did:web is fetched over guarded HTTPS
(credentials.guarded_http: https only, public addresses only and pinned, one deadline for the
whole fetch, a size cap) and cached."""

from __future__ import annotations

from django.conf import settings
from django.core.cache import cache

from credentials import guarded_http
from credentials.dids import (
    did_web_document_url,
    did_web_for_url,
    public_key_from_method,
    resolve_did_key,
)
from credentials.errors import KeyResolutionError
from credentials.keys import PublicKey
from credentials.models import KeyPair

DID_CONTEXTS = ["https://www.w3.org/ns/did/v1", "https://w3id.org/security/multikey/v1"]
DID_MEDIA_TYPES = "application/did+json, application/json"
CACHE_SECONDS = 300


def service_did() -> str:
    return did_web_for_url(settings.PUBLIC_BASE_URL)


def organisation_did(slug: str) -> str:
    return did_web_for_url(settings.PUBLIC_BASE_URL, "orgs", slug)


def is_own_did(did: str) -> bool:
    return did == service_did() or did.startswith(service_did() + ":")


def did_document(did: str) -> dict | None:
    """Our DID document for `did`, or None when it has no keys here."""
    keys = list(KeyPair.objects.filter(controller=did).order_by("created_at", "id"))
    if not keys:
        return None
    methods = [
        {"id": key.verification_method, "type": "Multikey", "controller": did,
         "publicKeyMultibase": key.public_key_multibase}
        for key in keys
    ]
    ids = [method["id"] for method in methods]
    # Retired keys stay listed for assertion, so what they signed still verifies.
    return {"@context": DID_CONTEXTS, "id": did, "verificationMethod": methods,
            "assertionMethod": ids, "authentication": ids}


class DidResolver:
    """The engine's KeyResolver: did:key, our own did:web from the database, foreign did:web
    over guarded HTTPS."""

    def __init__(self, *, allow_remote: bool = True):
        self.allow_remote = allow_remote

    def resolve(self, did: str) -> dict:
        if is_own_did(did):
            document = did_document(did)
            if document is None:
                raise KeyResolutionError(f"unknown DID {did}")
            return document
        if not self.allow_remote:
            raise KeyResolutionError(f"foreign DID {did} not resolved (remote resolution off)")
        return fetch_did_web(did)

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
                    raise KeyResolutionError(f"{verification_method} is not an assertion "
                                             f"or authentication method of {did}")
                key = public_key_from_method(method)
                return PublicKey(key.key_type, key.raw, verification_method)
        raise KeyResolutionError(f"{did} has no verification method {verification_method}")


def _listed(document: dict, method_id: str, did: str) -> bool:
    for relation in ("assertionMethod", "authentication"):
        for entry in document.get(relation, []):
            ref = entry.get("id") if isinstance(entry, dict) else entry
            if ref == method_id or (isinstance(ref, str) and did + ref == method_id):
                return True
    return False


# --- foreign did:web documents -----------------------------------------------------------------

def fetch_did_web(did: str) -> dict:
    cache_key = f"did-web:{did}"
    document = cache.get(cache_key)
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
        cache.set(cache_key, document, CACHE_SECONDS)
    return document
