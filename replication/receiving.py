"""The back-up provider's side (docs/backup.md): the primaries it backs up, the pushes it
accepts, and the copies it serves.

- `source_add` records a primary (its PUBLIC_BASE_URL) and makes the push credential the
  primary is given (`<source id>:whsec_...`), shown once and stored encrypted.
- `push_receive` authenticates a push (the source named by `Replication-Source`, a Standard
  Webhooks signature under its secret, within 5 minutes; the push's origin the source's):
  otherwise the whole push is refused. It checks every document (a path this service serves
  such documents at; signed bytes that name the primary's own address at that path, so a
  primary can only ever push its own documents), refuses those that fail, naming why, and
  stores the others by path in one transaction: a document already held at that revision is
  left as it is, an older revision never replaces a newer one. It answers the paths it holds
  at the pushed revision (stored now or before), which the primary acknowledges, and the
  refused ones.
- `replica_for_url` is the engine's mirror (credentials.mirrors): the verifier here reads the
  primaries' DID documents and status lists from the copies, checked as fetched ones are.
- `primary_silence(source)` says whether the primary is quiet longer than its heartbeat allows
  (REPLICATION_PRIMARY_SILENT_SECONDS), and since when: the honest part of every answer."""

from __future__ import annotations

import base64
import json
import os
import re
import uuid
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from core import json_limits
from core.errors import DomainError
from credentials.dids import did_web_for_url
from credentials.signing import decode_jwt_parts
from replication.models import Replica, ReplicationSource
from replication.pushing import SOURCE_HEADER, unwrap_secret, wrap_secret

PATHS = {
    Replica.Kind.PASSPORT: re.compile(r"^/passports/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-"
                                      r"[0-9a-f]{4}-[0-9a-f]{12}$"),
    Replica.Kind.STATUS_LIST: re.compile(r"^/status/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-"
                                         r"[0-9a-f]{4}-[0-9a-f]{12}$"),
    Replica.Kind.DID_DOCUMENT: re.compile(r"^/(?:\.well-known|orgs/[-a-zA-Z0-9_]+)/did\.json$"),
    Replica.Kind.EVIDENCE: re.compile(r"^/evidence/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-"
                                      r"[0-9a-f]{4}-[0-9a-f]{12}$"),
}
MEDIA_TYPES = {
    Replica.Kind.PASSPORT: {"application/vc+jwt"},
    Replica.Kind.STATUS_LIST: {"application/vc+jwt", "application/statuslist+jwt"},
    Replica.Kind.DID_DOCUMENT: {"application/did+json"},
    Replica.Kind.EVIDENCE: {"application/vc+jwt"},
}
MAX_DOCUMENTS = 500
MAX_DOCUMENT_CHARS = 4 * 1024 * 1024


class PushRefused(DomainError):
    code = "push_refused"
    status = 400


class PushUnauthenticated(DomainError):
    code = "push_unauthenticated"
    status = 401


def new_secret() -> str:
    return "whsec_" + base64.b64encode(os.urandom(32)).decode()


@transaction.atomic
def source_add(*, name: str, origin: str) -> tuple[ReplicationSource, str]:
    """(the source, the push credential to give its primary: shown this once). Adding an
    origin again gives it a new credential (the old one stops working)."""
    origin = origin.rstrip("/")
    parts = urlsplit(origin)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.path:
        raise PushRefused("The origin is the primary's PUBLIC_BASE_URL, e.g. "
                          "https://dpp.example-manufacturer.eu.", code="origin_invalid")
    source = ReplicationSource.objects.filter(origin=origin).first() or ReplicationSource(
        origin=origin)
    source.name = name[:200]
    secret = new_secret()
    source.wrapped_secret = wrap_secret(secret, source.pk)
    source.full_clean(exclude=["wrapped_secret"])
    source.save()
    return source, f"{source.pk}:{secret}"


# --- receiving ---------------------------------------------------------------------------------

