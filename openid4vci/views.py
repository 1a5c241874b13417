"""The issuer's protocol endpoints at the site root: plain Django views (not the partner API),
answering JSON with OAuth-style errors, exempt from CSRF (no cookies are involved: wallets use
pre-authorized codes and bearer tokens), open to any origin (CORS), and rate limited per client
address. Each view parses its input, calls one service and renders the result."""

from __future__ import annotations

import functools
import json
import time
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_http_methods

from core import ratelimit
from openid4vci.configurations import CONFIGURATIONS
from openid4vci.services import (
    authorization,
    dpop,
    errors,
    issuance,
    metadata,
    offers,
    proofs,
    tokens,
    x509_issuer,
)
from wallet.tenancy.models import Organisation

RATE_SCOPE = "openid4vci"
METADATA_MAX_AGE = 300  # seconds wallets and CDNs may keep issuer metadata
CORS_HEADERS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Headers": "Authorization, Content-Type, DPoP, OAuth-Client-Attestation, "
                                    "OAuth-Client-Attestation-PoP",
    "Access-Control-Expose-Headers": "WWW-Authenticate, Retry-After, DPoP-Nonce",
    "Access-Control-Max-Age": "600",
}


def json_response(body: dict, status: int = 200, *, no_store: bool = True,
                  headers: dict | None = None) -> HttpResponse:
    response = HttpResponse(json.dumps(body, ensure_ascii=False), status=status,
                            content_type="application/json")
    if no_store:  # tokens, nonces, credentials and their errors (RFC 6749 §5.1)
        response["Cache-Control"] = "no-store"
    for name, value in (headers or {}).items():
        response[name] = value
    return response


def error_response(error: errors.OAuthError) -> HttpResponse:
    return json_response(error.body(), error.status, headers=error.headers)


def endpoint(*methods: str):
    """A protocol endpoint: CORS (with preflight), rate limit, allowed methods, and OAuthError
    rendered as the JSON error it describes."""
    def decorate(view):
        @csrf_exempt
        @functools.wraps(view)
        def wrapped(request, *args, **kwargs):
            if request.method == "OPTIONS":
                response = HttpResponse(status=204)
                response["Access-Control-Allow-Methods"] = ", ".join((*methods, "OPTIONS"))
            else:
                response = _answer(view, methods, request, *args, **kwargs)
            for name, value in CORS_HEADERS.items():
                response[name] = value
            return response
        return wrapped
    return decorate


def _answer(view, methods, request, *args, **kwargs) -> HttpResponse:
    retry_after = ratelimit.rate_limited(request, RATE_SCOPE)
    if retry_after is not None:
        return error_response(errors.OAuthError(
            "temporarily_unavailable", f"too many requests from your address; retry in "
            f"{retry_after} s", status=429, headers={"Retry-After": str(retry_after)}))
    if request.method not in methods:
        return error_response(errors.OAuthError(
            "invalid_request", f"method {request.method} not allowed; use "
            f"{' or '.join(methods)}", status=405, headers={"Allow": ", ".join(methods)}))
    length = request.META.get("CONTENT_LENGTH") or "0"
    if not length.isdigit() or int(length) > settings.API_MAX_BODY_BYTES:
        return error_response(errors.OAuthError(
            "invalid_request", f"the body is larger than {settings.API_MAX_BODY_BYTES} bytes",
            status=413))
    try:
        return view(request, *args, **kwargs)
    except errors.OAuthError as error:
        return error_response(error)


def _issuer(slug: str) -> Organisation:
    organisation = Organisation.objects.filter(slug=slug).first()
    if organisation is None:
        raise errors.OAuthError("invalid_request", f"no credential issuer {slug} here",
                                status=404)
    return organisation


# --- metadata ----------------------------------------------------------------------------------

@endpoint("GET", "HEAD")
def issuer_metadata(request, slug: str):
    """Credential Issuer Metadata (OpenID4VCI §12.2.2): at the well-known path inserted before
    the issuer's path, and appended to it for wallets that do so."""
    return _metadata(metadata.issuer_metadata(_issuer(slug)))


@endpoint("GET", "HEAD")
def authorization_server_metadata(request, slug: str):
    """OAuth 2.0 Authorization Server Metadata (RFC 8414 §3)."""
    return _metadata(metadata.authorization_server_metadata(_issuer(slug)))


@endpoint("GET", "HEAD")
def jwt_vc_issuer_metadata(request, slug: str):
    """JWT VC Issuer Metadata (SD-JWT VC §5): the issuer's keys, for wallets that find the key
    of an https `iss` there."""
    return _metadata(x509_issuer.jwt_vc_issuer_metadata(_issuer(slug)))


def _metadata(document: dict) -> HttpResponse:
    response = json_response(document, no_store=False)
    response["Cache-Control"] = f"public, max-age={METADATA_MAX_AGE}"
    return response


# --- offers, tokens, nonces, credentials -------------------------------------------------------

