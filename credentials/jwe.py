"""Compact JWE (RFC 7516) with `alg: ECDH-ES` (direct key agreement, RFC 7518 §4.6) on P-256
and `enc: A128GCM` / `A256GCM` (RFC 7518 §5.3): what OpenID4VP `direct_post.jwt` responses use
(OpenID4VP 1.0 §8.3, HAIP 1.0).

The Verifier makes an `EcdhKey` per request, publishes its public JWK (`use: enc`,
`alg: ECDH-ES`, `kid`) and keeps the private part wrapped at rest; the Wallet `encrypt`s to the
JWK; the Verifier `decrypt`s. Decryption checks the protected header strictly before it does any
cryptography: only `ECDH-ES`, a known `enc`, no `zip`, no `crit` it does not understand, an
`epk` that is a public P-256 point on the curve, and no encrypted key (direct agreement has
none). Every refusal is a `JweError` naming what is wrong.
"""

from __future__ import annotations

import hashlib
import os
import struct
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from credentials import jose
from credentials.encoding import b64url_encode
from credentials.errors import CredentialError
from credentials.keys import unwrap_private_key, wrap_private_key

ALG = "ECDH-ES"
# enc → content-encryption key length in bytes (RFC 7518 §5.3: AES GCM with 128/256-bit keys).
ENC_KEY_BYTES = {"A128GCM": 16, "A256GCM": 32}
DEFAULT_ENC = "A128GCM"  # OpenID4VP 1.0 §8.3: the default when the Verifier names none
IV_BYTES = 12  # RFC 7518 §5.3: 96-bit IVs
TAG_BYTES = 16  # RFC 7518 §5.3: 128-bit authentication tags
# Header parameters this module understands; anything in `crit` beyond these is refused.
UNDERSTOOD = frozenset({"alg", "enc", "epk", "apu", "apv", "kid", "typ", "cty", "crit"})
MAX_TOKEN_CHARS = 1_000_000  # a response with several presentations fits easily


class JweError(CredentialError):
    code = "jwe_invalid"


# --- keys -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class EcdhKey:
    """A P-256 key-agreement key pair of the Verifier (private key held in this process)."""

    _private: ec.EllipticCurvePrivateKey
    kid: str

    @classmethod
    def generate(cls, kid: str) -> EcdhKey:
        return cls(ec.generate_private_key(ec.SECP256R1()), kid)

    @classmethod
    def from_jwk(cls, jwk: Mapping) -> EcdhKey:
        """From a private JWK ({"kty": "EC", "crv": "P-256", "x", "y", "d"}): test vectors."""
        public = _public_from_jwk(jwk, "key")
        try:
            d = int.from_bytes(jose.b64url_decode_strict(jwk["d"]), "big")
            private = ec.derive_private_key(d, ec.SECP256R1())
        except (KeyError, TypeError, ValueError) as exc:
            raise JweError(f"key: invalid private JWK ({exc})") from None
        if private.public_key().public_numbers() != public.public_numbers():
            raise JweError("key: d does not belong to x, y")
        return cls(private, str(jwk.get("kid", "")))

    def public_jwk(self) -> dict:
        """The public JWK to publish in `client_metadata.jwks` (OpenID4VP 1.0 §5.1)."""
        return {**_jwk_of(self._private.public_key()), "use": "enc", "alg": ALG,
                "kid": self.kid}

    def wrap(self, encryption_key: bytes) -> bytes:
        """The private key encrypted at rest (AES-256-GCM, bound to the `kid`)."""
        der = self._private.private_bytes(serialization.Encoding.DER,
                                          serialization.PrivateFormat.PKCS8,
                                          serialization.NoEncryption())
        return wrap_private_key(der, encryption_key, associated=_associated(self.kid))

    @classmethod
    def unwrap(cls, wrapped: bytes, encryption_key: bytes, kid: str) -> EcdhKey:
        try:
            der = unwrap_private_key(bytes(wrapped), encryption_key, associated=_associated(kid))
        except (InvalidTag, ValueError):
            raise JweError("key: the stored key cannot be unwrapped (another "
                           "KEY_ENCRYPTION_KEY?)", code="jwe_key_unavailable") from None
        private = serialization.load_der_private_key(der, password=None)
        if not isinstance(private, ec.EllipticCurvePrivateKey):
            raise JweError("key: the wrapped key is not an EC key")
        return cls(private, kid)

    def __repr__(self) -> str:  # never print key material
        return f"<EcdhKey P-256 kid={self.kid!r}>"


def _associated(kid: str) -> bytes:
    return b"jwe-ecdh-es:" + kid.encode("utf-8")


def _jwk_of(public: ec.EllipticCurvePublicKey) -> dict:
    numbers = public.public_numbers()
    return {"kty": "EC", "crv": "P-256", "x": b64url_encode(numbers.x.to_bytes(32, "big")),
            "y": b64url_encode(numbers.y.to_bytes(32, "big"))}


