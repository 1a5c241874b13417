"""The OpenID4VP 1.0 final specification's published examples, bundled unchanged in
tests/vectors/openid4vp (sources in its MANIFEST.md)."""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import parse_qsl

VECTORS = Path(__file__).resolve().parent.parent / "vectors" / "openid4vp"


def text(name: str) -> str:
    return (VECTORS / name).read_text(encoding="utf-8").strip()


def published(name: str):
    """A published JSON example (a fresh copy each time: tests may change it)."""
    return json.loads(text(name))


def form(name: str) -> dict:
    """A published form body or query string, as name → value."""
    return dict(parse_qsl(text(name), keep_blank_values=True))
