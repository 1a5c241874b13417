"""Compact JWS (RFC 7515 §7.1), just what the credential suites need.

Signing takes a `Signer`, so no private key passes through here. Verification is split in two:
`decode` parses and checks the structure (strict base64url, one JSON object header, an accepted
`alg`, `crit` per §4.1.11) and `verify_signature` checks the signature with a resolved key. A
suite decodes first, reads `kid` from the header, resolves it, then verifies.

This is on the hot path of every `vc+jwt` passport: no re-serialisation, no needless copies.
"""

from __future__ import annotations

import binascii
import json
import time
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson
import pybase64

from core.json_limits import check_depth
from credentials.errors import CredentialError, MalformedCredential, ProofInvalid, SignatureMismatch
from credentials.keys import ACCEPTED_JOSE, JOSE_ALGORITHMS, PublicKey, Signer

# Header parameters registered by RFC 7515 §4.1 and RFC 7518 §4.1: §4.1.11 forbids them in crit.
REGISTERED_HEADERS = frozenset({
    "alg", "jku", "jwk", "kid", "x5u", "x5c", "x5t", "x5t#S256", "typ", "cty", "crit",
    "epk", "apu", "apv", "iv", "tag", "p2s", "p2c", "enc", "zip",
})

_TO_STANDARD_ALPHABET = bytes.maketrans(b"-_", b"+/")

# One encoder, built once: compact separators, UTF-8 text, and NaN refused (it is not JSON).
# check_circular is off because credentials are trees; it saves ~15% on a passport.
_ENCODER = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, check_circular=False,
                            allow_nan=False)


# --- encodings ------------------------------------------------------------------------------

def encode_json(value: Any) -> bytes:
    """Compact UTF-8 JSON, the byte form we sign. orjson writes the same bytes as the stdlib
    encoder configured above, ~10x faster (on a 16 KB passport the stdlib encoder cost more
    than the Ed25519 signature); the stdlib handles what orjson refuses (e.g. huge integers)."""
    try:
        return orjson.dumps(value)
    except TypeError:
        return _ENCODER.encode(value).encode("utf-8")


def b64url(data: bytes) -> bytes:
    """base64url without padding (RFC 7515 §2), as ASCII bytes ready to join. pybase64 (SIMD):
    the stdlib's encode and alphabet translation of a 16 KB payload took a third of the time
    of its Ed25519 signature."""
    return pybase64.urlsafe_b64encode(data).rstrip(b"=")


def b64url_decode_strict(text: str) -> bytes:
    """base64url without padding, refusing anything else (RFC 7515 §2, RFC 4648 §3.5).

    Beyond the alphabet and length, the unused low bits of the last character must be zero, so
    that exactly one string encodes given bytes (no malleable signatures or disclosures)."""
    if not isinstance(text, str):
        raise ValueError("not base64url")
    encoded = text.encode("ascii")
    # The standard alphabet's + and / (and padding) would pass once - and _ are translated.
    if b"+" in encoded or b"/" in encoded or b"=" in encoded:
        raise ValueError("not base64url")
    padded = encoded.translate(_TO_STANDARD_ALPHABET) + b"=" * (-len(encoded) % 4)
    data = binascii.a2b_base64(padded, strict_mode=True)  # C speed: this is the hot path
    tail = len(encoded) % 4
    if tail and b64url(data[-(tail - 1):])[-1:] != encoded[-1:]:
        raise ValueError("not canonical base64url (non-zero padding bits)")
    return data


def _reject_constant(name: str) -> None:
    raise ValueError(f"{name} is not JSON")


def _unique_members(pairs: list[tuple[str, Any]]) -> dict:
    obj = dict(pairs)
    if len(obj) != len(pairs):
        seen: set[str] = set()
        duplicate = next(k for k, _ in pairs if k in seen or seen.add(k))
        raise ValueError(f"duplicate member {duplicate!r}")
    return obj


_STRICT_DECODER = json.JSONDecoder(object_pairs_hook=_unique_members,
                                   parse_constant=_reject_constant)
_DECODER = json.JSONDecoder(parse_constant=_reject_constant)


