"""Status list codecs: spec vectors, bit order, round trips, and strict decoding.

The two specs number bits in opposite directions within a byte, so every property here is checked
against an independent model: a W3C bitstring is one big-endian integer whose bit `length-1-i` is
entry i; an IETF list is one little-endian integer whose bits `i*bits ..` hold entry i.
"""

import base64
import gzip
import zlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from credentials.status_list import (
    MAX_DECOMPRESSED_BYTES,
    MIN_BITSTRING_LENGTH,
    Bitstring,
    StatusListError,
    StatusListLengthError,
    TokenStatus,
    TokenStatusList,
    parse_status_list_index,
    status_list_reference,
)


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def gzip_u(data: bytes) -> str:
    """An encodedList built without our encoder, to test decode on its own."""
    return "u" + b64url(gzip.compress(data))


# --- W3C Bitstring Status List: bit order and vectors ----------------------------------------

def test_index_0_is_the_most_significant_bit_of_byte_0():
    bits = Bitstring()
    bits.set(0)
    assert bits.to_bytes()[:2] == b"\x80\x00"
    bits.clear(0)
    bits.set(7)
    bits.set(8)
    assert bits.to_bytes()[:2] == b"\x01\x80"


def test_a_fresh_list_has_the_minimum_length_and_nothing_set():
    bits = Bitstring()
    assert len(bits) == MIN_BITSTRING_LENGTH == 131_072
    assert bits.count() == 0
    assert not bits.get(MIN_BITSTRING_LENGTH - 1)


def test_empty_minimum_list_matches_a_hand_made_encoding():
    """16 KiB of zero bytes, gzipped by the standard library and multibase-prefixed by hand."""
    assert Bitstring.decode(gzip_u(bytes(16384))) == Bitstring()
    assert Bitstring.decode(Bitstring().encode()).count() == 0


def test_encode_is_multibase_base64url_of_gzip_and_deterministic():
    bits = Bitstring()
    bits.set(94567)
    encoded = bits.encode()
    assert encoded.startswith("uH4sI")  # 'u' + base64url of the gzip magic 1f 8b 08
    assert "=" not in encoded and "+" not in encoded and "/" not in encoded
    raw = base64.urlsafe_b64decode(encoded[1:] + "=" * (-len(encoded[1:]) % 4))
    assert raw[4:8] == b"\0\0\0\0"  # mtime 0: same bits, same string (caching, ETags)
    assert gzip.decompress(raw) == bits.to_bytes()
    assert bits.encode() == encoded


def test_status_list_2021_uses_the_same_bit_order_without_multibase_prefix():
    """StatusList2021 `encodedList`: base64url(gzip(bits)), no 'u'. Index 0 is the most
    significant bit, as in the spec (didkit 0.3.3 reads it reversed; we follow the spec)."""
    data = bytearray(16384)
    data[0] = 0b1000_0001  # indexes 0 and 7
    data[1] = 0b0100_0000  # index 9
    bits = Bitstring.decode_status_list_2021(b64url(gzip.compress(bytes(data))))
    assert [i for i in range(16) if bits.get(i)] == [0, 7, 9]


# --- W3C Bitstring: properties ---------------------------------------------------------------

def model_is_set(data: bytes, index: int) -> bool:
    """Index i is bit (length-1-i) of the big-endian integer: left-most bit first."""
    return bool((int.from_bytes(data, "big") >> (len(data) * 8 - 1 - index)) & 1)


@st.composite
def short_bitstrings(draw):
    length = draw(st.integers(1, 512)) * 8
    indexes = draw(st.sets(st.integers(0, length - 1), max_size=64))
    return length, indexes


@given(short_bitstrings())
def test_set_get_and_round_trip_agree_with_the_model(case):
    length, indexes = case
    bits = Bitstring(length, allow_short=True)
    for index in indexes:
        bits.set(index)
    data = bits.to_bytes()
    assert all(model_is_set(data, i) == (i in indexes) for i in range(length))
    assert bits.count() == len(indexes)
    decoded = Bitstring.decode(bits.encode(), allow_short=True)
    assert decoded == bits
    assert {i for i in range(length) if decoded.get(i)} == indexes


