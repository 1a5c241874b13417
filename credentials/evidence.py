"""Chains of evidence: follow a credential's links to the credentials behind it, verify each, and
return the tree (docs/evidence.md).

A link is UNTP's secure link, anywhere in the credential's subject: an object with `linkURL`
(and `linkName`, `linkType`, `mediaType`, `digestMultibase`). Links to credentials (`mediaType`
a credential's, or a UNTP link type of a credential) are fetched, their bytes hashed and
compared with `digestMultibase`, verified fully by the plain verifier (proof, issuer and its
trust chain, validity, status, schema), and followed in turn. Links to anything else (a PDF) are
listed, not fetched.

Bounded: MAX_DEPTH levels, MAX_LINKS credentials, MAX_TOTAL_BYTES fetched and one time budget
(credentials.guarded_http's, shared by every fetch of the verification); past a bound a
branch says why it stopped. Foreign links are fetched only through the guarded fetch (https,
public addresses, a size cap); the service's own are read from its database by the `fetch`
it is given.

Cached by hash: a fetched document for CACHE_SECONDS (the service's EVIDENCE_CACHE_SECONDS; 0:
no cache) by URL, and a branch's verdict for as long by the hash of its bytes, in this process
(a hit costs no round trip), so a passport with a hundred links verifies again in milliseconds;
a revocation or a changed document shows after at most that long, as foreign status lists
do."""

from __future__ import annotations

import base64
import hashlib
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import orjson
from cachetools import TTLCache

from credentials.errors import CredentialError

MAX_DEPTH = 3
MAX_LINKS = 250
MAX_DOCUMENT_BYTES = 256 * 1024
MAX_TOTAL_BYTES = 8 * 1024 * 1024
CACHE_SECONDS = 5.0
CACHE_ENTRIES = 10_000
CREDENTIAL_MEDIA_TYPES = ("application/vc+jwt", "application/vc", "application/vc+ld+json",
                          "application/ld+json", "application/jwt")
CREDENTIAL_LINK_TYPES = ("dcc", "dte", "dfr", "dpp", "dia")
KINDS = {"DigitalConformityCredential": "conformity", "DigitalTraceabilityEvent": "traceability",
         "DigitalFacilityRecord": "facility", "DigitalProductPassport": "passport",
         "DigitalIdentityAnchor": "identity"}

Fetch = Callable[[str, int], bytes]  # (url, max bytes) -> the bytes served for a credential
VerifyPlain = Callable[[str], dict]  # a secured credential -> its verdict, links not followed


def digest_multibase(data: bytes) -> str:
    """`u` + base64url (no padding) of the multihash 0x12 0x20 <sha-256> (VC Data Integrity,
    resource integrity)."""
    multihash = b"\x12\x20" + hashlib.sha256(data).digest()
    return "u" + base64.urlsafe_b64encode(multihash).rstrip(b"=").decode("ascii")


def digest_matches(expected: str, data: bytes) -> bool:
    """Whether `expected` (a multibase multihash: `u` base64url or `z` base58btc, SHA-256)
    is the digest of `data`."""
    if not isinstance(expected, str) or not expected:
        return False
    if expected[0] == "u":
        return expected == digest_multibase(data)
    if expected[0] == "z":
        from credentials.encoding import b58decode

        try:
            return b58decode(expected[1:]) == b"\x12\x20" + hashlib.sha256(data).digest()
        except ValueError:
            return False
    return False


def links_of(credential: dict) -> list[dict]:
    """Every secure link in the credential's subject, with where it sits: `claim` for the
    evidence of a performance claim (with the claim), `document` for any other."""
    found: list[dict] = []

    def walk(node: dict | list, claim: dict | None) -> None:
        # Asked on every verification: only maps and lists are visited (a passport's hundreds
        # of strings and numbers cost no call), and a list's items without a type test each.
        if isinstance(node, list):
            for item in node:
                if isinstance(item, _CONTAINERS):
                    walk(item, claim)
            return
        if isinstance(node.get("linkURL"), str):
            found.append({"link": node, "claim": claim})
            return
        types = node.get("type") or []
        if "Claim" in (types if isinstance(types, list) else [types]):
            for key, value in node.items():
                if isinstance(value, _CONTAINERS):
                    walk(value, _claim_summary(node) if key == "evidence" else claim)
            return
        for value in node.values():
            if isinstance(value, _CONTAINERS):
                walk(value, claim)

    subject = credential.get("credentialSubject")
    if isinstance(subject, _CONTAINERS) and _may_link(subject):
        walk(subject, None)
    return found


