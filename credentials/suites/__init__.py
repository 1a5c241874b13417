"""Proof suites, registered by name. `get_suite("vc+jwt")`, `detect(secured)`."""

from credentials.suites.base import KeyResolver, ProofResult, ProofSuite

_REGISTRY: dict[str, ProofSuite] = {}
_loaded = False


def register(suite: ProofSuite) -> ProofSuite:
    _REGISTRY[suite.name] = suite
    return suite


def _load_all() -> None:
    """Import the engine's own suites once (lazily: importing this package stays cheap and
    cycle-free). didkit's suites register only when `credentials.suites.didkit_ld` is imported:
    they serve interop and benchmarks, never the service's own signing or verification."""
    global _loaded
    if not _loaded:
        from credentials.suites import data_integrity, ed25519_2020, jose, proof_sets, sd_jwt  # noqa: F401  # noqa: F401

        _loaded = True


def get_suite(name: str) -> ProofSuite:
    _load_all()
    try:
        return _REGISTRY[name]
    except KeyError:
        raise KeyError(f"unknown proof suite {name!r}; known: {sorted(_REGISTRY)}") from None


def all_suites() -> dict[str, ProofSuite]:
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
