"""The evidence tree in a verdict: the engine's follower (credentials.evidence) with what the
service knows: its own credentials read from its database, the plain verifier for each linked
credential, and trust in other services' issuers (wallet.business.foreign_trust)."""

from __future__ import annotations

from django.conf import settings

from credentials.did_web import own_url_path
from credentials.evidence import EvidenceFollower, links_of
from passports.services.evidence import credential_bytes
from wallet.business.foreign_trust import foreign_issuer_trust, identity_url


def follower() -> EvidenceFollower:
    """One plain verifier (no links followed) for every credential of the tree."""
    from passports.services.verification import plain_verifier

    verify = plain_verifier().verify

    def foreign_trust(issuer: dict) -> dict:
        """Another service's issuer; ours the trust registry has judged already."""
        url = identity_url(issuer.get("id") or "")
        if url is None or own_url_path(url) is not None:
            return issuer
        return foreign_issuer_trust(issuer, fetch=credential_bytes, verify=verify)

    return EvidenceFollower(fetch=credential_bytes, verify=verify, foreign_trust=foreign_trust,
                            cache_seconds=settings.EVIDENCE_CACHE_SECONDS)


def evidence_tree(credential: dict, verdict: dict) -> None:
    """Add `evidence` to the verdict of a credential with links; a branch that does not verify
    is a warning (the credential itself stands or falls by its own checks)."""
    if not links_of(credential):
        return
    block = follower().tree(credential)
    verdict["evidence"] = block
    for line in failed_lines(block["links"]):
        verdict["warnings"].append(f"evidence: {line}")


def failed_lines(branches: list[dict], prefix: str = "") -> list[str]:
    lines = []
    for branch in branches:
        name = f"{prefix}{branch['name']}"
        if branch.get("errors"):
            lines.append(f"{name}: {'; '.join(branch['errors'])}")
        lines += failed_lines(branch.get("links") or [], prefix=f"{name} > ")
    return lines
