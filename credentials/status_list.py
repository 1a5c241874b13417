"""Status list codecs: pure byte work, no database, no network, no signing.

- `Bitstring`: W3C Bitstring Status List v1.0 (https://www.w3.org/TR/vc-bitstring-status-list/),
  used by passports; it also reads the older StatusList2021 `encodedList` (VCDM 1.1).
- `TokenStatusList`: IETF Token Status List (draft-ietf-oauth-status-list; section numbers as in
  the 2026 drafts), used by SD-JWT VCs.

The two put index 0 at opposite ends of byte 0: the W3C list counts from the most significant
bit, the IETF list from the least significant bits. Mixing them up reads each credential's
status from another credential's bit in the same byte, so each class owns its own order and the
tests pin both to the specs' examples.

Decoding is strict (these strings come from other parties): wrong prefix, non-canonical
base64url, a truncated or trailing-garbage stream, and decompression bombs are refused with a
`StatusListError`.
"""

from __future__ import annotations

import gzip
import re
import zlib
from enum import IntEnum

from credentials.encoding import b64url_decode, b64url_encode
from credentials.errors import CredentialError

# Bitstring Status List v1.0, BitstringStatusListCredential: "The uncompressed bitstring MUST be
# at least 16KB in size" (131,072 entries), so that one list hides each holder among many (herd
# privacy). The Validate Algorithm raises STATUS_LIST_LENGTH_ERROR for a shorter list.
MIN_BITSTRING_LENGTH = 131_072

# Nothing legitimate comes near this (a 16 MiB list holds 134 million 1-bit entries), while a
# few kilobytes of hostile gzip can inflate to gigabytes.
MAX_DECOMPRESSED_BYTES = 16 * 1024 * 1024

# Level 6: ~0.4 ms per encode of a sparse 131,072-bit list against ~8 ms at level 9, for ~15%
# more bytes (measured, see shared/specs/README.md).
BITSTRING_GZIP_LEVEL = 6

# Token Status List §4.1 Compressed Byte Array: "RECOMMENDED to use the highest compression
# level available". Lists are encoded when a status changes, not per request; level 9 also
# reproduces the draft's examples byte for byte.
TOKEN_LIST_ZLIB_LEVEL = 9

_CANONICAL_INDEX = re.compile(r"0|[1-9][0-9]*")


class StatusListError(CredentialError, ValueError):
    """An encoded list, or an index into one, that we refuse."""

    code = "status_list_malformed"


class StatusListLengthError(StatusListError):
    """Bitstring Status List STATUS_LIST_LENGTH_ERROR: a list shorter than the minimum."""

    code = "status_list_length"


# --- shared helpers -------------------------------------------------------------------------

def parse_status_list_index(value: int | str) -> int:
    """A `statusListIndex` as an int. UNTP 0.7.0 writes an integer, the W3C spec a decimal
    string: accept both, refuse anything else (signs, leading zeros, bools, floats)."""
    if isinstance(value, bool):
        raise StatusListError("statusListIndex must be an integer, not a boolean")
    if isinstance(value, int):
        if value < 0:
            raise StatusListError("statusListIndex must not be negative")
        return value
    if isinstance(value, str) and _CANONICAL_INDEX.fullmatch(value):
        return int(value)
    raise StatusListError(f"statusListIndex must be a non-negative integer, got {value!r}")


def _b64url_decode(text: str) -> bytes:
    """base64url without padding (RFC 4648 §5, RFC 7515 §2), canonical spelling only: the
    standard library alone skips stray characters and ignores non-zero trailing bits."""
    try:
        return b64url_decode(text)
    except ValueError as exc:
        raise StatusListError(f"encoded list: {exc}") from None


def _inflate(data: bytes, *, wbits: int, what: str) -> bytes:
    """One complete gzip (wbits 31) or zlib (wbits 15) stream, at most MAX_DECOMPRESSED_BYTES.

    `max_length` stops inflation at the cap, so a bomb costs us the cap, not its full size."""
    inflater = zlib.decompressobj(wbits=wbits)
    try:
        out = inflater.decompress(data, MAX_DECOMPRESSED_BYTES + 1)
    except zlib.error as exc:
        raise StatusListError(f"not {what} data: {exc}") from None
    if len(out) > MAX_DECOMPRESSED_BYTES:
        raise StatusListError(f"status list inflates beyond {MAX_DECOMPRESSED_BYTES} bytes")
    if not inflater.eof:
        raise StatusListError(f"truncated {what} stream")
    if inflater.unused_data:
        raise StatusListError(f"data after the end of the {what} stream")
    return out


def _check_index(index: int, size: int) -> int:
    if isinstance(index, bool) or not isinstance(index, int):
        raise TypeError(f"status list index must be an int, not {type(index).__name__}")
    if not 0 <= index < size:
        raise IndexError(f"status list index {index} outside 0..{size - 1}")
    return index


