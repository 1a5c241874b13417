"""What a primary pushes to its back-up providers, and what is still pending for one.

Four kinds of signed documents, each at the path the primary serves it at:

- every signed passport version, `/passports/<id>` (its `vc+jwt`, its embedded-proof form when
  the organisation opted in, and its state for the backup's page); revision: `updated_at`;
- every signed evidence credential (issue #25: conformity credentials, traceability events,
  facility records), `/evidence/<id>` (its `vc+jwt`, which passports link by hash, and its
  state); revision: `updated_at`, so a revocation or a re-signing is pushed again;
- every published status list, `/status/<id>` (the signed list as published); revision:
  `published_at`, so every re-signing (a change, or the refresh before `validUntil`) is pushed;
- every DID document of ours, `/orgs/<slug>/did.json` and `/.well-known/did.json`; revision:
  a digest of the document (keys made, rotated or retired change it).

Pending for a provider = signed here and not acknowledged by it at that revision: one indexed
anti-join per kind (`NOT EXISTS`), so the sweep costs little when nothing is pending.
Restricted access groups' credentials are not pushed: who may read them is decided by the
primary's entitlements, which a backup does not hold."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

from django.conf import settings
from django.db.models import Exists, OuterRef, Q

from credentials.did_web import own_did_documents, service_did
from credentials.dids import did_web_document_url
from credentials.models import StatusList
from passports.models import EVIDENCE_PATH, PUBLIC_PATH, EvidenceCredential, Passport
from replication.models import Acknowledgement, BackupProvider

SIGNED_STATES = (Passport.State.ISSUED, Passport.State.SUSPENDED, Passport.State.REVOKED,
                 Passport.State.SUPERSEDED)
STATUS_PATH = "/status/"


@dataclass
class Document:
    """One document as pushed (`wire()`), with what acknowledges it here."""

    kind: str
    path: str
    media_type: str
    body: str
    revision: str
    embedded: dict | None = None
    meta: dict | None = None
    signed_at: str | None = None
    passport_id: object = None
    evidence_id: object = None
    status_list_id: object = None
    did: str = ""
    revision_at: object = None  # the datetime revision of a passport or status list
    digest: str = ""

    def wire(self) -> dict:
        return {"kind": self.kind, "path": self.path, "media_type": self.media_type,
                "body": self.body, "revision": self.revision, "embedded": self.embedded,
                "meta": self.meta or {}, "signed_at": self.signed_at}

    def size(self) -> int:
        return len(self.body) + (len(json.dumps(self.embedded)) if self.embedded else 0) + 500

    def acknowledgement(self, provider: BackupProvider) -> Acknowledgement:
        return Acknowledgement(provider=provider, passport_id=self.passport_id,
                               evidence_id=self.evidence_id,
                               status_list_id=self.status_list_id, did=self.did,
                               revision=self.revision_at, digest=self.digest)


def _revision(moment) -> str:
    return moment.isoformat(timespec="microseconds")


def passport_document(passport: Passport) -> Document:
    superseded_by = (f"{PUBLIC_PATH}{passport.superseded_by_id}" if passport.superseded_by_id
                     else None)
    return Document(
        "passport", f"{PUBLIC_PATH}{passport.pk}", "application/vc+jwt", passport.jwt,
        _revision(passport.updated_at), embedded=passport.embedded,
        meta={"state": passport.state, "reason": passport.state_reason,
              "version": passport.version, "superseded_by": superseded_by,
              "issued_at": _revision(passport.issued_at) if passport.issued_at else None},
        passport_id=passport.pk, revision_at=passport.updated_at)


def evidence_document(credential: EvidenceCredential) -> Document:
    superseded_by = (f"{EVIDENCE_PATH}{credential.superseded_by_id}"
                     if credential.superseded_by_id else None)
    return Document(
        "evidence", f"{EVIDENCE_PATH}{credential.pk}", "application/vc+jwt", credential.jwt,
        _revision(credential.updated_at),
        meta={"state": credential.state, "reason": credential.state_reason,
              "kind": credential.kind, "version": credential.version,
              "superseded_by": superseded_by,
              "issued_at": _revision(credential.issued_at) if credential.issued_at else None},
        evidence_id=credential.pk, revision_at=credential.updated_at)


def status_list_document(status_list: StatusList) -> Document:
    media_type = ("application/vc+jwt" if status_list.kind == StatusList.Kind.BITSTRING
                  else "application/statuslist+jwt")
    return Document(
        "status_list", f"{STATUS_PATH}{status_list.pk}", media_type, status_list.published,
        _revision(status_list.published_at), meta={"kind": status_list.kind,
                                                   "purpose": status_list.purpose},
        signed_at=_revision(status_list.published_at), status_list_id=status_list.pk,
        revision_at=status_list.published_at)


def did_path(did: str) -> str:
    url = did_web_document_url(did)
    return "/" + url.split("/", 3)[3]


def did_documents() -> list[Document]:
    """Our DID documents at this address (those of earlier addresses are served at hosts the
    backup does not stand in for)."""
    documents = []
    for did, document in sorted(own_did_documents().items()):
        body = json.dumps(document, separators=(",", ":"), sort_keys=True)
        digest = hashlib.sha256(body.encode()).hexdigest()
        documents.append(Document("did_document", did_path(did), "application/did+json", body,
                                  digest, did=did, digest=digest))
    return documents


def pending(provider: BackupProvider, *, limit: int) -> list[Document]:
    """Up to `limit` documents the provider has not acknowledged at their current revision:
    DID documents first (what verifies the rest), then status lists, then evidence credentials
    (what passports link), then passports."""
    acknowledged = Acknowledgement.objects.filter(provider=provider)
    found: list[Document] = []
    held = dict(acknowledged.exclude(did="").values_list("did", "digest"))
    found += [doc for doc in did_documents() if held.get(doc.did) != doc.digest][:limit]
    if len(found) < limit:
        lists = (StatusList.objects.exclude(published="").exclude(published_at=None)
                 .filter(Q(issuer=service_did()) | Q(issuer__startswith=service_did() + ":"))
                 .exclude(Exists(acknowledged.filter(status_list=OuterRef("pk"),
                                                     revision=OuterRef("published_at"))))
                 .order_by("published_at", "pk")
                 .only("kind", "purpose", "published", "published_at")[:limit - len(found)])
        found += [status_list_document(status_list) for status_list in lists]
    if len(found) < limit:
        evidence = (EvidenceCredential.objects.filter(state__in=SIGNED_STATES).exclude(jwt="")
                    .exclude(Exists(acknowledged.filter(evidence=OuterRef("pk"),
                                                        revision=OuterRef("updated_at"))))
                    .order_by("updated_at", "pk")
                    .only("kind", "version", "state", "state_reason", "jwt", "superseded_by",
                          "issued_at", "updated_at")[:limit - len(found)])
        found += [evidence_document(credential) for credential in evidence]
    if len(found) < limit:
        passports = (Passport.objects.filter(state__in=SIGNED_STATES).exclude(jwt="")
                     .exclude(Exists(acknowledged.filter(passport=OuterRef("pk"),
                                                         revision=OuterRef("updated_at"))))
                     .order_by("updated_at", "pk")
                     .only("version", "state", "state_reason", "jwt", "embedded",
                           "superseded_by", "issued_at", "updated_at")[:limit - len(found)])
        found += [passport_document(passport) for passport in passports]
    return found


def origin() -> str:
    return settings.PUBLIC_BASE_URL