@settings(max_examples=20)
@given(st.sets(st.integers(0, MIN_BITSTRING_LENGTH - 1), max_size=200))
def test_full_size_round_trip(indexes):
    bits = Bitstring()
    for index in indexes:
        bits.set(index)
    decoded = Bitstring.decode(bits.encode())
    assert len(decoded) == MIN_BITSTRING_LENGTH
    assert all(decoded.get(i) for i in indexes)
    assert decoded.count() == len(indexes)


@given(short_bitstrings(), st.data())
def test_clear_undoes_set(case, data):
    length, indexes = case
    bits = Bitstring(length, allow_short=True)
    for index in indexes:
        bits.set(index)
    cleared = data.draw(st.sets(st.sampled_from(sorted(indexes)))) if indexes else set()
    for index in cleared:
        bits.clear(index)
    assert {i for i in range(length) if bits.get(i)} == indexes - cleared


# --- W3C Bitstring: strict decoding ----------------------------------------------------------

def test_short_lists_are_refused_unless_allowed():
    encoded = gzip_u(bytes(16))  # 128 bits
    with pytest.raises(StatusListLengthError):
        Bitstring.decode(encoded)
    assert len(Bitstring.decode(encoded, allow_short=True)) == 128
    with pytest.raises(StatusListLengthError):
        Bitstring(1024)
    assert len(Bitstring(1024, allow_short=True)) == 1024


@pytest.mark.parametrize("length", [0, -8, 12, 131_071, 2.5, True, "131072"])
def test_constructor_refuses_lengths_that_are_not_positive_multiples_of_8(length):
    with pytest.raises((ValueError, TypeError)):
        Bitstring(length, allow_short=True)


GOOD = Bitstring().encode()


def one_bit_set(index: int) -> Bitstring:
    bits = Bitstring()
    bits.set(index)
    return bits


@pytest.mark.parametrize(("encoded", "why"), [
    ("", "empty"),
    (GOOD[1:], "no multibase prefix"),
    ("z" + GOOD[1:], "base58btc prefix"),
    ("U" + GOOD[1:], "padded base64url prefix"),
    (GOOD + "=", "padding"),
    (GOOD[:10] + " " + GOOD[10:], "whitespace"),
    (GOOD[:10] + "+" + GOOD[11:], "standard base64 alphabet"),
    (GOOD[:10] + "!" + GOOD[11:], "character outside any alphabet"),
    ("u" + b64url(zlib.compress(bytes(16384))), "zlib, not gzip"),
    ("u" + b64url(bytes(40)), "not compressed at all"),
    ("u" + b64url(gzip.compress(bytes(16384))[:-6]), "truncated gzip"),
    ("u" + b64url(gzip.compress(bytes(16384)) + b"extra"), "data after the gzip stream"),
    ("u" + b64url(gzip.compress(bytes(16384)) * 2), "two gzip members"),
    ("u" + b64url(gzip.compress(b"")), "empty bitstring"),
    (None, "not a string"),
])
def test_decode_refuses(encoded, why):
    with pytest.raises(StatusListError):
        Bitstring.decode(encoded)


def test_decode_refuses_non_canonical_base64url():
    """The last character of a 2-byte tail carries 4 unused bits; setting them makes another
    spelling of the same bytes, which the standard library accepts silently."""
    payload = next(p for i in range(64) if len(p := one_bit_set(i).encode()[1:]) % 4 in (2, 3))
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    last = alphabet.index(payload[-1])
    sloppy = payload[:-1] + alphabet[last | 1]
    assert sloppy != payload
    assert base64.urlsafe_b64decode(sloppy + "=" * (-len(sloppy) % 4)) == \
        base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
    with pytest.raises(StatusListError, match="canonical"):
        Bitstring.decode("u" + sloppy)


def test_decompression_bomb_is_refused_at_the_cap():
    bomb = gzip.compress(bytes(MAX_DECOMPRESSED_BYTES + 8), compresslevel=9)
    assert len(bomb) < 40_000  # a few KB of input...
    with pytest.raises(StatusListError, match="inflates beyond"):
        Bitstring.decode("u" + b64url(bomb))  # ...never inflated past the cap


def test_largest_allowed_list_decodes():
    assert len(Bitstring.decode(gzip_u(bytes(MAX_DECOMPRESSED_BYTES)))) == \
        MAX_DECOMPRESSED_BYTES * 8


