"""Keys: the only module that touches private key material.

Suites see a `Signer` (sign bytes, public key, verification-method id) and `PublicKey`s, never a
private key, so an HSM or KMS can stand in for `LocalSigner` later.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from typing import Protocol, runtime_checkable

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from core.encryption_key import encryption_key_from_text  # noqa: F401 - part of this API
from core.times import iso8601
from credentials.errors import KeyCompromised

# JOSE algorithm names: we emit EdDSA (what deployed verifiers and UNTP samples use) and accept
# the RFC 9864 name Ed25519 too.
JOSE_ALGORITHMS = {"Ed25519": "EdDSA", "P-256": "ES256"}
ACCEPTED_JOSE = {"EdDSA": "Ed25519", "Ed25519": "Ed25519", "ES256": "P-256"}


@runtime_checkable
class Signer(Protocol):
    """What a proof suite needs from a key: nothing more."""

    key_type: str  # "Ed25519" or "P-256"
    verification_method: str  # DID URL of the public key, e.g. did:web:...#key-1

    def sign(self, data: bytes) -> bytes: ...

    def public_key(self) -> PublicKey: ...


@dataclass(frozen=True)
class PublicKey:
    key_type: str  # "Ed25519" or "P-256"
    raw: bytes  # Ed25519: 32 bytes; P-256: 33-byte compressed or 65-byte uncompressed point
    id: str = ""  # verification-method id, when known

    @property
    def jose_alg(self) -> str:
        return JOSE_ALGORITHMS[self.key_type]

    def verify(self, signature: bytes, data: bytes) -> bool:
        """True when `signature` is valid over `data`. For P-256, the JOSE r||s form."""
        try:
            if self.key_type == "Ed25519":
                ed25519.Ed25519PublicKey.from_public_bytes(self.raw).verify(signature, data)
            elif self.key_type == "P-256":
                if len(signature) != 64:
                    return False
                der = encode_dss_signature(int.from_bytes(signature[:32], "big"),
                                           int.from_bytes(signature[32:], "big"))
                _p256(self.raw).verify(der, data, ec.ECDSA(hashes.SHA256()))
            else:
                return False
            return True
        except (InvalidSignature, ValueError):
            return False

    def jwk(self) -> dict:
        from credentials.encoding import b64url_encode

        if self.key_type == "Ed25519":
            return {"kty": "OKP", "crv": "Ed25519", "x": b64url_encode(self.raw)}
        numbers = _p256(self.raw).public_numbers()
        return {"kty": "EC", "crv": "P-256", "x": b64url_encode(numbers.x.to_bytes(32, "big")),
                "y": b64url_encode(numbers.y.to_bytes(32, "big"))}

    @classmethod
    def from_jwk(cls, jwk: dict, id: str = "") -> PublicKey:
        from credentials.encoding import b64url_decode

        try:
            if jwk.get("kty") == "OKP" and jwk.get("crv") == "Ed25519":
                raw = b64url_decode(jwk["x"])
                if len(raw) != 32:
                    raise ValueError("Ed25519 x must be 32 bytes")
                return cls("Ed25519", raw, id)
            if jwk.get("kty") == "EC" and jwk.get("crv") == "P-256":
                raw = b"\x04" + b64url_decode(jwk["x"]) + b64url_decode(jwk["y"])
                _p256(raw)  # validates the point
                return cls("P-256", raw, id)
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"invalid JWK: {exc}") from None
        raise ValueError("unsupported JWK (OKP Ed25519 and EC P-256 only)")


def signature_digest(signature: bytes) -> bytes:
    """What a signing log keeps of a signature: its SHA-256 (the signature names the signed
    data and its key; the digest is enough to recognise it again, and reveals nothing)."""
    return hashlib.sha256(signature).digest()


@dataclass(frozen=True)
class CompromisedKey(PublicKey):
    """A key declared compromised from `compromised_at` on: a signature by it holds only when
    its issuer's own signing log shows it was made before then. Who signed when is never taken
    from the signed data (a proof's `created`, a JWT's `iat`): whoever stole the key writes
    those. `signed_at` looks a signature up in the issuer's log (None: not in it); a key of a
    foreign issuer has no log here (`signed_at` None), so nothing it signed is accepted."""

    compromised_at: datetime | None = None
    reason: str = ""
    signed_at: Callable[[bytes], datetime | None] | None = field(default=None, compare=False)

    def verify(self, signature: bytes, data: bytes) -> bool:
        if not super().verify(signature, data):
            return False  # not this key's signature at all: the ordinary mismatch
        since = iso8601(self.compromised_at) if self.compromised_at else "an unknown time"
        because = f" ({self.reason})" if self.reason else ""
        if self.signed_at is None:
            raise KeyCompromised(
                f"{self.id} was declared compromised on {since}{because}: when a signature by "
                f"it was made cannot be known outside its issuer's service, so none is accepted")
        when = self.signed_at(signature)
        if when is None:
            raise KeyCompromised(
                f"{self.id} was declared compromised on {since}{because}, and its issuer has "
                f"no record of making this signature: it was not made by the issuer")
        if self.compromised_at is not None and when >= self.compromised_at:
            raise KeyCompromised(
                f"signed with {self.id} on {iso8601(when)}, after the key was compromised on "
                f"{since}{because}")
        return True


@cache
def _p256(raw: bytes) -> ec.EllipticCurvePublicKey:
    return ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), raw)


class LocalSigner:
    """A signer over a private key held in this process (decrypted from the database)."""

    def __init__(self, private_key, verification_method: str):
        self._key = private_key
        self.verification_method = verification_method
        if isinstance(private_key, ed25519.Ed25519PrivateKey):
            self.key_type = "Ed25519"
            raw = private_key.public_key().public_bytes(
                serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        elif isinstance(private_key, ec.EllipticCurvePrivateKey):
            self.key_type = "P-256"
            raw = private_key.public_key().public_bytes(
                serialization.Encoding.X962, serialization.PublicFormat.CompressedPoint)
        else:
            raise TypeError("unsupported private key type")
        self._public = PublicKey(self.key_type, raw, verification_method)

    def sign(self, data: bytes) -> bytes:
        if self.key_type == "Ed25519":
            return self._key.sign(data)
        r, s = decode_dss_signature(self._key.sign(data, ec.ECDSA(hashes.SHA256())))
        return r.to_bytes(32, "big") + s.to_bytes(32, "big")

    def public_key(self) -> PublicKey:
        return self._public

    def __repr__(self) -> str:  # never print key material
        return f"<LocalSigner {self.key_type} {self.verification_method}>"

    @classmethod
    def generate(cls, verification_method: str = "", key_type: str = "Ed25519") -> LocalSigner:
        if key_type == "Ed25519":
            return cls(ed25519.Ed25519PrivateKey.generate(), verification_method)
        if key_type == "P-256":
            return cls(ec.generate_private_key(ec.SECP256R1()), verification_method)
        raise ValueError(f"unsupported key type {key_type}")

    @classmethod
    def from_ed25519_seed(cls, seed: bytes, verification_method: str = "") -> LocalSigner:
        """Deterministic key from a 32-byte seed: test vectors only."""
        return cls(ed25519.Ed25519PrivateKey.from_private_bytes(seed), verification_method)

    def private_bytes(self) -> bytes:
        """PKCS#8 DER of the private key, only for wrapping it (see `wrap_private_key`)."""
        return self._key.private_bytes(serialization.Encoding.DER,
                                       serialization.PrivateFormat.PKCS8,
                                       serialization.NoEncryption())

    @classmethod
    def from_private_bytes(cls, der: bytes, verification_method: str) -> LocalSigner:
        return cls(serialization.load_der_private_key(der, password=None), verification_method)


# --- encryption at rest -------------------------------------------------------------------

WRAP_VERSION = b"\x01"  # format byte, so the scheme can change without ambiguity


def wrap_private_key(private_der: bytes, encryption_key: bytes, *, associated: bytes) -> bytes:
    """AES-256-GCM; `associated` (the key's id) binds the ciphertext to its row."""
    nonce = os.urandom(12)
    return WRAP_VERSION + nonce + AESGCM(encryption_key).encrypt(nonce, private_der, associated)


def unwrap_private_key(wrapped: bytes, encryption_key: bytes, *, associated: bytes) -> bytes:
    if wrapped[:1] != WRAP_VERSION:
        raise ValueError("unknown wrapped-key format")
    return AESGCM(encryption_key).decrypt(wrapped[1:13], wrapped[13:], associated)
