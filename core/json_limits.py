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

_NOT_STRUCTURE = bytes(byte for byte in range(256) if byte not in b'"[]{}')
_AS_STEPS = bytes.maketrans(b"[{]}", b"\x01\x01\xff\xff")  # as signed bytes: +1 and -1


class JSONTooDeep(ValueError):
    """Raised instead of parsing: a ValueError, as every malformed JSON is."""

    def __init__(self, limit: int):
        super().__init__(f"JSON nested deeper than {limit} levels (the limit)")
        self.limit = limit


def check_depth(data: bytes | str, limit: int = MAX_DEPTH) -> None:
    """Raise JSONTooDeep when `data` nests arrays and objects deeper than `limit`, counting
    brackets outside strings only. No parser runs, and all of it is C-speed bytes operations
    (a 16 KB credential costs a fraction of parsing it). For text that is not JSON it may raise
    where a parser would have found another error first."""
    if isinstance(data, str):
        data = data.encode("utf-8", "surrogatepass")
    if data.count(b"[") + data.count(b"{") <= limit:  # no more levels than opening brackets
        return
    if b"\\" in data:  # escaped backslashes, then escaped quotes: each `"` left delimits
        data = data.replace(b"\\\\", b"").replace(b'\\"', b"")
    # Quotes and brackets only. Two adjacent quotes have no bracket between them, and dropping
    # them keeps every other quote's parity (opening or closing a string): strings without
    # brackets go at once, and the few left are cut out.
    marks = data.translate(None, _NOT_STRUCTURE).replace(b'""', b"")
    if b'"' in marks:
        marks = b"".join(marks.split(b'"')[::2])
    # Innermost pairs dropped first (one level, at C speed: a flat `[][][]...` is gone), then
    # the running count of brackets opened and not closed yet, at its highest, must stay below
    # `limit`. (Brackets never closed, in what is not JSON, count as levels as well.)
    if not marks:
        return
    steps = marks.translate(_AS_STEPS).replace(b"\x01\xff", b"")
    if b"\x01" * max(limit, 1) in steps or max(accumulate(memoryview(steps).cast("b"),
                                                           initial=0)) >= limit:
        raise JSONTooDeep(limit)  # the first test finds the usual [[[[... at once


def loads(data: bytes | str, **options) -> Any:
    """json.loads for untrusted input: JSONTooDeep (a ValueError) past MAX_DEPTH."""
    check_depth(data)
    return json.loads(data, **options)