@given(st.text(max_size=200))
def test_decode_of_arbitrary_text_raises_only_status_list_errors(text):
    for candidate in (text, "u" + text):
        try:
            Bitstring.decode(candidate, allow_short=True)
        except StatusListError:
            pass


@given(st.binary(max_size=300))
def test_decode_of_arbitrary_compressed_bytes_raises_only_status_list_errors(blob):
    try:
        Bitstring.decode("u" + b64url(blob), allow_short=True)
    except StatusListError:
        pass


def test_index_errors():
    bits = Bitstring()
    with pytest.raises(IndexError):
        bits.get(MIN_BITSTRING_LENGTH)
    with pytest.raises(IndexError):
        bits.set(-1)
    with pytest.raises(TypeError):
        bits.get("5")
    with pytest.raises(TypeError):
        bits.get(True)


@pytest.mark.parametrize(("value", "expected"), [(0, 0), (94567, 94567), ("94567", 94567),
                                                 ("0", 0)])
def test_status_list_index_accepts_integer_and_decimal_string(value, expected):
    assert parse_status_list_index(value) == expected


@pytest.mark.parametrize("value", [-1, "-1", "+1", "007", "", " 1", "1.0", 1.0, True, None,
                                   "0x10", "١"])
def test_status_list_index_refuses_everything_else(value):
    with pytest.raises(StatusListError):
        parse_status_list_index(value)


# --- IETF Token Status List: the draft's examples --------------------------------------------

# §4.1 / §4.2: 16 one-bit statuses -> bytes b9 a3 -> "eNrbuRgAAhcBXQ"
EXAMPLE_1BIT = [1, 0, 0, 1, 1, 1, 0, 1, 1, 1, 0, 0, 0, 1, 0, 1]
# §4.1 / §4.2: 12 two-bit statuses -> bytes c9 44 f9 -> "eNo76fITAAPfAgc"
EXAMPLE_2BIT = [1, 2, 0, 3, 0, 1, 0, 1, 1, 2, 3, 3]


def test_draft_1_bit_example():
    """Worked by hand from the draft's figure: byte 0 holds indexes 7..0 from its most to its
    least significant bit, 1 0 1 1 1 0 0 1 = 0xB9; byte 1 holds 15..8, 1 0 1 0 0 0 1 1 = 0xA3.
    The draft compresses at the highest level (zlib header 78 DA), as our default does."""
    status_list = TokenStatusList(bits=1, size=16)
    for index, status in enumerate(EXAMPLE_1BIT):
        status_list.set(index, status)
    assert status_list.to_bytes() == bytes([0xB9, 0xA3])
    assert status_list.to_claim() == {"bits": 1, "lst": "eNrbuRgAAhcBXQ"}
    assert zlib.compress(bytes([0xB9, 0xA3]), 9).hex() == "78dadbb918000217015d"  # §4.1
    decoded = TokenStatusList.decode("eNrbuRgAAhcBXQ", 1)
    assert [decoded.get(i) for i in range(16)] == EXAMPLE_1BIT


def test_draft_2_bit_example():
    """Byte 0 holds indexes 3,2,1,0 as 11 00 10 01 = 0xC9; byte 1 indexes 7..4 as 01 00 01 00 =
    0x44; byte 2 indexes 11..8 as 11 11 10 01 = 0xF9."""
    status_list = TokenStatusList(bits=2, size=12)
    for index, status in enumerate(EXAMPLE_2BIT):
        status_list.set(index, status)
    assert status_list.to_bytes() == bytes([0xC9, 0x44, 0xF9])
    assert status_list.to_claim() == {"bits": 2, "lst": "eNo76fITAAPfAgc"}
    decoded = TokenStatusList.from_claim({"bits": 2, "lst": "eNo76fITAAPfAgc"})
    assert [decoded.get(i) for i in range(12)] == EXAMPLE_2BIT


# Appendix C: lists of 2^20 entries; every index not listed is 0 (VALID).
APPENDIX_C_INDEXES = [0, 1993, 25460, 159495, 495669, 554353, 645645, 723232, 854545, 934534,
                      1000345]
