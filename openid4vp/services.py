"""OpenID4VP 1.0 Verifier: making presentation requests, serving their request objects, and
receiving the Wallet's responses at the `response_uri`.

A request is a signed Request Object (JAR, RFC 9101; `typ: oauth-authz-req+jwt`, `x5c`, ES256)
under the `x509_hash` or `x509_san_dns` client id, passed by reference (`request_uri`),
answered with `direct_post` or `direct_post.jwt` (HAIP 1.0). The first response that can be
tied to a request decides its outcome, which the request keeps; a request is never answered
twice, and a presentation is never accepted twice."""

from __future__ import annotations

import json
import logging
import secrets
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import urlencode, urlsplit, urlunsplit

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from core import events
from credentials import jose, jwe
from credentials.keys import encryption_key_from_text
from credentials.x509 import X509_SAN_DNS
from openid4vp import dcql
from openid4vp.evaluation import (
    ResponseMalformed,
    evaluate,
    parse_vp_token,
    presentation_digest,
)
from openid4vp.identity import verifier_client_id, verifier_identity
from openid4vp.models import PresentationEvent, PresentationRequest, ReceivedPresentation
from wallet.tenancy.api_tokens import key_hash

log = logging.getLogger(__name__)

REQUEST_OBJECT_TYP = "oauth-authz-req+jwt"  # RFC 9101 §10.8, OpenID4VP 1.0 §5
STATIC_AUDIENCE = "https://self-issued.me/v2"  # OpenID4VP 1.0 §5.8, static discovery
SCHEME = "openid4vp://"  # OpenID4VP 1.0 §13.1.2 (Wallet invocation)
ALG_VALUES = ["ES256", "EdDSA"]  # what the engine verifies for issuer JWTs and KB-JWTs
ENC_VALUES = ["A128GCM", "A256GCM"]  # HAIP 1.0: both, with ECDH-ES on P-256
Status = PresentationRequest.Status
Kind = PresentationEvent.Kind


class ResponseRefused(Exception):
    """What the Response Endpoint answers a Wallet when it does not accept a response:
    an OAuth error (`invalid_request` or `access_denied`) and a description naming why."""

    def __init__(self, error: str, description: str, *, code: str):
        super().__init__(description)
        self.error, self.description, self.code = error, description, code

    def body(self) -> dict:
        return {"error": self.error, "error_description": self.description}


# --- making a request --------------------------------------------------------------------------

def _random() -> str:
    return secrets.token_urlsafe(32)  # 256 bits, URL-safe characters only (§5.2)


def response_uri() -> str:
    return settings.PUBLIC_BASE_URL + reverse("openid4vp-response")


def request_uri(request: PresentationRequest) -> str:
    return settings.PUBLIC_BASE_URL + reverse("openid4vp-request-object",
                                              args=[request.request_token])


def authorization_request(request: PresentationRequest) -> str:
    """The link (and QR code content) that invokes the Wallet: client_id and request_uri only
    (§5.10, RFC 9101 §5.2)."""
    return SCHEME + "?" + urlencode({"client_id": request.client_id,
                                     "request_uri": request_uri(request)})


def links(request: PresentationRequest) -> dict:
    """What to show a holder: the wallet link, where it points, and its QR codes."""
    qr = settings.PUBLIC_BASE_URL + reverse("openid4vp-request-qr",
                                            args=[request.request_token, "svg"])
    return {"client_id": request.client_id,
            "authorization_request": authorization_request(request),
            "request_uri": request_uri(request), "qr_svg": qr,
            "qr_png": qr.removesuffix(".svg") + ".png"}


def client_metadata(encryption_jwk: dict | None) -> dict:
    """Verifier metadata for the request (§5.1, §11.1, Annex B.3.4)."""
    metadata = {"vp_formats_supported": {dcql.FORMAT: {"sd-jwt_alg_values": ALG_VALUES,
                                                       "kb-jwt_alg_values": ALG_VALUES}}}
    if encryption_jwk is not None:
        metadata["jwks"] = {"keys": [encryption_jwk]}
        metadata["encrypted_response_enc_values_supported"] = ENC_VALUES
    return metadata


