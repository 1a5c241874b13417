"""The specifications' published examples, bundled unchanged under tests/vectors/<spec>/ (each
folder's MANIFEST.md names every file's source)."""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import parse_qsl

VECTORS = Path(__file__).resolve().parent.parent / "vectors"


class PublishedExamples:
    def __init__(self, spec: str):
        self.folder = VECTORS / spec

    def text(self, name: str) -> str:
        return (self.folder / name).read_text(encoding="utf-8").strip()

    def json(self, name: str):
        """A published JSON example (a fresh copy each time: tests may change it)."""
        return json.loads(self.text(name))

    def form(self, name: str) -> dict:
        """A published form body or query string, as name → value."""
        return dict(parse_qsl(self.text(name), keep_blank_values=True))
