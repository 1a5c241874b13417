"""Serving the primaries' documents read-only at the same paths under this host
(docs/backup.md): a middleware that answers a GET the service itself has no answer for (404)
with the copy held at that path, if any. What the service serves itself always wins (its own
`/.well-known/did.json`, its own organisations); a request whose Host is a primary's (its name
pointed here after it stopped) prefers that primary's copies.

Every answer says where it comes from and how fresh it is: `Link: <primary URL>;
rel="canonical"`, `Backup-Of: <primary origin>`, `Last-Modified` (when the primary signed it,
for status lists), `Primary-Last-Seen` and, once the primary is quiet longer than its heartbeat
allows, `Primary-Unreachable-Since`. The bytes are the primary's, unchanged: a status list
keeps its own `validFrom`/`validUntil` and `ttl`, so a verifier reading it after the primary
stopped sees how old it is, and once `validUntil` passes, that it expired."""

from __future__ import annotations

import hashlib
import json
import re

from django.http import HttpResponse
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.http import http_date

from credentials.signing import decode_jwt_parts, envelope
from passports.services.verification import verify_credential
from replication.models import Replica
from replication.receiving import primary_silence, replica_at

JWT, VC_JSON, HTML = "application/vc+jwt", "application/vc", "text/html"
JSON_TYPES = ("application/vc", "application/ld+json", "application/json")
MAX_AGE = {Replica.Kind.PASSPORT: 3600, Replica.Kind.STATUS_LIST: 5,
           Replica.Kind.DID_DOCUMENT: 300, Replica.Kind.EVIDENCE: 3600}
CONTENT_SECURITY_POLICY = ("default-src 'none'; style-src 'self'; img-src 'self'; "
                           "base-uri 'none'; frame-ancestors 'none'")


# The paths copies are held at (replication.receiving.PATHS): no other 404 costs a query.
REPLICA_PATHS = re.compile(r"^/(?:passports/[0-9a-f-]{36}|status/[0-9a-f-]{36}|"
                           r"evidence/[0-9a-f-]{36}|"
                           r"(?:\.well-known|orgs/[-a-zA-Z0-9_]+)/did\.json)$")


class ReplicaMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if (response.status_code != 404 or request.method not in ("GET", "HEAD")
                or not REPLICA_PATHS.match(request.path)):
            return response
        replica = replica_at(request.path, host=request.get_host())
        if replica is None:
            return response
        return replica_response(request, replica)


def _representation(request, replica: Replica) -> tuple[bytes, str] | None:
    """(body, media type) for what the request accepts; None: nothing acceptable."""
    if replica.kind == Replica.Kind.DID_DOCUMENT:
        return replica.body.encode(), replica.media_type
    offers = [replica.media_type, *JSON_TYPES] if replica.media_type == JWT else \
        [replica.media_type]
    if replica.kind == Replica.Kind.PASSPORT:
        offers.append(HTML)
    wanted = request.get_preferred_type(offers) if request.headers.get("Accept") else offers[0]
    if wanted is None:
        return None
    if wanted == HTML:
        return replica_page(request, replica), "text/html; charset=utf-8"
    if wanted in JSON_TYPES:
        document = replica.embedded if (replica.embedded and wanted != VC_JSON) else envelope(
            replica.body)
        return json.dumps(document).encode(), wanted
    return replica.body.encode(), wanted


def replica_response(request, replica: Replica) -> HttpResponse:
    chosen = _representation(request, replica)
    if chosen is None:
        response = HttpResponse(status=406)
    else:
        body, media_type = chosen
        response = HttpResponse(body, content_type=media_type)
        response["ETag"] = '"' + hashlib.blake2b(body, digest_size=16).hexdigest() + '"'
        response["Cache-Control"] = f"public, max-age={MAX_AGE[replica.kind]}"
        response["Access-Control-Allow-Origin"] = "*"
        if media_type.startswith(HTML):
            response["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
            response["Cache-Control"] = "no-cache"
    source = replica.source
    silence = primary_silence(source)
    response["Vary"] = "Accept"
    response["Link"] = f'<{source.origin}{replica.path}>; rel="canonical"'
    response["Backup-Of"] = source.origin
    if replica.signed_at:
        response["Last-Modified"] = http_date(replica.signed_at.timestamp())
    if silence.last_heard:
        response["Primary-Last-Seen"] = http_date(silence.last_heard.timestamp())
    if silence.silent:
        response["Primary-Unreachable-Since"] = http_date(
            (silence.last_heard or source.created_at).timestamp())
    return response


# --- the page of a passport's back-up copy ---------------------------------------------------

def _status_signed_at(credential: dict) -> object:
    """When the primary last signed the status list this credential's status is in."""
    status = credential.get("credentialStatus")
    entries = status if isinstance(status, list) else [status] if status else []
    for entry in entries:
        url = entry.get("statusListCredential") if isinstance(entry, dict) else None
        if isinstance(url, str):
            path = "/" + url.split("/", 3)[3] if url.count("/") >= 3 else None
            held = Replica.objects.filter(path=path, kind=Replica.Kind.STATUS_LIST).first() \
                if path else None
            if held is not None:
                return held.signed_at
    return None


def _badge(verdict: dict) -> str:
    if verdict.get("verified"):
        return "verified"
    for check in verdict.get("checks", []):
        if check.get("check") == "status" and check.get("detail") == "revoked":
            return "revoked"
    return "failed"


def replica_page(request, replica: Replica) -> bytes:
    """The passport's back-up copy for people: the verdict this service gives it (DID
    document and status list from the copies), when its status was last signed, and whether
    the primary is still heard from."""
    codes = ("en", "nl", "de", "fr")
    language = request.GET.get("lang") or translation.get_language_from_request(request)
    language = language if language in codes else "en"
    _, credential = decode_jwt_parts(replica.body)
    subject = credential.get("credentialSubject") or {}
    product = subject.get("product") if isinstance(subject, dict) else None
    name = (product or {}).get("name") if isinstance(product, dict) else None
    verdict = verify_credential(replica.body)
    silence = primary_silence(replica.source)
    with translation.override(language):
        return render_to_string("replication/replica_page.html", {
            "name": name or replica.path, "badge": _badge(verdict), "verdict": verdict,
            "origin": replica.source.origin, "primary_url": replica.source.origin + replica.path,
            "status_signed_at": _status_signed_at(credential), "silence": silence,
            "state": (replica.meta or {}).get("state"), "checked_at": timezone.now(),
            "languages": [{"code": code, "name": code.upper(), "current": code == language,
                           "url": f"?lang={code}"} for code in codes]},
            request=request).encode()