def _authenticated(body: bytes, headers) -> ReplicationSource:
    try:
        source_id = uuid.UUID(headers.get(SOURCE_HEADER, ""))
    except ValueError:
        raise PushUnauthenticated(f"Name the source in {SOURCE_HEADER}.",
                                  code="source_missing") from None
    source = ReplicationSource.objects.filter(pk=source_id).first()
    if source is None:
        raise PushUnauthenticated("Unknown source.", code="source_unknown")
    try:
        Webhook(unwrap_secret(source.wrapped_secret, source.pk)).verify(
            body, {name: headers.get(name, "") for name in
                   ("webhook-id", "webhook-timestamp", "webhook-signature")}, json_parse=False)
    except WebhookVerificationError as exc:
        raise PushUnauthenticated(f"The push's signature does not verify: {exc}.",
                                  code="signature_invalid") from None
    return source


def _named_address(document: dict) -> str | None:
    """The address the signed bytes say they live at: a credential's `id`, a Status List
    Token's `sub`, a DID document's DID."""
    if document["kind"] == Replica.Kind.DID_DOCUMENT:
        try:
            return json_limits.loads(document["body"]).get("id")
        except (ValueError, AttributeError):
            return None
    try:
        _, payload = decode_jwt_parts(document["body"])
    except (ValueError, TypeError):
        return None
    return payload.get("id") or payload.get("sub") if isinstance(payload, dict) else None


def _expected_addresses(source: ReplicationSource, kind: str, path: str) -> set[str]:
    if kind == Replica.Kind.PASSPORT:  # passports signed before /passports/<id> name the API's
        passport_id = path.rsplit("/", 1)[1]
        return {source.origin + path,
                f"{source.origin}/api/v1/passports/{passport_id}/credential"}
    if kind != Replica.Kind.DID_DOCUMENT:
        return {source.origin + path}
    segments = [s for s in path.removesuffix("/did.json").split("/") if s]
    return {did_web_for_url(source.origin, *([] if segments == [".well-known"] else segments))}


def _checked(source: ReplicationSource, document) -> dict:
    if not isinstance(document, dict):
        raise PushRefused("Each document is an object.", code="document_invalid")
    kind, path, body = document.get("kind"), document.get("path"), document.get("body")
    if kind not in PATHS or not isinstance(path, str) or not PATHS[kind].match(path):
        raise PushRefused(f"Not a path this service serves a {kind} at: {path!r}.",
                          code="path_refused")
    if not isinstance(body, str) or not body or len(body) > MAX_DOCUMENT_CHARS:
        raise PushRefused(f"{path}: the body is missing or too large.", code="document_invalid")
    if document.get("media_type") not in MEDIA_TYPES[kind]:
        raise PushRefused(f"{path}: media type {document.get('media_type')!r} refused.",
                          code="document_invalid")
    revision = document.get("revision")
    if not isinstance(revision, str) or not 0 < len(revision) <= 64:
        raise PushRefused(f"{path}: a revision is required.", code="document_invalid")
    if _named_address(document) not in _expected_addresses(source, kind, path):
        raise PushRefused(f"{path}: the signed document names {_named_address(document)!r}, "
                          f"not {source.origin}{path}.", code="address_mismatch")
    embedded, meta = document.get("embedded"), document.get("meta") or {}
    signed_at = parse_datetime(document.get("signed_at") or "")
    if (embedded is not None and not isinstance(embedded, dict)) or not isinstance(meta, dict):
        raise PushRefused(f"{path}: embedded and meta are objects.", code="document_invalid")
    return {"kind": kind, "path": path, "body": body, "media_type": document["media_type"],
            "revision": revision, "embedded": embedded, "meta": meta, "signed_at": signed_at}


@dataclass
class PushOutcome:
    stored: list[str]  # every path held at the pushed revision now
    changed: int  # of them, stored or replaced by this push
    refused: list[dict]  # {"path", "code", "detail"} of each document refused


