"""Local copies of documents other servers publish (did:web documents, status lists), kept by a
layer above (replication: a back-up provider holds the documents its primaries pushed to it,
authenticated). The engine reads a copy before it would fetch the original, and checks it
exactly as a fetched one (proof, issuer, dates): a copy is a faster and longer-lived way to the
same signed bytes, never a reason to believe more.

A source is `source(url) -> bytes | None`, registered once per process (AppConfig.ready)."""

from __future__ import annotations

from collections.abc import Callable

MirrorSource = Callable[[str], bytes | None]
_sources: list[MirrorSource] = []


def register(source: MirrorSource) -> None:
    if source not in _sources:
        _sources.append(source)


def unregister(source: MirrorSource) -> None:
    if source in _sources:
        _sources.remove(source)


def copy_of(url: str) -> bytes | None:
    """A local copy of the document at `url`, or None."""
    for source in _sources:
        body = source(url)
        if body is not None:
            return body
    return None