def _public_from_jwk(jwk: Any, label: str) -> ec.EllipticCurvePublicKey:
    """A P-256 public key from a JWK, refusing other key types and points off the curve."""
    if not isinstance(jwk, Mapping):
        raise JweError(f"{label}: not a JWK object")
    if jwk.get("kty") != "EC" or jwk.get("crv") != "P-256":
        raise JweError(f"{label}: only EC P-256 keys are accepted "
                       f"(got kty={jwk.get('kty')!r}, crv={jwk.get('crv')!r})")
    try:
        x = jose.b64url_decode_strict(jwk["x"])
        y = jose.b64url_decode_strict(jwk["y"])
    except (KeyError, TypeError, ValueError):
        raise JweError(f"{label}: x and y must be base64url coordinates") from None
    if len(x) != 32 or len(y) != 32:
        raise JweError(f"{label}: P-256 coordinates are 32 bytes each")
    try:  # from_encoded_point refuses points that are not on the curve
        return ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), b"\x04" + x + y)
    except ValueError:
        raise JweError(f"{label}: the point is not on the P-256 curve") from None


# --- Concat KDF (RFC 7518 §4.6.2, NIST SP 800-56A §5.8.1) -----------------------------------

def _length_prefixed(data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + data


def concat_kdf(shared_secret: bytes, algorithm_id: str, key_bytes: int, *,
               apu: bytes = b"", apv: bytes = b"") -> bytes:
    """The key derived from Z. For direct agreement AlgorithmID is the `enc` value; PartyUInfo
    and PartyVInfo are the decoded `apu`/`apv`; SuppPubInfo is the key length in bits."""
    other_info = (_length_prefixed(algorithm_id.encode("ascii")) + _length_prefixed(apu)
                  + _length_prefixed(apv) + struct.pack(">I", key_bytes * 8))
    output = b""
    counter = 1
    while len(output) < key_bytes:
        output += hashlib.sha256(struct.pack(">I", counter) + shared_secret
                                 + other_info).digest()
        counter += 1
    return output[:key_bytes]


def _agreed_key(private: ec.EllipticCurvePrivateKey, peer: ec.EllipticCurvePublicKey,
                enc: str, apu: bytes, apv: bytes) -> bytes:
    shared = private.exchange(ec.ECDH(), peer)
    return concat_kdf(shared, enc, ENC_KEY_BYTES[enc], apu=apu, apv=apv)


def agreed_key(key: EcdhKey, peer_jwk: Mapping, enc: str, *, apu: bytes = b"",
               apv: bytes = b"") -> bytes:
    """The content-encryption key `key` and the holder of `peer_jwk` agree on (RFC 7518
    §4.6): the same from either side."""
    if enc not in ENC_KEY_BYTES:
        raise JweError(f"enc: {enc!r} is not supported (A128GCM, A256GCM)")
    return _agreed_key(key._private, _public_from_jwk(peer_jwk, "key"), enc, apu, apv)


# --- encrypting (the Wallet's side; the tests play it) ----------------------------------------

def encrypt(plaintext: bytes, recipient_jwk: Mapping, *, enc: str = DEFAULT_ENC,
            apu: bytes | None = None, apv: bytes | None = None,
            header: Mapping | None = None, ephemeral: EcdhKey | None = None) -> str:
    """Compact JWE of `plaintext` to `recipient_jwk` with a fresh ephemeral key (`ephemeral`
    only for test vectors). The recipient's `kid` goes into the header (OpenID4VP 1.0 §8.3
    requires it when the JWK has one)."""
    if enc not in ENC_KEY_BYTES:
        raise JweError(f"enc: {enc!r} is not supported (A128GCM, A256GCM)")
    if recipient_jwk.get("alg", ALG) != ALG:
        raise JweError(f"key: the recipient's JWK is for {recipient_jwk.get('alg')!r}, "
                       f"not {ALG}")
    peer = _public_from_jwk(recipient_jwk, "key")
    ephemeral_key = (ephemeral._private if ephemeral is not None
                     else ec.generate_private_key(ec.SECP256R1()))
    protected: dict[str, Any] = {"alg": ALG, "enc": enc}
    if recipient_jwk.get("kid"):
        protected["kid"] = recipient_jwk["kid"]
    protected["epk"] = _jwk_of(ephemeral_key.public_key())
    if apu is not None:
        protected["apu"] = b64url_encode(apu)
    if apv is not None:
        protected["apv"] = b64url_encode(apv)
    protected.update(header or {})
    key = _agreed_key(ephemeral_key, peer, enc, apu or b"", apv or b"")
    encoded_header = jose.b64url(jose.encode_json(protected))
    iv = os.urandom(IV_BYTES)
    sealed = AESGCM(key).encrypt(iv, plaintext, encoded_header)  # AAD: the encoded header
    ciphertext, tag = sealed[:-TAG_BYTES], sealed[-TAG_BYTES:]
    return b".".join([encoded_header, b"", jose.b64url(iv), jose.b64url(ciphertext),
                      jose.b64url(tag)]).decode("ascii")


# --- decrypting (the Verifier's side) ---------------------------------------------------------

@dataclass(frozen=True)
class Decrypted:
    header: dict
    plaintext: bytes


def peek_header(token: Any) -> dict | None:
    """The protected header of something shaped like a compact JWE, or None (never raises):
    to find which key to decrypt with (its `kid`) before anything is trusted."""
    if not isinstance(token, str) or token.count(".") != 4 or len(token) > MAX_TOKEN_CHARS:
        return None
    try:
        header = jose.loads_json(jose.b64url_decode_strict(token[:token.index(".")]))
    except ValueError:
        return None
    return header if isinstance(header, dict) else None


def decrypt(token: str, key: EcdhKey, *,
            allowed_enc: Collection[str] = tuple(ENC_KEY_BYTES)) -> Decrypted:
    """Decrypt a compact JWE made for `key` (RFC 7516 §5.2), or raise JweError naming why not:
    the shape, a header parameter, a `kid` that is not the key's, or a failed tag (tampered,
    or encrypted to another key)."""
    if not isinstance(token, str):
        raise JweError("jwe: not a string")
    if len(token) > MAX_TOKEN_CHARS:
        raise JweError(f"jwe: longer than {MAX_TOKEN_CHARS} characters")
    parts = token.split(".")
    if len(parts) != 5:
        raise JweError(f"jwe: expected 5 parts (compact serialization), got {len(parts)}")
    encoded_header, encrypted_key, encoded_iv, encoded_ciphertext, encoded_tag = parts
    try:
        header = jose.loads_json(jose.b64url_decode_strict(encoded_header))
    except ValueError as exc:
        raise JweError(f"jwe: bad protected header ({exc})") from None
    if not isinstance(header, dict):
        raise JweError("jwe: the protected header is not a JSON object")
    epk = _checked_header(header, allowed_enc)
    if header.get("kid", key.kid) != key.kid:
        raise JweError(f"kid: {header['kid']!r} is not the key this response was asked for "
                       f"({key.kid!r})", code="jwe_wrong_key")
    if encrypted_key:
        raise JweError("jwe: ECDH-ES is direct key agreement: the encrypted key must be empty")
    try:
        iv = jose.b64url_decode_strict(encoded_iv)
        ciphertext = jose.b64url_decode_strict(encoded_ciphertext)
        tag = jose.b64url_decode_strict(encoded_tag)
        apu = jose.b64url_decode_strict(header["apu"]) if "apu" in header else b""
        apv = jose.b64url_decode_strict(header["apv"]) if "apv" in header else b""
    except ValueError as exc:
        raise JweError(f"jwe: bad base64url in a part or in apu/apv ({exc})") from None
    if len(iv) != IV_BYTES:
        raise JweError(f"jwe: the IV must be {IV_BYTES} bytes for AES-GCM, got {len(iv)}")
    if len(tag) != TAG_BYTES:
        raise JweError(f"jwe: the tag must be {TAG_BYTES} bytes, got {len(tag)}")
    content_key = _agreed_key(key._private, epk, header["enc"], apu, apv)
    try:
        plaintext = AESGCM(content_key).decrypt(iv, ciphertext + tag,
                                                encoded_header.encode("ascii"))
    except InvalidTag:
        raise JweError("jwe: decryption failed: the response was tampered with or encrypted "
                       "to another key", code="jwe_decryption_failed") from None
    return Decrypted(header, plaintext)


def _checked_header(header: dict, allowed_enc: Collection[str]) -> ec.EllipticCurvePublicKey:
    alg = header.get("alg")
    if alg != ALG:
        raise JweError(f"alg: {alg!r} is not accepted (only {ALG})")
    enc = header.get("enc")
    if enc not in ENC_KEY_BYTES or enc not in allowed_enc:
        raise JweError(f"enc: {enc!r} is not accepted (only {', '.join(sorted(allowed_enc))})")
    if "zip" in header:
        raise JweError("zip: compressed JWEs are refused")
    crit = header.get("crit")
    if crit is not None:
        if not isinstance(crit, list) or not crit or not all(isinstance(n, str) for n in crit):
            raise JweError("crit: must be a non-empty array of names")
        if unknown := [name for name in crit if name not in UNDERSTOOD or name not in header]:
            raise JweError(f"crit: {unknown[0]!r} is not understood")
    for name in ("apu", "apv", "kid"):
        if name in header and not isinstance(header[name], str):
            raise JweError(f"{name}: must be a string")
    if "epk" not in header:
        raise JweError("epk: missing (ECDH-ES needs the sender's ephemeral public key)")
    epk = header["epk"]
    if isinstance(epk, Mapping) and "d" in epk:
        raise JweError("epk: must be a public key (it carries a private part)")
    return _public_from_jwk(epk, "epk")