def _may_link(subject: dict | list) -> bool:
    """False when no member of `subject` is named linkURL: one search of its JSON (in C, a
    tenth of the walk's time) spares the walk of every passport that links nothing."""
    try:
        return b'"linkURL"' in orjson.dumps(subject)
    except TypeError:  # what orjson cannot write (integers beyond 64 bits, ...): walk it
        return True


_CONTAINERS = (dict, list)  # a tuple: isinstance takes it faster than `dict | list`


def _claim_summary(claim: dict) -> dict:
    summary = {"name": claim.get("name")}
    topics = claim.get("conformityTopic")
    if isinstance(topics, list) and topics and isinstance(topics[0], dict):
        summary["topic"] = topics[0].get("name")
    performance = claim.get("claimedPerformance")
    if isinstance(performance, list) and performance and isinstance(performance[0], dict):
        measure = performance[0].get("measure") or {}
        metric = performance[0].get("metric") or {}
        summary.update(metric=metric.get("name"), value=measure.get("value"),
                       unit=measure.get("unit"))
    return summary


def is_credential_link(link: dict) -> bool:
    media = str(link.get("mediaType") or "").split(";")[0].strip().lower()
    kind = str(link.get("linkType") or "").rstrip("/").rsplit("/", 1)[-1].rsplit("#", 1)[-1]
    return media in CREDENTIAL_MEDIA_TYPES or kind.lower() in CREDENTIAL_LINK_TYPES


def kind_of(credential: dict | None) -> str | None:
    types = (credential or {}).get("type") or []
    for name in types if isinstance(types, list) else [types]:
        if name in KINDS:
            return KINDS[name]
    return None


@dataclass
class _Budget:
    links: int = 0
    bytes: int = 0
    stopped: str = ""


# Per time to live: (url -> bytes, sha-256 of the bytes -> (verdict, kind, credential)).
_caches: dict[float, tuple[TTLCache, TTLCache]] = {}
_lock = threading.Lock()


def _caches_for(seconds: float) -> tuple[TTLCache, TTLCache]:
    with _lock:
        if seconds not in _caches:
            _caches[seconds] = (TTLCache(CACHE_ENTRIES, seconds), TTLCache(CACHE_ENTRIES, seconds))
        return _caches[seconds]


def clear_caches() -> None:
    with _lock:
        for documents, branches in _caches.values():
            documents.clear()
            branches.clear()