@transaction.atomic
def presentation_request_create(*, organisation, dcql_query: dict, purpose: str,
                                response_mode: str = PresentationRequest.ResponseMode
                                .DIRECT_POST_JWT, redirect_uri: str = "", created_by=None,
                                api_token=None, context: dict | None = None,
                                accepted_issuers: list[str] | None = None,
                                with_read_secret: bool = False,
                                ) -> tuple[PresentationRequest, str | None]:
    """A new request for the presentations `dcql_query` describes, signed and ready to fetch.
    Returns (the request, the one-time read secret when `with_read_secret`). Raises
    dcql.DcqlError for a query this Verifier cannot ask, ImproperlyConfigured for a client id
    the Verifier's certificate or response_uri cannot stand for; nothing is stored then.

    The request keeps the client id it was made under: a wallet's KB-JWT `aud` must equal it
    even if OPENID4VP_CLIENT_ID_PREFIX changes before the answer comes."""
    dcql.validate_query(dcql_query)
    if response_mode not in PresentationRequest.ResponseMode.values:
        raise dcql.DcqlError(f"response_mode: {response_mode!r} is not supported "
                             f"(direct_post, direct_post.jwt)", field="response_mode")
    if not purpose or not purpose.strip():
        raise dcql.DcqlError("purpose: say why the data is asked for", field="purpose")
    identity = verifier_identity()
    client_id = verifier_client_id(identity)
    now = timezone.now()
    request = PresentationRequest(
        organisation=organisation, created_by=created_by, api_token=api_token,
        purpose=purpose.strip(), dcql_query=dcql_query, response_mode=response_mode,
        client_id=client_id, request_token=_random(), state=_random(),
        nonce=_random(), redirect_uri=redirect_uri,
        context={**(context or {}), **({"accepted_issuers": accepted_issuers}
                                        if accepted_issuers is not None else {})},
        expires_at=now + timedelta(seconds=settings.OPENID4VP_REQUEST_SECONDS))
    if response_mode == PresentationRequest.ResponseMode.DIRECT_POST_JWT:
        key = jwe.EcdhKey.generate(kid=secrets.token_urlsafe(12))
        request.encryption_jwk, request.encryption_kid = key.public_jwk(), key.kid
        request.wrapped_encryption_key = key.wrap(_kek())
    read_secret = _random() if with_read_secret else None
    if read_secret:
        request.read_secret_hash = key_hash(read_secret)
    request.request_object = _sign_request_object(request, identity, now)
    request.full_clean(exclude=["request_object", "wrapped_encryption_key", "encryption_jwk",
                                "encryption_kid"])
    request.save()
    _event(request, Kind.CREATED, f"{response_mode}, {len(dcql_query['credentials'])} "
                                  f"credential queries")
    return request, read_secret


def _sign_request_object(request: PresentationRequest, identity, now) -> str:
    """The Request Object (§5, RFC 9101): every Authorization Request parameter, signed with the
    certificate's key, the certificate in `x5c` (§5.9.3 x509_hash, x509_san_dns)."""
    claims = {
        "iss": request.client_id,  # JAR habit; §5: a Wallet ignores it
        "aud": STATIC_AUDIENCE,
        "response_type": "vp_token",
        "client_id": request.client_id,
        "response_mode": request.response_mode,
        "response_uri": response_uri(),
        "nonce": request.nonce,
        "state": request.state,
        "dcql_query": request.dcql_query,
        "client_metadata": client_metadata(request.encryption_jwk),
        "iat": int(now.timestamp()),
        "exp": int(request.expires_at.timestamp()),
    }
    _check_response_uri_host(claims["client_id"], claims["response_uri"])
    return jose.sign(claims, identity.signer, {"typ": REQUEST_OBJECT_TYP, "x5c": identity.x5c})


