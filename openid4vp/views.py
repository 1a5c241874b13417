"""The Verifier's endpoints at the site root, for Wallets (no API key, no session):
the Request Object at the `request_uri`, the Response Endpoint at the `response_uri`, and the
QR code of a request's link. Thin: each calls one service."""

from __future__ import annotations

import json

from django.http import HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from core import ratelimit
from core.qr import qr_png, qr_svg
from openid4vp import services, token_exchange
from openid4vp.models import PresentationRequest

REQUEST_OBJECT_MEDIA_TYPE = "application/oauth-authz-req+jwt"
MAX_RESPONSE_BYTES = 1024 * 1024  # a VP Token with a few SD-JWT VCs is far smaller


def _oauth_error(status: int, error: str, description: str) -> JsonResponse:
    response = JsonResponse({"error": error, "error_description": description}, status=status)
    response["Cache-Control"] = "no-store"
    return response


@never_cache
@require_GET
@ratelimit.limit("verify")
def request_object(request, token: str):
    """GET request_uri: the signed Request Object (OpenID4VP 1.0 §5.10.1), or 404 (the Wallet
    stops on any HTTP error, §5.10.2)."""
    try:
        jwt = services.request_object_fetch(token)
    except services.RequestGone as gone:
        return _oauth_error(404, "invalid_request_uri", str(gone))
    return HttpResponse(jwt, content_type=REQUEST_OBJECT_MEDIA_TYPE)


@csrf_exempt  # Wallets post from elsewhere; the request's state/key ties a post to a request
@never_cache
@require_POST
@ratelimit.limit("verify")
def response_endpoint(request):
    """POST response_uri (§8.2): form-encoded `vp_token` + `state`, `response` (JWE), or
    `error`. 200 with {} or {"redirect_uri"} once processed; 400 with an OAuth error naming
    why a response was not accepted."""
    length = request.META.get("CONTENT_LENGTH") or "0"
    if not length.isdigit() or int(length) > MAX_RESPONSE_BYTES:
        return _oauth_error(413 if length.isdigit() else 400, "invalid_request",
                            f"the body must be at most {MAX_RESPONSE_BYTES} bytes")
    if int(length) and request.content_type != "application/x-www-form-urlencoded":
        return _oauth_error(415, "invalid_request",
                            "the response is form-encoded (application/x-www-form-urlencoded)")
    form = {name: request.POST.get(name) for name in request.POST}
    status, body = services.receive(form)
    response = HttpResponse(json.dumps(body), status=status, content_type="application/json")
    response["Cache-Control"] = "no-store"
    return response


@require_GET
@ratelimit.limit("public")
def request_qr(request, token: str, kind: str):
    """The QR code of a request's `openid4vp://` link (the token is already public: it is in
    the link itself)."""
    presentation = PresentationRequest.objects.filter(request_token=token).first()
    if presentation is None:
        return _oauth_error(404, "not_found", "no such request")
    link = services.authorization_request(presentation)
    if kind == "svg":
        return HttpResponse(qr_svg(link, scale=4), content_type="image/svg+xml")
    return HttpResponse(qr_png(link, scale=4), content_type="image/png")


@never_cache
@require_POST
@ratelimit.limit("verify")
def oauth_nonce(request):
    """POST /oauth/nonce: a fresh nonce for the KB-JWTs of a token exchange."""
    response = JsonResponse(token_exchange.nonce_issue())
    response["Cache-Control"] = "no-store"
    return response


@csrf_exempt  # machines post here; the presentation (nonce, aud, key binding) is the credential
@never_cache
@require_POST
@ratelimit.limit("verify")
def oauth_token(request):
    """POST /oauth/token (RFC 8693 token exchange): a verified presentation of mandates for a
    short-lived access token; RFC 6749 §5.2 errors."""
    if request.content_type != "application/x-www-form-urlencoded":
        return _oauth_error(400, "invalid_request",
                            "the request is form-encoded (application/x-www-form-urlencoded)")
    try:
        issued = token_exchange.token_exchange({name: request.POST.get(name)
                                                for name in request.POST})
    except token_exchange.TokenError as refused:
        return _oauth_error(refused.status, refused.error, refused.description)
    response = JsonResponse(issued.body())
    response["Cache-Control"] = "no-store"
    response["Pragma"] = "no-cache"
    return response
