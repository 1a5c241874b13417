"""Public addresses of evidence: each evidence credential at its own `id` (what passports link
by hash), and an organisation's identity credential beside its DID document (what another
service reads to trust its credentials: wallet.business.foreign_trust)."""

from __future__ import annotations

import hashlib
import uuid

from django.http import HttpResponse
from django.utils.cache import get_conditional_response
from django.views.decorators.http import require_safe

from core import ratelimit
from credentials import signing
from passports.models import EvidenceCredential
from passports.views import CREDENTIAL_MAX_AGE, JSON, JWT, _problem, negotiate
from wallet.tenancy.legal_models import WalletCredential

OFFERS = (JWT, JSON, "application/ld+json", "application/json")


def _credential_response(request, jwt: str) -> HttpResponse:
    wanted = negotiate(request.headers.get("Accept"), OFFERS)
    if wanted is None:
        return _problem(406, "not_acceptable", "Not acceptable", f"Available: {', '.join(OFFERS)}.")
    if wanted == JWT:
        response = HttpResponse(jwt, content_type=JWT)
    else:
        import json

        response = HttpResponse(json.dumps(signing.envelope(jwt)), content_type=wanted)
    etag = '"' + hashlib.blake2b(response.content, digest_size=16).hexdigest() + '"'
    response["ETag"] = etag
    response["Vary"] = "Accept"
    response["Access-Control-Allow-Origin"] = "*"
    return get_conditional_response(request, etag=etag, response=response)


@require_safe
@ratelimit.limit("public")
def evidence_credential(request, credential_id: str):
    """`/evidence/<id>`: a signed evidence credential, for anyone (vc+jwt or JSON)."""
    try:
        key = uuid.UUID(credential_id)
    except ValueError:
        key = None
    jwt = (EvidenceCredential.objects.filter(pk=key).exclude(jwt="")
           .values_list("jwt", flat=True).first() if key else None)
    if not jwt:
        return _problem(404, "unknown_credential", "Not found", "No credential has this id.")
    response = _credential_response(request, jwt)
    response["Cache-Control"] = f"public, max-age={CREDENTIAL_MAX_AGE}"
    return response


@require_safe
@ratelimit.limit("public")
def organisation_identity(request, slug: str):
    """`/orgs/<slug>/identity`: the organisation's current UNTP Digital Identity Anchor
    credential from its trust anchor (public: it says who the DID belongs to)."""
    jwt = (WalletCredential.objects
           .filter(holder__slug=slug, kind=WalletCredential.Kind.IDENTITY_ANCHOR,
                   state=WalletCredential.State.ACTIVE)
           .order_by("-created_at").values_list("credential", flat=True).first())
    if not jwt:
        return _problem(404, "no_identity_credential", "Not found",
                        "This organisation holds no identity credential.")
    response = _credential_response(request, jwt)
    response["Cache-Control"] = "public, max-age=60"
    return response
