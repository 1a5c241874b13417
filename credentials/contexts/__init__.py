"""Bundled JSON-LD contexts and the static document loader: nothing is fetched at run time."""

import copy
import json
from functools import cache
from pathlib import Path

from credentials.errors import UnknownContext

HERE = Path(__file__).resolve().parent
_registered: dict[str, dict] = {}


@cache
def manifest() -> dict[str, dict]:
    return json.loads((HERE / "manifest.json").read_text())["contexts"]


def known(url: str) -> bool:
    return url in manifest()


def load(url: str) -> dict:
    """The parsed context document (a fresh copy: callers may mutate it)."""
    return copy.deepcopy(_parsed(url))


def register(url: str, document: dict) -> None:
    """Add a context at run time (the service's own extension context, tests' contexts)."""
    _registered[url] = document
    manifest()[url] = {"file": None, "source": "registered at run time"}
    _parsed.cache_clear()


@cache
def _parsed(url: str) -> dict:
    """Registered contexts first, then bundled files."""
    if url in _registered:
        return _registered[url]
    entry = manifest().get(url)
    if entry is None or entry.get("file") is None:
        raise UnknownContext(f"unknown JSON-LD context {url!r}: only bundled contexts are used")
    return json.loads((HERE / entry["file"]).read_text())


def document_loader(url: str, options=None) -> dict:
    """pyld document loader over the bundled contexts; raises UnknownContext for anything else."""
    return {"contextUrl": None, "documentUrl": url, "document": load(url)}