# --- W3C Bitstring Status List v1.0 ---------------------------------------------------------

class Bitstring:
    """A Bitstring Status List with statusSize 1 (one bit per credential: set = revoked or
    suspended, depending on the list's `statusPurpose`).

    Bit order (BitstringStatusListCredential, encodedList): "the first index, with a value of
    zero (0), is located at the left-most bit in the bitstring", i.e. the most significant bit
    of byte 0; setting index 0 alone gives 0x80.
    """

    __slots__ = ("_bytes",)

    def __init__(self, length: int = MIN_BITSTRING_LENGTH, *, allow_short: bool = False):
        """`length` in bits, a positive multiple of 8. Lists shorter than the 131,072-bit
        minimum exist only with `allow_short=True` (tests, foreign legacy lists)."""
        if isinstance(length, bool) or not isinstance(length, int) or length <= 0 or length % 8:
            raise ValueError("bitstring length must be a positive multiple of 8 bits")
        _check_length(length, allow_short)
        self._bytes = bytearray(length // 8)

    @classmethod
    def from_bytes(cls, data: bytes, *, allow_short: bool = False) -> Bitstring:
        if not data:
            raise StatusListLengthError("empty status list")
        _check_length(len(data) * 8, allow_short)
        bitstring = cls.__new__(cls)
        bitstring._bytes = bytearray(data)
        return bitstring

    def __len__(self) -> int:
        return len(self._bytes) * 8

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Bitstring) and self._bytes == other._bytes

    __hash__ = None  # mutable

    def __repr__(self) -> str:
        return f"<Bitstring {len(self)} bits, {self.count()} set>"

    def get(self, index: int) -> bool:
        _check_index(index, len(self))
        return bool(self._bytes[index >> 3] & (0x80 >> (index & 7)))

    def set(self, index: int, value: bool = True) -> None:
        _check_index(index, len(self))
        if value:
            self._bytes[index >> 3] |= 0x80 >> (index & 7)
        else:
            self._bytes[index >> 3] &= ~(0x80 >> (index & 7)) & 0xFF

    def clear(self, index: int) -> None:
        self.set(index, False)

    def count(self) -> int:
        """How many entries are set."""
        return int.from_bytes(self._bytes, "big").bit_count()

    def to_bytes(self) -> bytes:
        return bytes(self._bytes)

    def encode(self, *, level: int = BITSTRING_GZIP_LEVEL) -> str:
        """`encodedList` (Bitstring Generation Algorithm): multibase base64url ('u', no
        padding) of the GZIP-compressed bits. mtime=0 keeps the output a pure function of the
        bits (stable ETags, caching)."""
        return "u" + b64url_encode(gzip.compress(self._bytes, compresslevel=level, mtime=0))

    @classmethod
    def decode(cls, encoded: str, *, allow_short: bool = False) -> Bitstring:
        """Bitstring Expansion Algorithm for a Bitstring Status List `encodedList`.

        Refuses a list shorter than 131,072 bits (STATUS_LIST_LENGTH_ERROR) unless
        `allow_short` is true: the minimum is what keeps a holder hidden in the crowd, so a
        verifier should not trust a list that does not honour it."""
        if not isinstance(encoded, str) or not encoded.startswith("u"):
            raise StatusListError("encodedList must be multibase base64url (prefix 'u')")
        return cls._from_gzip(_b64url_decode(encoded[1:]), allow_short)

    @classmethod
    def decode_status_list_2021(cls, encoded: str, *, allow_short: bool = False) -> Bitstring:
        """A StatusList2021 `encodedList` (W3C CCG StatusList2021, VCDM 1.1): base64url of the
        GZIP-compressed bits, without the multibase prefix.

        StatusList2021 defines the same bit order as Bitstring Status List (index 0 is the most
        significant bit of byte 0), and so do we. didkit 0.3.3 reads the bits within a byte in
        the reverse order; we follow the spec, not didkit."""
        if not isinstance(encoded, str):
            raise StatusListError("encodedList must be a string")
        return cls._from_gzip(_b64url_decode(encoded), allow_short)

    @classmethod
    def _from_gzip(cls, compressed: bytes, allow_short: bool) -> Bitstring:
        return cls.from_bytes(_inflate(compressed, wbits=31, what="gzip"),
                              allow_short=allow_short)


def _check_length(bits: int, allow_short: bool) -> None:
    if bits < MIN_BITSTRING_LENGTH and not allow_short:
        raise StatusListLengthError(
            f"status list has {bits} entries; Bitstring Status List requires at least "
            f"{MIN_BITSTRING_LENGTH}")


# --- IETF Token Status List -----------------------------------------------------------------