def _check_response_uri_host(client_id: str, uri: str) -> None:
    """§5.9.3 x509_san_dns: unless a Wallet lists this Verifier as trusted, the host of the URI
    it answers at must be the client id's DNS name. Both come from PUBLIC_BASE_URL, so this
    fails only on a broken configuration, and then before anything is signed."""
    prefix, _, dns_name = client_id.partition(":")
    host = urlsplit(uri).hostname
    if prefix == X509_SAN_DNS and host != dns_name.lower().rstrip("."):
        raise ImproperlyConfigured(f"{X509_SAN_DNS}: the response_uri {uri} is not on {dns_name}, "
                                   f"the DNS name of the client id {client_id}; wallets would "
                                   f"refuse the request")


def _kek() -> bytes:
    return encryption_key_from_text(settings.KEY_ENCRYPTION_KEY)


def _event(request: PresentationRequest, kind: str, detail: str = "") -> None:
    PresentationEvent.objects.create(request=request, kind=kind, detail=detail[:2000])


# --- the request object ------------------------------------------------------------------------

class RequestGone(LookupError):
    """No such request object, or no longer: the Wallet must stop (§5.10.2)."""


def request_object_fetch(token: str) -> str:
    """The signed Request Object for the Wallet that follows `request_uri`. Served while the
    request waits for its answer and has not expired."""
    request = PresentationRequest.objects.filter(request_token=token).first()
    if request is None:
        raise RequestGone("no such request")
    if request.current_status != Status.PENDING:
        raise RequestGone(f"the request is {request.current_status}")
    if request.fetched_at is None:
        updated = PresentationRequest.objects.filter(pk=request.pk, fetched_at=None).update(
            fetched_at=timezone.now())
        if updated:
            _event(request, Kind.FETCHED)
    return request.request_object


# --- the response ------------------------------------------------------------------------------

@dataclass
class Received:
    """What the Response Endpoint answers after it processed a response (200, §8.2)."""

    body: dict


def authorization_response_receive(form: dict[str, str]) -> Received:
    """Process a Wallet's Authorization Response (a form post to the `response_uri`): a VP Token
    with `state` (direct_post), an encrypted `response` (direct_post.jwt) or an error. Raises
    ResponseRefused with the OAuth error to answer; the request (when the response can be tied
    to one) records the outcome either way."""
    if "response" in form:
        request_id, parameters = _decrypted(form["response"])
    else:
        parameters = form
        request_id = _request_id_for_state(parameters.get("state"))
    return _process(request_id, parameters, encrypted="response" in form)


def _request_id_for_state(state) -> object:
    if not isinstance(state, str) or not state:
        raise ResponseRefused("invalid_request", "state: missing", code="state")
    request_id = (PresentationRequest.objects.filter(state=state)
                  .values_list("pk", flat=True).first())
    if request_id is None:
        raise ResponseRefused("invalid_request", "state: unknown (no such request)",
                              code="state")
    return request_id


def _decrypted(token: str) -> tuple[object, dict]:
    """(the request, the decrypted response parameters) of a direct_post.jwt response. The
    request is found by the JWE's `kid` (its key was made for that request alone)."""
    header = jwe.peek_header(token)
    if header is None:
        raise ResponseRefused("invalid_request", "response: not a compact JWE",
                              code="malformed")
    kid = header.get("kid")
    request = (PresentationRequest.objects.filter(encryption_kid=kid).first()
               if isinstance(kid, str) and kid else None)
    if request is None:
        raise ResponseRefused("invalid_request", "response: the JWE names no key of a request "
                                                 "(kid missing or unknown)", code="state")
    if request.status != Status.PENDING:  # answered: its key is gone, the answer stands
        _event(request, Kind.REFUSED, f"a further response after the request was "
                                      f"{request.status}")
        raise ResponseRefused("invalid_request", f"the request was already answered "
                                                 f"({request.status}); a request is answered "
                                                 f"once", code="already_answered")
    if timezone.now() >= request.expires_at:  # its key may be gone (expired_keys_forget)
        return request.pk, {"state": request.state}  # _answer records and refuses the expiry
    try:
        key = jwe.EcdhKey.unwrap(bytes(request.wrapped_encryption_key), _kek(), kid)
        plaintext = jwe.decrypt(token, key).plaintext
        parameters = jose.loads_json(plaintext)
    except jwe.JweError as exc:
        _fail_attributed(request.pk, "jwe", f"response: {exc.detail}")
        raise ResponseRefused("invalid_request", f"response: {exc.detail}", code="jwe") \
            from None
    except ValueError as exc:  # the plaintext is not JSON (or the key could not unwrap)
        _fail_attributed(request.pk, "jwe", f"response: the decrypted payload is not JSON "
                                            f"({exc})")
        raise ResponseRefused("invalid_request", "response: the decrypted payload is not a "
                                                 "JSON object", code="jwe") from None
    if not isinstance(parameters, dict):
        _fail_attributed(request.pk, "jwe", "response: the decrypted payload is not a JSON "
                                            "object")
        raise ResponseRefused("invalid_request", "response: the decrypted payload is not a "
                                                 "JSON object", code="jwe")
    if parameters.get("state") != request.state:
        _fail_attributed(request.pk, "state", "response: the encrypted state is not the "
                                              "state of the request whose key it used")
        raise ResponseRefused("invalid_request", "state: does not match the request the "
                                                 "response was encrypted for", code="state")
    return request.pk, parameters