APPENDIX_C = {
    1: ({i: 1 for i in APPENDIX_C_INDEXES},
        "eNrt3AENwCAMAEGogklACtKQPg9LugC9k_ACvreiogE"
        "AAKkeCQAAAAAAAAAAAAAAAAAAAIBylgQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
        "AAAAAAAAAAAAAAAAAAAXG9IAAAAAAAAAPwsJAAAAAAAAAAAAAAAvhsSAAAAAAAAAAA"
        "A7KpLAAAAAAAAAAAAAAAAAAAAAJsLCQAAAAAAAAAAADjelAAAAAAAAAAAKjDMAQAAA"
        "ACAZC8L2AEb"),
    2: (dict(zip(APPENDIX_C_INDEXES, [1, 2, 1, 3, 1, 1, 2, 1, 1, 2, 3], strict=True)),
        "eNrt2zENACEQAEEuoaBABP5VIO01fCjIHTMStt9ovGV"
        "IAAAAAABAbiEBAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAEB5WwIAAAAAA"
        "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
        "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAID0ugQAAAAAAAAAAAAAAAAAQG12SgAAA"
        "AAAAAAAAAAAAAAAAAAAAAAAAOCSIQEAAAAAAAAAAAAAAAAAAAAAAAD8ExIAAAAAAAA"
        "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAwJEuAQAAAAAAAAAAAAAAAAAAAAAAAMB9S"
        "wIAAAAAAAAAAAAAAAAAAACoYUoAAAAAAAAAAAAAAEBqH81gAQw"),
    4: ({0: 1, 1993: 2, 35460: 3, 459495: 4, 595669: 5, 754353: 6, 845645: 7, 923232: 8,
         924445: 9, 934534: 10, 1004534: 11, 1000345: 12, 1030203: 13, 1030204: 14,
         1030205: 15},
        "eNrt0EENgDAQADAIHwImkIIEJEwCUpCEBBQRHOy35Li"
        "1EjoOQGabAgAAAAAAAAAAAAAAAAAAACC1SQEAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
        "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
        "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
        "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
        "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAABADrsCAAAAAAAAAAAAAAAAA"
        "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
        "AAADoxaEAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
        "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAIIoCgAAAAAAAAAAAAAAAAA"
        "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAACArpwKAAAAAAAAAAAAAAAAAAAAA"
        "AAAAAAAAAAAAAAAAAAAAAAAAAAAAGhqVkAzlwIAAAAAiGVRAAAAAAAAAAAAAAAAAAA"
        "AAAAAAAAAAAAAAAAAAAAAAABx3AoAgLpVAQAAAAAAAAAAAAAAwM89rwMAAAAAAAAAA"
        "AjsA9xMBMA"),
}


@pytest.mark.parametrize("bits", sorted(APPENDIX_C))
def test_draft_appendix_c_vectors(bits):
    statuses, lst = APPENDIX_C[bits]
    decoded = TokenStatusList.decode(lst, bits)
    assert decoded.size == 2**20
    assert {i: decoded.get(i) for i in statuses} == statuses
    built = TokenStatusList(bits, 2**20)
    for index, status in statuses.items():
        built.set(index, status)
    assert decoded == built  # byte for byte: every other entry is 0 (VALID)
    assert built.encode() == lst


def test_index_0_is_the_least_significant_bit_of_byte_0():
    one_bit = TokenStatusList(bits=1, size=16)
    one_bit.set(0, 1)
    assert one_bit.to_bytes() == b"\x01\x00"
    two_bit = TokenStatusList(bits=2, size=8)
    two_bit.set(1, TokenStatus.SUSPENDED)
    assert two_bit.to_bytes() == b"\x08\x00"  # index 1 = bits 2-3 of byte 0: 0b10 << 2


def test_status_types():
    assert (TokenStatus.VALID, TokenStatus.INVALID, TokenStatus.SUSPENDED) == (0, 1, 2)


# --- IETF Token Status List: properties ------------------------------------------------------

def model_status(data: bytes, index: int, bits: int) -> int:
    """Entry i is bits i*bits .. of the little-endian integer: least significant bits first."""
    return (int.from_bytes(data, "little") >> (index * bits)) & ((1 << bits) - 1)


@st.composite
def token_lists(draw):
    bits = draw(st.sampled_from([1, 2, 4, 8]))
    size = draw(st.integers(1, 2000))
    statuses = draw(st.dictionaries(st.integers(0, size - 1),
                                    st.integers(0, (1 << bits) - 1), max_size=64))
    return bits, size, statuses