def loads_json(data: bytes, *, unique: bool = True) -> Any:
    """Parse UTF-8 JSON. `unique` refuses duplicate member names (RFC 7515 §4 lets a parser
    either refuse them or keep the last; refusing costs ~50% on a large payload, so the
    `vc+jwt` payload path keeps the last, as Python does)."""
    text = data.decode("utf-8")  # strict: RFC 8259 §8.1 JSON on the wire is UTF-8
    check_depth(text)  # JSONTooDeep, a ValueError, before the recursive parser sees it
    return (_STRICT_DECODER if unique else _DECODER).decode(text)


def media_type(typ: Any) -> str | None:
    """`typ`/`cty` compared as media types: case-insensitive, `application/` optional
    (RFC 7515 §4.1.9)."""
    if not isinstance(typ, str):
        return None
    typ = typ.lower()
    return typ.removeprefix("application/")


# --- signing --------------------------------------------------------------------------------

def sign(payload: Mapping | bytes, signer: Signer, header: Mapping | None = None) -> str:
    """Compact JWS over `payload` (a JSON object, or bytes already serialised).

    `alg` comes from the signer's key type (EdDSA for Ed25519, ES256 for P-256) and is first
    in the header; `header` adds the rest in the order given."""
    if header and "alg" in header:
        raise ValueError("alg is set from the signer's key type")
    return sign_with_header(encoded_header(signer.key_type, header), payload, signer)


# Encoded headers of string values, per algorithm and items in order: one key signing a batch
# has one header. Bounded; emptied when full (a few dozen keys sign in a process).
_ENCODED_HEADERS: dict[tuple, bytes] = {}
_ENCODED_HEADERS_KEPT = 512


def encoded_header(key_type: str, header: Mapping | None = None) -> bytes:
    """base64url of the protected header {"alg", **header} and the "." after it: the first
    bytes of the signing input. Kept when every name and value is a plain string; anything
    else (a list, a number, True, which is equal to 1 as a key) is encoded every time."""
    alg = JOSE_ALGORITHMS[key_type]
    items = tuple(header.items()) if header else ()
    kept = all(type(name) is str and type(value) is str for name, value in items)
    if kept and (found := _ENCODED_HEADERS.get((alg, items))) is not None:
        return found
    encoded = b64url(encode_json({"alg": alg, **(header or {})})) + b"."
    if kept:
        if len(_ENCODED_HEADERS) >= _ENCODED_HEADERS_KEPT:
            _ENCODED_HEADERS.clear()
        _ENCODED_HEADERS[(alg, items)] = encoded
    return encoded


def sign_with_header(header: bytes, payload: Mapping | bytes, signer: Signer) -> str:
    """Compact JWS over `payload` with a header from `encoded_header` for the signer's key
    type. The payload (~20 KB for a passport) is copied once into the signing input and once
    into the token: base64url's padding is cut by a view, not by a copy."""
    body = payload if isinstance(payload, bytes) else encode_json(payload)
    encoded = pybase64.urlsafe_b64encode(body)
    unpadded = (len(body) * 4 + 2) // 3  # RFC 7515 §2: no "=" padding
    signing_input = header + (encoded if unpadded == len(encoded)
                              else memoryview(encoded)[:unpadded])
    signature = b64url(signer.sign(signing_input))
    return b"".join((signing_input, b".", signature)).decode("ascii")


# --- verifying ------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class DecodedJWS:
    """A parsed compact JWS whose signature has not been checked yet."""

    header: dict
    payload: bytes
    signature: bytes
    signing_input: bytes

    @property
    def alg(self) -> str:
        return self.header["alg"]

    def claims(self, *, unique: bool = True) -> dict:
        """The payload as a JSON object (a JWT claims set, RFC 7519 §7.2 step 10)."""
        try:
            claims = loads_json(self.payload, unique=unique)
        except ValueError as exc:  # UnicodeDecodeError and JSONDecodeError included
            raise MalformedCredential(f"payload: not JSON ({exc})") from None
        if not isinstance(claims, dict):
            raise MalformedCredential("payload: not a JSON object")
        return claims


def peek_header(token: Any) -> dict | None:
    """The header of something that looks like a compact JWS, or None. Never raises: for
    format detection only, nothing is checked."""
    if not isinstance(token, str) or token.count(".") != 2:
        return None
    try:
        header = loads_json(b64url_decode_strict(token[:token.index(".")]))
    except ValueError:
        return None
    return header if isinstance(header, dict) else None