def push_receive(body: bytes, headers) -> PushOutcome:
    """Authenticate and store one push (see the module's doc). PushUnauthenticated or
    PushRefused, and nothing stored, for a push that is not good as a whole."""
    source = _authenticated(body, headers)
    try:
        push = json_limits.loads(body)
    except ValueError:
        raise PushRefused("The body is not JSON.", code="body_invalid") from None
    if not isinstance(push, dict) or push.get("origin") != source.origin:
        raise PushRefused(f"This source pushes for {source.origin} only.",
                          code="origin_mismatch")
    pushed = push.get("documents")
    if not isinstance(pushed, list) or len(pushed) > MAX_DOCUMENTS:
        raise PushRefused(f"documents: a list of at most {MAX_DOCUMENTS}.",
                          code="body_invalid")
    outcome = PushOutcome([], 0, [])
    checked = []
    for document in pushed:
        try:
            checked.append(_checked(source, document))
        except PushRefused as refusal:  # this one only: the others are stored
            path = document.get("path") if isinstance(document, dict) else None
            outcome.refused.append({"path": path if isinstance(path, str) else None,
                                    "code": refusal.code, "detail": refusal.detail})
    with transaction.atomic():
        source = ReplicationSource.objects.select_for_update().get(pk=source.pk)
        held = {replica.path: replica for replica in Replica.objects.filter(
            source=source, path__in=[document["path"] for document in checked])}
        for document in checked:
            replica = held.get(document["path"])
            outcome.stored.append(document["path"])
            if replica is not None and replica.revision >= document["revision"] and (
                    replica.revision == document["revision"]
                    or document["kind"] != Replica.Kind.DID_DOCUMENT):
                continue  # held already (a batch sent again), or newer than this one
            replica = replica or Replica(source=source, path=document["path"])
            for name in ("kind", "media_type", "body", "embedded", "meta", "revision",
                         "signed_at"):
                setattr(replica, name, document[name])
            replica.writes += 1
            replica.save()
            outcome.changed += 1
        source.last_push_at = timezone.now()
        source.save(update_fields=["last_push_at"])
    return outcome


# --- serving -----------------------------------------------------------------------------------

def _netloc(url: str) -> str | None:
    try:
        parts = urlsplit(url)
        return f"{parts.hostname}:{parts.port}" if parts.port else parts.hostname
    except ValueError:
        return None


def replica_at(path: str, *, host: str | None = None) -> Replica | None:
    """The copy held at `path`: of the source whose host `host` is when there is one (a
    request that names the primary's host, after its name was pointed here), else the most
    recently received."""
    replicas = list(Replica.objects.filter(path=path).select_related("source")
                    .order_by("-received_at")[:10])
    if host:
        for replica in replicas:
            if _netloc(replica.source.origin) == host:
                return replica
    return replicas[0] if replicas else None


def replica_for_url(url: str) -> bytes | None:
    """credentials.mirrors' source: the copy of the document at `url` (matched by host and
    port: a did:web names no scheme), or None."""
    netloc, path = _netloc(url), urlsplit(url).path if isinstance(url, str) else None
    if not netloc or not path:
        return None
    for replica in Replica.objects.filter(path=path).select_related("source"):
        if _netloc(replica.source.origin) == netloc:
            return replica.body.encode()
    return None


@dataclass(frozen=True)
class Silence:
    last_heard: datetime | None
    silent: bool  # the primary is quiet longer than its heartbeat allows


def primary_silence(source: ReplicationSource, now: datetime | None = None) -> Silence:
    now = now or timezone.now()
    limit = settings.REPLICATION_PRIMARY_SILENT_SECONDS
    last = source.last_push_at
    return Silence(last, last is None or (now - last).total_seconds() > limit)


def replica_json(replica: Replica) -> bytes:
    return json.dumps(replica.embedded).encode()
