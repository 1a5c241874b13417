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

# §3.2.2.2: the two-character escapes; other control characters become \u00xx (lowercase hex).
_SHORT_ESCAPES = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r",
                  "\t": "\\t"}
_NEEDS_ESCAPE = re.compile(r'["\\\x00-\x1f]')
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def canonicalize(value: Any) -> bytes:
    """The RFC 8785 canonical UTF-8 bytes of a JSON value (dict, list, str, number, bool, None)."""
    parts: list[str] = []
    _serialize(value, parts)
    return "".join(parts).encode("utf-8")


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
