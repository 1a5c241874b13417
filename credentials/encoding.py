"""Byte encodings used by the standards: base64url (JOSE), base58btc multibase and multicodec
keys (Multikey, did:key)."""

import base64
import re

import pybase64

_B64URL = re.compile(r"[A-Za-z0-9_-]*")
_B58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_B58_INDEX = {c: i for i, c in enumerate(_B58)}

# Multicodec prefixes (varint-encoded) of the key types we speak.
ED25519_PUB = b"\xed\x01"
ED25519_PRIV = b"\x80\x26"
P256_PUB = b"\x80\x24"


def b64url_encode(data: bytes) -> str:
    return pybase64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")  # SIMD: ~15x stdlib


def b64url_decode(text: str) -> bytes:
    """Strict base64url without padding, as JOSE requires: only the URL-safe alphabet, and only
    the canonical encoding of its bytes (no stray low bits in the last character)."""
    if not isinstance(text, str) or len(text) % 4 == 1 or not _B64URL.fullmatch(text):
        raise ValueError("not base64url")
    data = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    if b64url_encode(data) != text:
        raise ValueError("not canonical base64url")
    return data


def b58encode(data: bytes) -> str:
    number = int.from_bytes(data, "big")
    out = ""
    while number:
        number, rem = divmod(number, 58)
        out = _B58[rem] + out
    pad = len(data) - len(data.lstrip(b"\0"))
    return "1" * pad + out


def b58decode(text: str) -> bytes:
    number = 0
    for char in text:
        if char not in _B58_INDEX:
            raise ValueError(f"not base58btc: {char!r}")
        number = number * 58 + _B58_INDEX[char]
    body = number.to_bytes((number.bit_length() + 7) // 8, "big") if number else b""
    pad = len(text) - len(text.lstrip("1"))
    return b"\0" * pad + body


def multibase_encode(data: bytes) -> str:
    """Multibase base58btc ('z' prefix)."""
    return "z" + b58encode(data)


def multibase_decode(text: str) -> bytes:
    if not text.startswith("z"):
        raise ValueError("only base58btc multibase ('z...') is supported")
    return b58decode(text[1:])


def ed25519_multikey(public_key: bytes) -> str:
    """publicKeyMultibase of an Ed25519 Multikey (also the did:key method-specific id)."""
    return multibase_encode(ED25519_PUB + public_key)


def decode_multikey(value: str) -> tuple[str, bytes]:
    """('Ed25519' | 'P-256', raw public key bytes) from a publicKeyMultibase."""
    raw = multibase_decode(value)
    if raw.startswith(ED25519_PUB) and len(raw) == 34:
        return "Ed25519", raw[2:]
    if raw.startswith(P256_PUB) and len(raw) == 35:
        return "P-256", raw[2:]
    raise ValueError("unsupported multikey (Ed25519 and P-256 only)")
