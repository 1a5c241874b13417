"""The code lists EN 16931 and Peppol BIS Billing 3.0 check values against, bundled as data.

Each `*.txt` here is derived from the official validation artefacts by `derive.py`; MANIFEST.md
names the source file, release and rule of each. Read once per process."""

from __future__ import annotations

from functools import cache
from pathlib import Path

HERE = Path(__file__).resolve().parent


@cache
def codes(name: str) -> frozenset[str]:
    """The codes of list `name` (the file name without `.txt`, e.g. `iso4217`)."""
    return frozenset((HERE / f"{name}.txt").read_text().split())
