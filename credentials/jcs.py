"""JSON Canonicalization Scheme (RFC 8785), for the eddsa-jcs-2022 cryptosuite.

RFC 8785 serialises like ECMAScript's JSON.stringify: no whitespace, object members sorted by
their names as UTF-16 code units (§3.2.3), strings escaped minimally (§3.2.2.2) and numbers in
the ECMAScript Number-to-String form (§3.2.2.3). Input must be I-JSON (RFC 7493): no NaN or
infinities, no lone surrogates, integers only within IEEE 754 double precision.
"""

from __future__ import annotations

import math
import re
from decimal import Decimal
from typing import Any

import orjson

# §3.2.2.2: the two-character escapes; other control characters become \u00xx (lowercase hex).
_SHORT_ESCAPES = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r",
                  "\t": "\\t"}
_NEEDS_ESCAPE = re.compile(r'["\\\x00-\x1f]')
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def canonicalize(value: Any) -> bytes:
    """The RFC 8785 canonical UTF-8 bytes of a JSON value (dict, list, str, number, bool, None).

    orjson writes it (a 16 KB passport in ~0.1 ms instead of ~3 ms) when its output is JCS's:
    it escapes strings exactly as §3.2.2.2 does and sorts names by code point, which is UTF-16
    order unless a name holds a character beyond U+FFFF; its numbers are rewritten in the
    ECMAScript form. Anything it would write differently, or that JCS refuses, takes the
    reference serialiser (`reference`), which answers or raises as it always did: a 4-byte
    UTF-8 sequence anywhere, `null` anywhere (orjson writes NaN and the infinities as null),
    integers beyond 2^53, lone surrogates, non-string names, and any type but the JSON ones
    (subclasses included)."""
    try:
        out = orjson.dumps(value, option=_ORJSON_OPTIONS, default=_refuse)
    except TypeError:  # orjson.JSONEncodeError, or _refuse: the reference decides
        return reference(value)
    if b"null" in out:
        return reference(value)
    classes = out.translate(_CLASSES)  # one C pass; the searches below run on it
    if b"4" in classes:
        return reference(value)
    if not (_NOT_ECMASCRIPT_AT_START.match(classes) or _NOT_ECMASCRIPT_AFTER_COLON.search(classes)
            or _NOT_ECMASCRIPT_AFTER_COMMA.search(classes)):
        return out
    return _TOKENS.sub(_ecmascript_number, out)


def reference(value: Any) -> bytes:
    """RFC 8785 written out rule by rule: the reference `canonicalize` is tested against."""
    parts: list[str] = []
    _serialize(value, parts)
    return "".join(parts).encode("utf-8")


_ORJSON_OPTIONS = (orjson.OPT_SORT_KEYS | orjson.OPT_STRICT_INTEGER
                   | orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS
                   | orjson.OPT_PASSTHROUGH_SUBCLASS)
# orjson writes a double as ECMAScript does except in two forms: an integral value ("100.0",
# ECMAScript "100") and an exponent ("1e21", "1e-7", "1e16"; ECMAScript "1e+21", "1e-7",
# "10000000000000000"). Output without either where a value is (after : , [ or at the
# very start) is JCS's (tests sweep doubles of every magnitude); with one (or its look-alike
# inside a string), every number token is rewritten.
#
# The search runs on the output with each byte replaced by its class, in one C pass
# (bytes.translate): "P" the bytes a number follows (: [), "C" the comma (a number follows it and
# ends at it), "F" the other bytes a number ends at (] }), "0" and "1" the digits (zero kept
# apart: ".0" is the integral form), "- . e" themselves (E as e), "4" the lead byte of a 4-byte
# UTF-8 sequence (U+10000 and beyond), a space for every other byte. The patterns then start
# with a fixed byte, which the regex engine finds with a fast scan: a scan from every
# position, as the one pattern with a look-behind over the raw output needed, cost more than
# orjson and the signature together on a passport. Same matches, byte for byte.
_CLASS_OF = dict(zip(b":[,]}0123456789-.eE\xf0\xf1\xf2\xf3\xf4", b"PPCFF0111111111-.ee44444",
                     strict=True))
_CLASSES = bytes(_CLASS_OF.get(byte, 0x20) for byte in range(256))
_NUMBER_NOT_ECMASCRIPT = rb"-?[01]+(?:\.0(?![^CF])|(?:\.[01]+)?e)"
_NOT_ECMASCRIPT_AT_START = re.compile(_NUMBER_NOT_ECMASCRIPT)
_NOT_ECMASCRIPT_AFTER_COLON = re.compile(rb"P" + _NUMBER_NOT_ECMASCRIPT)
_NOT_ECMASCRIPT_AFTER_COMMA = re.compile(rb"C" + _NUMBER_NOT_ECMASCRIPT)
# A number token, or a string (matched whole, so that digits inside it are left alone).
_TOKENS = re.compile(rb'"(?:[^"\\]|\\.)*"|-?[0-9]+(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?')