@endpoint("GET")
def credential_offer(request, slug: str):
    """The Credential Offer behind a credential_offer_uri (§4.1.3), while it can be redeemed."""
    document = offers.offer_by_reference(issuer_slug=slug, handle=request.GET.get("offer", ""))
    if document is None:
        raise errors.OAuthError("invalid_request", "credential offer unknown, expired or "
                                                   "already redeemed", status=404)
    return json_response(document)


class WalletRedirect(HttpResponseRedirect):
    """Back to the wallet: its redirect_uri may have a private-use scheme (RFC 8252 §7.1),
    checked when the request was pushed (authorization._redirect_uri)."""

    def __init__(self, to: str):
        self.allowed_schemes = [urlsplit(to).scheme]
        super().__init__(to)


@endpoint("POST")
def pushed_authorization_request(request, slug: str):
    """Pushed authorization request endpoint (RFC 9126 §2): 201 with the request_uri."""
    if request.content_type != "application/x-www-form-urlencoded":
        raise errors.invalid_request("the pushed request must be "
                                     "application/x-www-form-urlencoded (RFC 9126 §2.1)")
    answer = authorization.authorization_push(issuer=_issuer(slug), params=request.POST,
                                              dpop_proof=request.headers.get("DPoP"),
                                              client_attestation=_client_attestation(request))
    return json_response(answer, 201)


@require_http_methods(["GET", "POST"])
@csrf_protect
def authorize(request, slug: str):
    """Authorization endpoint (RFC 6749 §3.1) for pushed requests only: the person logs in at
    the service (the admin login), sees what the wallet asks for and approves or declines; the
    browser then goes back to the wallet's redirect_uri."""
    try:
        issuer = _issuer(slug)
        pushed = authorization.authorization_pending(
            issuer=issuer, client_id=request.GET.get("client_id", ""),
            request_uri=request.GET.get("request_uri", ""))
    except errors.OAuthError as error:  # never redirected: the request is not one we know
        return render(request, "openid4vci/authorize_error.html",
                      {"error": error.error, "description": error.description},
                      status=error.status)
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path(), login_url=reverse("admin:login"))
    choices = authorization.consent_choices(pushed, request.user)
    if request.method == "POST":
        try:
            back = authorization.authorization_decide(
                pushed_id=pushed.pk, user=request.user,
                approve=request.POST.get("decision") == "approve",
                mandate_id=request.POST.get("mandate"))
        except errors.OAuthError as error:
            return render(request, "openid4vci/authorize_error.html",
                          {"error": error.error, "description": error.description},
                          status=error.status)
        return WalletRedirect(back)
    return render(request, "openid4vci/authorize.html", {
        "issuer": issuer, "pushed": pushed, "choices": choices,
        "configuration": CONFIGURATIONS[pushed.configuration]})


@endpoint("POST")
def token(request, slug: str):
    """Token endpoint (§6): pre-authorized code (+ tx_code) → access token."""
    if request.content_type != "application/x-www-form-urlencoded":
        raise errors.invalid_request("the token request must be "
                                     "application/x-www-form-urlencoded (RFC 6749 §4.1.3)")
    issuer = _issuer(slug)
    grant = tokens.token_redeem(issuer=issuer, params=request.POST,
                                dpop=request.headers.get("DPoP"),
                                client_attestation=_client_attestation(request))
    return json_response(grant.response(), headers=_dpop_nonce(issuer))


@endpoint("POST")
def nonce(request, slug: str):
    """Nonce endpoint (§7): a fresh c_nonce, not cacheable."""
    issuer = _issuer(slug)
    return json_response({"c_nonce": proofs.nonce_issue(issuer_slug=issuer.slug)},
                         headers=_dpop_nonce(issuer))  # HAIP 1.0 §4: DPoP-Nonce here too


@endpoint("POST")
def credential(request, slug: str):
    """Credential endpoint (§8): 200 with the credential, or 202 with a transaction id."""
    return _issuance_answer(issuance.credential_request, request, slug)


@endpoint("POST")
def deferred_credential(request, slug: str):
    """Deferred credential endpoint (§9): 200 when signed, 202 while the review is open."""
    return _issuance_answer(issuance.deferred_credential_request, request, slug)


def _issuance_answer(service, request, slug: str) -> HttpResponse:
    issuer = _issuer(slug)
    outcome = service(issuer=issuer, authorization=request.headers.get("Authorization"),
                      body=request.body, content_type=request.content_type,
                      dpop_proof=request.headers.get("DPoP"))
    status, body = outcome.response()
    return json_response(body, status, headers=_dpop_nonce(issuer))


def _client_attestation(request) -> tuple[str | None, str | None]:
    return (request.headers.get("OAuth-Client-Attestation"),
            request.headers.get("OAuth-Client-Attestation-PoP"))


def _dpop_nonce(issuer: Organisation) -> dict:
    """The DPoP nonce for the wallet's next proof (RFC 9449 §8.2), saving it a challenge."""
    return {"DPoP-Nonce": dpop.nonce_issue(issuer_slug=issuer.slug, now=time.time())}

