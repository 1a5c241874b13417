"""DIDs: did:key (self-describing) and did:web (ours from the database, foreign over HTTPS).

Key resolvers turn a verification-method id into a PublicKey for the suites."""

from __future__ import annotations

import functools
from urllib.parse import quote, unquote, urlsplit

from credentials.encoding import P256_PUB, decode_multikey, ed25519_multikey, multibase_encode
from credentials.errors import KeyNotFound, KeyResolutionError
from credentials.keys import PublicKey

# --- did:key ---------------------------------------------------------------------------------

def did_key_for(public_key: PublicKey) -> str:
    if public_key.key_type == "Ed25519":
        return "did:key:" + ed25519_multikey(public_key.raw)
    if public_key.key_type == "P-256":
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric import ec

        point = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), public_key.raw)
        compressed = point.public_bytes(serialization.Encoding.X962,
                                        serialization.PublicFormat.CompressedPoint)
        return "did:key:" + multibase_encode(P256_PUB + compressed)
    raise ValueError(f"no did:key for {public_key.key_type}")


def did_key_verification_method(did: str) -> str:
    """did:key's one verification method: did:key:z...#z..."""
    return f"{did}#{did.removeprefix('did:key:')}"


def resolve_did_key(verification_method: str) -> PublicKey:
    did, _, fragment = verification_method.partition("#")
    identifier = did.removeprefix("did:key:")
    if fragment and fragment != identifier:
        raise KeyResolutionError(f"did:key has no verification method #{fragment}")
    try:
        key_type, raw = decode_multikey(identifier)
    except ValueError as exc:
        raise KeyResolutionError(f"invalid did:key: {exc}") from None
    return PublicKey(key_type, raw, did_key_verification_method(did))


# --- did:web ---------------------------------------------------------------------------------

@functools.lru_cache(maxsize=1024)
def did_web_for_url(base_url: str, *path: str) -> str:
    """did:web for an origin plus path segments; the port's colon is percent-encoded. (Kept per
    process: a verification asks for the same few several times.)"""
    parts = urlsplit(base_url)
    host = parts.hostname + (f"%3A{parts.port}" if parts.port else "")
    segments = [s for s in parts.path.split("/") if s] + list(path)
    return ":".join(["did:web", host, *[quote(s, safe="") for s in segments]])


def did_web_document_url(did: str) -> str:
    """Where a did:web document lives (did:web spec §3.2 Read). Always https."""
    if not did.startswith("did:web:"):
        raise ValueError("not a did:web")
    segments = [unquote(s) for s in did.removeprefix("did:web:").split(":")]
    host, path = segments[0], segments[1:]
    if not host or any(not s or "/" in s for s in path):
        raise ValueError(f"malformed did:web {did!r}")
    return f"https://{host}/" + ("/".join(path) + "/did.json" if path else ".well-known/did.json")


# --- resolvers -------------------------------------------------------------------------------

class StaticKeyResolver:
    """Keys known in advance (tests, vectors) plus did:key."""

    def __init__(self, keys: dict[str, PublicKey] | None = None):
        self.keys = dict(keys or {})

    def public_key(self, verification_method: str) -> PublicKey:
        if verification_method in self.keys:
            return self.keys[verification_method]
        if verification_method.startswith("did:key:"):
            return resolve_did_key(verification_method)
        raise KeyNotFound(f"cannot resolve verification method {verification_method!r}")


def public_key_from_method(method: dict) -> PublicKey:
    """A PublicKey from a DID document's verification method (Multikey or JsonWebKey)."""
    try:
        if "publicKeyMultibase" in method:
            key_type, raw = decode_multikey(method["publicKeyMultibase"])
            return PublicKey(key_type, raw, method.get("id", ""))
        if "publicKeyJwk" in method:
            return PublicKey.from_jwk(method["publicKeyJwk"], method.get("id", ""))
    except (ValueError, TypeError) as exc:
        raise KeyResolutionError(f"invalid verification method: {exc}") from None
    raise KeyResolutionError("verification method has no publicKeyMultibase or publicKeyJwk")