@given(token_lists())
def test_token_list_agrees_with_the_model_and_round_trips(case):
    bits, size, statuses = case
    status_list = TokenStatusList(bits, size)
    for index, status in statuses.items():
        status_list.set(index, status)
    data = status_list.to_bytes()
    assert len(data) == -(-size * bits // 8)
    assert all(model_status(data, i, bits) == statuses.get(i, 0) for i in range(size))
    claim = status_list.to_claim()
    assert claim["bits"] == bits
    decoded = TokenStatusList.from_claim(claim)
    assert decoded.size >= size  # the claim does not carry the size: the last byte's padding
    assert all(decoded.get(i) == statuses.get(i, 0) for i in range(decoded.size))
    assert TokenStatusList.decode(status_list.encode(level=6), bits) == decoded


@given(token_lists(), st.data())
def test_overwriting_a_status_leaves_the_neighbours_alone(case, data):
    bits, size, statuses = case
    status_list = TokenStatusList(bits, size)
    for index, status in statuses.items():
        status_list.set(index, status)
    index = data.draw(st.integers(0, size - 1))
    new = data.draw(st.integers(0, (1 << bits) - 1))
    status_list.set(index, new)
    expected = {**statuses, index: new}
    assert all(status_list.get(i) == expected.get(i, 0) for i in range(size))


@given(st.text(max_size=200), st.sampled_from([1, 2, 4, 8]))
def test_token_decode_of_arbitrary_text_raises_only_status_list_errors(text, bits):
    try:
        TokenStatusList.decode(text, bits)
    except StatusListError:
        pass


# --- IETF Token Status List: refusals and claim shapes ---------------------------------------

@pytest.mark.parametrize(("lst", "bits"), [
    ("eNrbuRgAAhcBXQ", 3),
    ("eNrbuRgAAhcBXQ", True),
    ("eNrbuRgAAhcBXQ==", 1),
    ("eNrbuRgAAhcBXQ".replace("Q", "R"), 1),  # non-canonical trailing bits
    (b64url(gzip.compress(b"\xb9\xa3")), 1),  # gzip, not zlib
    (b64url(zlib.compress(b"\xb9\xa3"))[:-3], 1),  # truncated
    (b64url(zlib.compress(b"\xb9\xa3") + b"\0"), 1),  # trailing data
    (b64url(zlib.compress(b"")), 1),  # empty
    (b64url(zlib.compress(bytes(MAX_DECOMPRESSED_BYTES + 1), 9)), 1),  # bomb
    (42, 1),
])
def test_token_decode_refuses(lst, bits):
    with pytest.raises(StatusListError):
        TokenStatusList.decode(lst, bits)


@pytest.mark.parametrize("claim", [{}, {"bits": 1}, {"lst": "eNrbuRgAAhcBXQ"}, [], "x"])
def test_from_claim_needs_bits_and_lst(claim):
    with pytest.raises(StatusListError):
        TokenStatusList.from_claim(claim)


def test_from_claim_ignores_other_members():
    claim = {"bits": 1, "lst": "eNrbuRgAAhcBXQ", "aggregation_uri": "https://example.com/agg"}
    assert TokenStatusList.from_claim(claim).get(0) == 1


def test_token_list_refuses_bad_sizes_bits_and_statuses():
    for bits in (0, 3, 16, True):
        with pytest.raises(ValueError):
            TokenStatusList(bits, 8)
    for size in (0, -1, 1.5):
        with pytest.raises(ValueError):
            TokenStatusList(1, size)
    status_list = TokenStatusList(2, 8)
    with pytest.raises(ValueError):
        status_list.set(0, 4)
    with pytest.raises(ValueError):
        status_list.set(0, -1)
    with pytest.raises(TypeError):
        status_list.set(0, True)
    with pytest.raises(IndexError):
        status_list.get(8)


def test_status_list_reference_claim():
    assert status_list_reference(7, "https://example.com/statuslists/1") == {
        "status_list": {"idx": 7, "uri": "https://example.com/statuslists/1"}}
    for idx, uri in [(-1, "https://x"), (True, "https://x"), (1, ""), ("1", "https://x")]:
        with pytest.raises(ValueError):
            status_list_reference(idx, uri)