def _fail_attributed(request_id, code: str, reason: str) -> None:
    """Record a failure on a pending request (one answer per request, like any other)."""
    with transaction.atomic():
        request = PresentationRequest.objects.select_for_update().get(pk=request_id)
        if request.status == Status.PENDING:
            _finish(request, Status.FAILED if timezone.now() < request.expires_at
                    else Status.EXPIRED, code=code, reason=reason)


def _process(request_id, parameters: dict, *, encrypted: bool) -> Received:
    with transaction.atomic():  # the outcome is saved before a refusal is raised
        answer = _answer(request_id, parameters, encrypted=encrypted)
    if isinstance(answer, ResponseRefused):
        raise answer
    return answer


def _answer(request_id, parameters: dict, *, encrypted: bool) -> Received | ResponseRefused:
    request = PresentationRequest.objects.select_for_update().get(pk=request_id)
    if request.status != Status.PENDING:
        _event(request, Kind.REFUSED, f"a further response after the request was "
                                      f"{request.status}")
        return ResponseRefused("invalid_request", f"the request was already answered "
                                                  f"({request.status}); a request is answered "
                                                  f"once", code="already_answered")
    if timezone.now() >= request.expires_at:
        _finish(request, Status.EXPIRED, code="expired",
                reason="the response came after the request expired")
        return ResponseRefused("invalid_request", "the request has expired", code="expired")
    if "error" in parameters:
        return _wallet_error(request, parameters)
    if (request.response_mode == PresentationRequest.ResponseMode.DIRECT_POST_JWT
            and not encrypted):
        return _refuse(request, "invalid_request", "response_mode",
                       "this request asked for an encrypted response (direct_post.jwt): a "
                       "vp_token must come inside `response`")
    try:
        vp_token = parse_vp_token(parameters.get("vp_token"), request.dcql_query)
    except ResponseMalformed as exc:
        return _refuse(request, "invalid_request", "malformed", str(exc))
    digests = {presentation_digest(p): query_id for query_id, values in vp_token.items()
               for p in values}
    if replayed := ReceivedPresentation.objects.filter(digest__in=list(digests)).first():
        return _refuse(request, "invalid_request", "replay",
                       f"replay: this presentation was already received (for request "
                       f"{replayed.request_id})")
    try:
        with transaction.atomic():
            ReceivedPresentation.objects.bulk_create(
                [ReceivedPresentation(digest=digest, request=request,
                                      credential_query_id=query_id)
                 for digest, query_id in digests.items()])
    except IntegrityError:  # the same presentation, at the same moment, for another request
        return _refuse(request, "invalid_request", "replay",
                       "replay: this presentation was received twice at once")
    outcome = evaluate(vp_token, query=request.dcql_query, client_id=request.client_id,
                       nonce=request.nonce,
                       accepted_issuers=request.context.get("accepted_issuers"))
    if not outcome.ok:
        _finish(request, Status.FAILED, code=outcome.code, reason=outcome.reason,
                result=outcome.result())
        return ResponseRefused(outcome.wallet_error, outcome.reason, code=outcome.code)
    _finish(request, Status.VERIFIED, result=outcome.result())
    return Received(_success_body(request))