class TokenStatus(IntEnum):
    """Token Status List §7.1 Status Types Values (0x03 and 0x0C-0x0F are application
    specific). SUSPENDED needs `bits` >= 2."""

    VALID = 0x00
    INVALID = 0x01  # revoked: irreversible
    SUSPENDED = 0x02  # reversible


ALLOWED_BITS = (1, 2, 4, 8)


class TokenStatusList:
    """A Token Status List of `size` entries of `bits` bits each (§4.1 Compressed Byte Array).

    Bit order (§4.1 step 3): blocks of `bits` bits are "packed into bytes from the least
    significant bit ('0') to the most significant bit ('7')", so
    index 0 is the lowest `bits` bits of byte 0 (with bits=1, setting index 0 alone gives 0x01;
    with bits=2, index 1 is bits 2-3 of byte 0).
    """

    __slots__ = ("_bytes", "bits", "size")

    def __init__(self, bits: int = 2, size: int = MIN_BITSTRING_LENGTH):
        if bits not in ALLOWED_BITS or isinstance(bits, bool):
            raise ValueError(f"bits must be one of {ALLOWED_BITS}")
        if isinstance(size, bool) or not isinstance(size, int) or size <= 0:
            raise ValueError("size must be a positive number of entries")
        self.bits = bits
        self.size = size
        self._bytes = bytearray(-(-size * bits // 8))  # ceil: the last byte may be partly used

    @classmethod
    def from_bytes(cls, data: bytes, bits: int) -> TokenStatusList:
        """Every entry the bytes hold: the list does not carry its size, so trailing padding
        entries in the last byte read as VALID (0)."""
        if not data:
            raise StatusListError("empty status list")
        status_list = cls(bits, len(data) * 8 // bits)
        status_list._bytes[:] = data
        return status_list

    def __len__(self) -> int:
        return self.size

    def __eq__(self, other: object) -> bool:
        return (isinstance(other, TokenStatusList) and self.bits == other.bits
                and self._bytes == other._bytes)

    __hash__ = None  # mutable

    def __repr__(self) -> str:
        return f"<TokenStatusList bits={self.bits} size={self.size}>"

    def _position(self, index: int) -> tuple[int, int]:
        """(byte number, shift of the entry's lowest bit within that byte)."""
        _check_index(index, self.size)
        per_byte = 8 // self.bits
        return index // per_byte, (index % per_byte) * self.bits

    def get(self, index: int) -> int:
        byte, shift = self._position(index)
        return (self._bytes[byte] >> shift) & ((1 << self.bits) - 1)

    def set(self, index: int, status: int) -> None:
        if isinstance(status, bool) or not isinstance(status, int):
            raise TypeError("status must be an int")
        mask = (1 << self.bits) - 1
        if not 0 <= status <= mask:
            raise ValueError(f"status {status} does not fit in {self.bits} bit(s)")
        byte, shift = self._position(index)
        self._bytes[byte] = (self._bytes[byte] & ~(mask << shift) & 0xFF) | (status << shift)

    def to_bytes(self) -> bytes:
        return bytes(self._bytes)

    def encode(self, *, level: int = TOKEN_LIST_ZLIB_LEVEL) -> str:
        """`lst` (§4.2 Status List in JSON Format): base64url without padding of the DEFLATE
        stream in the ZLIB format (RFC 1950)."""
        return b64url_encode(zlib.compress(self._bytes, level))

    @classmethod
    def decode(cls, lst: str, bits: int) -> TokenStatusList:
        if bits not in ALLOWED_BITS or isinstance(bits, bool):
            raise StatusListError(f"bits must be one of {ALLOWED_BITS}")
        return cls.from_bytes(_inflate(_b64url_decode(lst), wbits=15, what="zlib"), bits)

    def to_claim(self) -> dict:
        """The `status_list` claim of a Status List Token (§4.2, §5.1 Status List Token in
        JWT Format): {"bits": ..., "lst": ...}. Signing the statuslist+jwt happens elsewhere."""
        return {"bits": self.bits, "lst": self.encode()}

    @classmethod
    def from_claim(cls, claim: dict) -> TokenStatusList:
        """Reads a `status_list` claim; members other than bits and lst (e.g. the optional
        `aggregation_uri`) are the caller's business."""
        if not isinstance(claim, dict) or "bits" not in claim or "lst" not in claim:
            raise StatusListError("status_list claim needs 'bits' and 'lst'")
        return cls.decode(claim["lst"], claim["bits"])


def status_list_reference(idx: int, uri: str) -> dict:
    """The `status` claim of a Referenced Token (§6 Referenced Token):
    {"status_list": {"idx": ..., "uri": ...}}."""
    if isinstance(idx, bool) or not isinstance(idx, int) or idx < 0:
        raise ValueError("idx must be a non-negative integer")
    if not isinstance(uri, str) or not uri:
        raise ValueError("uri must be a non-empty string")
    return {"status_list": {"idx": idx, "uri": uri}}
