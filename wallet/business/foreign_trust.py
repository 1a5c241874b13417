"""Trust in an issuer of another service: its identity credential, from an anchor we trust.

The trust registry (wallet.business.trust) knows this service's organisations. An organisation
of another service publishes its UNTP Digital Identity Anchor credential beside its DID
document (`did:web:<host>:orgs:<slug>` -> `https://<host>/orgs/<slug>/identity`); it is
trusted here when that credential verifies, names the issuer's DID as its subject, and was
issued by an anchor in our trust registry (TRUSTED_ANCHOR_DIDS, or a TrustedAnchor here)."""

from __future__ import annotations

from collections.abc import Callable

from credentials.dids import did_web_document_url
from credentials.errors import CredentialError
from wallet.business.trust import trusted_anchor_dids

IDENTITY_PATH = "identity"  # beside did.json


def identity_url(did: str) -> str | None:
    """Where the organisation of a did:web publishes its identity credential."""
    if not did.startswith("did:web:") or ":orgs:" not in did:
        return None
    try:
        return did_web_document_url(did).removesuffix("did.json") + IDENTITY_PATH
    except ValueError:
        return None


def foreign_issuer_trust(issuer: dict, *, fetch: Callable[[str, int], bytes],
                         verify: Callable[[str], dict]) -> dict:
    """`issuer` (a verdict's issuer block) with `trusted`, `legal_person` and `reason` decided
    from its published identity credential."""
    issuer = dict(issuer)
    did = issuer.get("id") or ""
    url = identity_url(did)
    if url is None:
        issuer["reason"] = "not an organisation's did:web"
        return issuer
    try:
        data = fetch(url, 64 * 1024)
    except CredentialError as exc:
        issuer["reason"] = f"its identity credential could not be fetched: {exc.detail}"
        return issuer
    verdict = verify(data.decode("utf-8", "replace").strip())
    credential = verdict.get("credential") or {}
    subject = credential.get("credentialSubject") if isinstance(credential, dict) else None
    anchor = (verdict.get("issuer") or {}).get("id")
    if not verdict.get("verified") or not isinstance(subject, dict):
        issuer["reason"] = ("its identity credential does not verify: "
                            + "; ".join(verdict.get("errors") or []))
    elif subject.get("id") != did:
        issuer["reason"] = "its identity credential is about another DID"
    elif anchor not in trusted_anchor_dids():
        issuer["reason"] = f"its identity credential's issuer {anchor} is not a trusted anchor"
    else:
        issuer["trusted"] = True
        issuer["legal_person"] = {
            "name": subject.get("registeredName"), "registry_id": subject.get("registeredId"),
            "register": (subject.get("idScheme") or {}).get("name"), "anchor": anchor,
            "anchor_name": (verdict.get("issuer") or {}).get("name"),
            "credential": credential.get("id")}
        issuer.pop("reason", None)
    return issuer