def _refuse(request, error: str, code: str, reason: str) -> ResponseRefused:
    _finish(request, Status.FAILED, code=code, reason=reason)
    return ResponseRefused(error, reason, code=code)


def _wallet_error(request: PresentationRequest, parameters: dict) -> Received:
    """§8.5 error response: the Wallet (or its user) declined; recorded, answered 200."""
    error = str(parameters.get("error"))[:64]
    description = str(parameters.get("error_description") or "")[:500]
    _finish(request, Status.FAILED, code="wallet_error", wallet_error=error,
            reason=f"the wallet answered {error}" + (f": {description}" if description else ""))
    return Received(_success_body(request))


def _finish(request: PresentationRequest, status: str, *, code: str = "", reason: str = "",
            result: dict | None = None, wallet_error: str = "") -> None:
    request.status, request.error_code, request.reason = status, code, reason[:4000]
    request.wallet_error = wallet_error
    request.result = result or {}
    request.responded_at = timezone.now()
    request.wrapped_encryption_key = None  # answered: nothing more to decrypt, ever
    if status == Status.VERIFIED and request.redirect_uri:
        request.response_code = _random()
    request.save(update_fields=["status", "error_code", "reason", "wallet_error", "result",
                                "responded_at", "response_code", "wrapped_encryption_key"])
    kind = {Status.VERIFIED: Kind.VERIFIED, Status.EXPIRED: Kind.EXPIRED}.get(status,
                                                                              Kind.FAILED)
    _event(request, kind, reason or code)
    events.publish(events.PRESENTATION_COMPLETED,
                   organisations=[request.organisation_id] if request.organisation_id else [],
                   payload={"request": str(request.pk), "status": status, "code": code})
    log.info("presentation request %s %s%s", request.pk, status, f" ({code})" if code else "")


def _success_body(request: PresentationRequest) -> dict:
    """{} or {"redirect_uri": ...} with a fresh response code (§8.2: the redirect carries a
    fresh random value; the party that asked sees it in the result to match the redirect)."""
    if not request.redirect_uri:
        return {}
    if not request.response_code:
        request.response_code = _random()
        request.save(update_fields=["response_code"])
    parts = urlsplit(request.redirect_uri)
    query = "&".join(filter(None, [parts.query,
                                   urlencode({"response_code": request.response_code})]))
    return {"redirect_uri": urlunsplit(parts._replace(query=query))}


def receive(form: dict[str, str]) -> tuple[int, dict]:
    """(HTTP status, JSON body) for the Response Endpoint: 200 with {} or a redirect_uri once
    processed, 400 with an OAuth error otherwise."""
    try:
        return 200, authorization_response_receive(form).body
    except ResponseRefused as refused:
        return 400, refused.body()


def expired_keys_forget(now=None) -> int:
    """Delete the private keys of encrypted requests that expired unanswered: nothing may be
    decrypted with them any more, so they are not kept (a response after expiry is refused as
    expired, as before). Returns how many were deleted."""
    return (PresentationRequest.objects
            .filter(status=Status.PENDING, expires_at__lte=now or timezone.now(),
                    wrapped_encryption_key__isnull=False)
            .update(wrapped_encryption_key=None))


# --- reading -----------------------------------------------------------------------------------

def request_of_secret(request_id, secret: str) -> PresentationRequest | None:
    """The request whose one-time read secret is `secret` (compared as hashes), or None."""
    if not secret:
        return None
    return PresentationRequest.objects.filter(
        pk=request_id, read_secret_hash=key_hash(secret)).exclude(read_secret_hash="").first()


def result_read_once(request: PresentationRequest) -> bool:
    """Mark the secret-guarded result read; False when it already was (read exactly once)."""
    updated = PresentationRequest.objects.filter(pk=request.pk, read_at=None).update(
        read_at=timezone.now())
    if updated:
        _event(request, Kind.READ)
    return bool(updated)


def json_dumps(value) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False, sort_keys=True)