def decode(token: str, *, understood_crit: Collection[str] = ()) -> DecodedJWS:
    """Parse a compact JWS (RFC 7515 §5.2 steps 1-6) without checking the signature.

    Raises MalformedCredential naming what is wrong: not three parts, bad base64url, a header
    that is not one JSON object with unique names, `alg` not one we accept ("none" never is),
    or a `crit` we do not understand."""
    if not isinstance(token, str):
        raise MalformedCredential("jws: not a string")
    parts = token.split(".")
    if len(parts) != 3:
        raise MalformedCredential(f"jws: expected 3 parts, got {len(parts)}")
    encoded_header, encoded_payload, encoded_signature = parts
    try:
        header = loads_json(b64url_decode_strict(encoded_header))
    except ValueError as exc:
        raise MalformedCredential(f"jws: bad header ({exc})") from None
    if not isinstance(header, dict):
        raise MalformedCredential("jws: header is not a JSON object")
    alg = header.get("alg")
    if alg not in ACCEPTED_JOSE:
        raise MalformedCredential(f"jws: alg {alg!r} not accepted (only EdDSA, Ed25519, ES256)")
    _check_crit(header, understood_crit)
    try:
        payload = b64url_decode_strict(encoded_payload)
        signature = b64url_decode_strict(encoded_signature)
    except ValueError as exc:
        raise MalformedCredential(f"jws: bad payload or signature encoding ({exc})") from None
    if not payload:
        raise MalformedCredential("jws: empty (detached) payload is not supported")
    signing_input = token[:len(encoded_header) + 1 + len(encoded_payload)].encode("ascii")
    return DecodedJWS(header, payload, signature, signing_input)


def _check_crit(header: dict, understood: Collection[str]) -> None:
    """RFC 7515 §4.1.11: a non-empty list of names, none registered, each present in the
    header, and each one we understand; otherwise the JWS is invalid."""
    if "crit" not in header:
        return
    crit = header["crit"]
    if not isinstance(crit, list) or not crit or not all(isinstance(n, str) for n in crit):
        raise MalformedCredential("jws: crit must be a non-empty array of names")
    if len(set(crit)) != len(crit):
        raise MalformedCredential("jws: crit lists a name twice")
    for name in crit:
        if name in REGISTERED_HEADERS:
            raise MalformedCredential(f"jws: crit must not list registered header {name!r}")
        if name not in header:
            raise MalformedCredential(f"jws: crit names {name!r}, absent from the header")
        if name not in understood:
            raise MalformedCredential(f"jws: crit extension {name!r} not understood")


def verify_signature(jws: DecodedJWS, key: PublicKey) -> None:
    """Raise ProofInvalid unless `key` signed `jws`. The header's alg must fit the key type,
    so a key can never be used with an algorithm it was not made for."""
    if ACCEPTED_JOSE[jws.alg] != key.key_type:
        raise ProofInvalid(f"signature: alg {jws.alg} does not fit a {key.key_type} key")
    if not key.verify(jws.signature, jws.signing_input):
        raise SignatureMismatch("signature: invalid")



# --- JWT time claims ------------------------------------------------------------------------

def seconds(moment: datetime | None = None) -> float:
    """Seconds since the epoch (RFC 7519 §2 NumericDate) of `moment`, default now; a naive
    datetime is taken as UTC."""
    if moment is None:
        return time.time()
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


def numeric_claim(claims: Mapping, name: str) -> float | None:
    value = claims.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise MalformedCredential(f"payload: {name} is not a NumericDate")
    return value


def check_validity_period(claims: Mapping, now: float, leeway: float) -> None:
    """`exp` and `nbf` (RFC 7519 §4.1.4-5), with `leeway` seconds for clock skew."""
    expires = numeric_claim(claims, "exp")
    not_before = numeric_claim(claims, "nbf")
    if expires is not None and now >= expires + leeway:
        raise CredentialError("validity_period: expired", code="expired")
    if not_before is not None and now + leeway < not_before:
        raise CredentialError("validity_period: not valid yet (nbf)", code="not_yet_valid")