@dataclass
class EvidenceFollower:
    fetch: Fetch
    verify: VerifyPlain
    # (issuer block of a verdict) -> the block with `trusted` and `anchor` decided for issuers
    # the plain verifier could not place (another service's organisations); None: as it says.
    foreign_trust: Callable[[dict], dict] | None = None
    max_depth: int = MAX_DEPTH
    max_links: int = MAX_LINKS
    max_total_bytes: int = MAX_TOTAL_BYTES
    cache_seconds: float = CACHE_SECONDS
    _seen: set = field(default_factory=set)

    def tree(self, credential: dict) -> dict:
        """The evidence block of a verdict: every followed link as a branch."""
        budget = _Budget()
        branches = self._branches(credential, 1, budget, {str(credential.get("id"))})
        block = {"verified": all(b["verified"] for b in branches), "count": budget.links,
                 "links": branches}
        if budget.stopped:
            block["stopped"] = budget.stopped
        return block

    def _branches(self, credential: dict, depth: int, budget: _Budget, path: set) -> list[dict]:
        branches = []
        for found in links_of(credential):
            link = found["link"]
            branch = {"url": link["linkURL"], "name": link.get("linkName") or link["linkURL"],
                      "link_type": link.get("linkType"), "role": "claim" if found["claim"]
                      else "document"}
            if found["claim"]:
                branch["claim"] = found["claim"]
            if not is_credential_link(link):
                branch.update(verified=True, followed=False, errors=[])
                branches.append(branch)
                continue
            self._follow(branch, link, depth, budget, path)
            branches.append(branch)
        return branches

    def _follow(self, branch: dict, link: dict, depth: int, budget: _Budget, path: set) -> None:
        url = link["linkURL"]
        errors: list[str] = []
        branch.update(followed=True, errors=errors, verified=False, issuer=None, kind=None)
        if budget.links >= self.max_links:
            budget.stopped = budget.stopped or f"more than {self.max_links} linked credentials"
            errors.append(f"not followed: {budget.stopped}")
            return
        if url in path:
            errors.append("not followed: the link leads back to a credential above it")
            return
        budget.links += 1
        try:
            data = self._document(url, budget)
        except CredentialError as exc:
            errors.append(f"fetch: {exc.detail}")
            return
        expected = link.get("digestMultibase")
        if expected is None:
            branch["hash"] = "absent"
        elif digest_matches(expected, data):
            branch["hash"] = "match"
        else:
            branch["hash"] = "mismatch"
            errors.append("hash: the linked credential is not the one the link was made for "
                          "(its bytes changed)")
        verdict, kind, credential = self._verdict(data)
        branch["kind"] = kind
        issuer = dict(verdict.get("issuer") or {})
        if issuer and not issuer.get("trusted") and self.foreign_trust is not None:
            issuer = self.foreign_trust(issuer)
        branch["issuer"] = _issuer_summary(issuer)
        errors += list(verdict.get("errors") or [])
        if issuer and not issuer.get("trusted"):
            errors.append(f"issuer: not trusted ({issuer.get('reason') or _reason(verdict)})")
        if not issuer:
            errors.append("issuer: unknown")
        if isinstance(credential, dict):
            branch["subject"] = _subject_summary(credential, kind)
            if depth < self.max_depth:
                branch["links"] = self._branches(credential, depth + 1, budget,
                                                 path | {url, str(credential.get("id"))})
            elif links_of(credential):
                branch["links"] = []
                errors.append(f"links below not followed: deeper than {self.max_depth} levels")
        children = branch.get("links") or []
        branch["verified"] = not errors and all(child["verified"] for child in children)

    def _document(self, url: str, budget: _Budget) -> bytes:
        documents = _caches_for(self.cache_seconds)[0] if self.cache_seconds else None
        with _lock:
            data = documents.get(url) if documents is not None else None
        if data is None:
            left = self.max_total_bytes - budget.bytes
            if left <= 0:
                budget.stopped = budget.stopped or f"more than {self.max_total_bytes} bytes"
                raise CredentialError(f"not fetched: {budget.stopped}", code="fetch_refused")
            data = self.fetch(url, min(MAX_DOCUMENT_BYTES, left))
            if documents is not None:
                with _lock:
                    documents[url] = data
        budget.bytes += len(data)
        return data

    def _verdict(self, data: bytes) -> tuple[dict, str | None, dict | None]:
        key = hashlib.sha256(data).digest()
        branches = _caches_for(self.cache_seconds)[1] if self.cache_seconds else None
        with _lock:
            cached = branches.get(key) if branches is not None else None
        if cached is None:
            text = data.decode("utf-8", "replace").strip()
            verdict = self.verify(_secured(text))
            credential = verdict.get("credential")
            cached = (verdict, kind_of(credential), credential)
            if branches is not None:
                with _lock:
                    branches[key] = cached
        return cached


def _secured(text: str) -> Any:
    """A compact JWT as is; a JSON document (an envelope or an embedded proof) parsed."""
    if text.startswith("{"):
        from core import json_limits

        try:
            return json_limits.loads(text)
        except ValueError:
            return text
    return text


def _reason(verdict: dict) -> str:
    for warning in verdict.get("warnings") or []:
        if warning.startswith("issuer not trusted: "):
            return warning.removeprefix("issuer not trusted: ")
    return "no identity credential from a trusted anchor"


def _issuer_summary(issuer: dict) -> dict | None:
    if not issuer:
        return None
    legal = issuer.get("legal_person") or {}
    return {"id": issuer.get("id"), "name": legal.get("name") or issuer.get("name"),
            "trusted": bool(issuer.get("trusted")), "anchor": legal.get("anchor"),
            "anchor_name": legal.get("anchor_name")}


def _subject_summary(credential: dict, kind: str | None) -> dict:
    """What the linked credential says, in a few fields a page can put in words."""
    subject = credential.get("credentialSubject")
    first = subject[0] if isinstance(subject, list) and subject else subject
    first = first if isinstance(first, dict) else {}
    summary = {"name": credential.get("name") or first.get("name")}
    if kind == "conformity":
        assessments = first.get("conformityAssessment") or [{}]
        assessment = assessments[0] if isinstance(assessments[0], dict) else {}
        summary["conformance"] = assessment.get("conformance")
        topics = assessment.get("conformityTopic") or []
        if topics and isinstance(topics[0], dict):
            summary["topic"] = topics[0].get("name")
    elif kind == "passport":
        summary["product"] = first.get("name")
    elif kind == "traceability":
        summary["inputs"] = len(first.get("inputProduct") or [])
    return summary
