"""Proof suites, registered by name. `get_suite("vc+jwt")`, `detect(secured)`."""

from credentials.suites.base import KeyResolver, ProofResult, ProofSuite

_REGISTRY: dict[str, ProofSuite] = {}


def register(suite: ProofSuite) -> ProofSuite:
    _REGISTRY[suite.name] = suite
    return suite


def _load_all() -> None:
    # Imported lazily so that importing `credentials.suites` stays cheap and cycle-free.
    from credentials.suites import (  # noqa: F401
        data_integrity,
        didkit_ld,
        jose,
        sd_jwt,
    )


def get_suite(name: str) -> ProofSuite:
    if not _REGISTRY:
        _load_all()
    try:
        return _REGISTRY[name]
    except KeyError:
        raise KeyError(f"unknown proof suite {name!r}; known: {sorted(_REGISTRY)}") from None


def all_suites() -> dict[str, ProofSuite]:
    if not _REGISTRY:
        _load_all()
    return dict(_REGISTRY)


def detect(secured) -> ProofSuite | None:
    """The suite that recognises `secured`, or None."""
    for suite in all_suites().values():
        if suite.recognises(secured):
            return suite
    return None


__all__ = ["KeyResolver", "ProofResult", "ProofSuite", "all_suites", "detect", "get_suite",
           "register"]
