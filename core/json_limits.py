"""JSON from outside, refused when it is nested deeper than MAX_DEPTH.

Python's json parser recurses once per level of nesting: a body of 100,000 `[` makes it raise
RecursionError (a 500 where that escapes), and a document just under the interpreter's limit
only moves the crash to the next recursive walk over it (validation, JSON-LD, rendering). No
credential, request or document we read comes near MAX_DEPTH levels, so deeper input is refused
before it is parsed, by every parser of untrusted JSON: API request bodies, JWT headers and
payloads, SD-JWT disclosures, fetched documents."""

from __future__ import annotations

import json
from itertools import accumulate
from typing import Any

MAX_DEPTH = 64

_NOT_BRACKETS = bytes(byte for byte in range(256) if byte not in b"[]{}")
_AS_STEPS = bytes.maketrans(b"[{]}", b"\x01\x01\xff\xff")  # +1 / -1 as signed bytes


class JSONTooDeep(ValueError):
    """Raised instead of parsing: a ValueError, as every malformed JSON is."""

    def __init__(self, limit: int):
        super().__init__(f"JSON nested deeper than {limit} levels (the limit)")
        self.limit = limit


def depth(data: bytes | str) -> int:
    """The deepest nesting of arrays and objects in `data`, counting only brackets outside
    strings, at C speed (no parser runs). For text that is not JSON the count is an upper
    bound of how deep a parser would go before finding the error."""
    if isinstance(data, str):
        data = data.encode("utf-8", "surrogatepass")
    if b"\\" in data:  # escaped backslashes, then escaped quotes: what is left of `"` delimits
        data = data.replace(b"\\\\", b"").replace(b'\\"', b"")
    brackets = b"".join(data.split(b'"')[::2]).translate(None, _NOT_BRACKETS)
    if not brackets:
        return 0
    return max(0, max(accumulate(memoryview(brackets.translate(_AS_STEPS)).cast("b"))))


def check_depth(data: bytes | str, limit: int = MAX_DEPTH) -> None:
    """Raise JSONTooDeep when `data` nests deeper than `limit`."""
    # The number of opening brackets bounds the depth and costs less: most documents stop here.
    opening = (data.count("[") + data.count("{") if isinstance(data, str)
               else data.count(b"[") + data.count(b"{"))
    if opening > limit and depth(data) > limit:
        raise JSONTooDeep(limit)


def loads(data: bytes | str, **options) -> Any:
    """json.loads for untrusted input: JSONTooDeep (a ValueError) past MAX_DEPTH."""
    check_depth(data)
    return json.loads(data, **options)