def _ecmascript_number(match: re.Match) -> bytes:
    token = match.group()
    if token[0] == 0x22 or not any(mark in token for mark in (b".", b"e", b"E")):
        return token  # a string, or an integer orjson already wrote as ECMAScript does
    return serialize_number(float(token)).encode("ascii")


def _refuse(value: Any) -> Any:
    raise TypeError(f"not a JSON value: {type(value).__name__}")


def _serialize(value: Any, out: list[str]) -> None:
    if value is None:
        out.append("null")
    elif value is True:
        out.append("true")
    elif value is False:
        out.append("false")
    elif isinstance(value, str):
        out.append(serialize_string(value))
    elif isinstance(value, int | float):
        out.append(serialize_number(value))
    elif isinstance(value, dict):
        out.append("{")
        for index, name in enumerate(sorted(value, key=_utf16_key)):
            if not isinstance(name, str):
                raise ValueError(f"JSON object names must be strings, not {type(name).__name__}")
            if index:
                out.append(",")
            out.append(serialize_string(name))
            out.append(":")
            _serialize(value[name], out)
        out.append("}")
    elif isinstance(value, list | tuple):
        out.append("[")
        for index, item in enumerate(value):
            if index:
                out.append(",")
            _serialize(item, out)
        out.append("]")
    else:
        raise ValueError(f"not a JSON value: {type(value).__name__}")


def _utf16_key(name: Any) -> bytes:
    """§3.2.3: sort by UTF-16 code units; big-endian UTF-16 bytes compare in that order."""
    if not isinstance(name, str):
        raise ValueError(f"JSON object names must be strings, not {type(name).__name__}")
    return name.encode("utf-16-be", "surrogatepass")


def serialize_string(text: str) -> str:
    """§3.2.2.2: quote, escape '"', '\\' and control characters; everything else as is."""
    if _LONE_SURROGATE.search(text):
        raise ValueError("lone surrogate in string: not I-JSON (RFC 7493 §2.1)")
    return '"' + _NEEDS_ESCAPE.sub(_escape, text) + '"'


def _escape(match: re.Match) -> str:
    char = match.group()
    return _SHORT_ESCAPES.get(char) or f"\\u{ord(char):04x}"


def serialize_number(number: int | float) -> str:
    """§3.2.2.3: ECMAScript Number::toString (ECMA-262 §6.1.6.1.20) of an IEEE 754 double."""
    if isinstance(number, int):
        as_double = float(number)  # OverflowError for huge ints: not I-JSON either
        if as_double != number:
            raise ValueError(f"integer {number} is not exactly representable as a double")
        number = as_double
    if not math.isfinite(number):
        raise ValueError("NaN and Infinity are not JSON numbers")
    if number == 0:
        return "0"  # covers -0
    sign = "-" if number < 0 else ""
    digits, n = _shortest_digits(abs(number))
    k = len(digits)
    if k <= n <= 21:  # an integer: digits then n - k zeros
        return sign + digits + "0" * (n - k)
    if 0 < n <= 21:  # decimal point inside the digits
        return sign + digits[:n] + "." + digits[n:]
    if -6 < n <= 0:  # small: 0.000ddd
        return sign + "0." + "0" * -n + digits
    exponent = n - 1
    exponent_text = ("+" if exponent >= 0 else "-") + str(abs(exponent))
    if k == 1:
        return sign + digits + "e" + exponent_text
    return sign + digits[0] + "." + digits[1:] + "e" + exponent_text


def _shortest_digits(number: float) -> tuple[str, int]:
    """(s, n) with s the shortest digit string that round-trips and value = 0.s × 10^n.

    Python's repr is the shortest round-tripping form (correctly rounded), which is what
    ECMA-262 asks for when k is "as small as possible"."""
    sign, digit_tuple, exponent = Decimal(repr(number)).as_tuple()
    digits = "".join(map(str, digit_tuple)).rstrip("0")
    trailing_zeros = len(digit_tuple) - len(digits)
    # value = int(digit_tuple) × 10^exponent = int(digits) × 10^(exponent + trailing_zeros)
    n = exponent + trailing_zeros + len(digits)
    return digits, n
