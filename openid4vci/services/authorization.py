"""The authorization code flow (OpenID4VCI 1.0 §5, HAIP 1.0 §4): wallet-initiated issuance with
pushed authorization requests (RFC 9126), PKCE with S256 (RFC 7636), the person logging in at
the service and consenting, and the code redeemed at the token endpoint (DPoP-bound when the
wallet asks so, RFC 9449 §10).

1. The wallet pushes its request (`authorization_push`): which configuration (by `scope` or
   `authorization_details`), its `redirect_uri`, `state` and PKCE challenge, and the
   `issuer_state` when it starts from an organisation's Credential Offer. It gets a
   one-time `request_uri` (stored hashed) that lives PUSHED_SECONDS.
2. The person's browser opens the authorization endpoint with that `request_uri`; after the
   service's login, the person sees what would be issued and approves or declines
   (`authorization_decide`). Approval takes the offer the wallet started from (when it is the
   person's mandate) or makes a CredentialOffer of the person's own source (a mandate they
   hold from the issuer), and a one-time code (stored hashed, CODE_SECONDS);
   the browser goes back to the wallet with `code`, `state` and `iss` (RFC 9207).
3. The wallet redeems the code with its PKCE verifier (`code_redeem`) for an access token on
   that offer; from there on the flow is the one of pre-authorized offers."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets
from datetime import datetime, timedelta
from urllib.parse import urlencode, urlsplit

from django.db import transaction
from django.utils import timezone

from credentials.encoding import b64url_encode
from openid4vci.configurations import CONFIGURATIONS, offered_by
from openid4vci.models import AuthorizationRequest, CredentialOffer
from openid4vci.services import dpop, errors
from openid4vci.services.client_attestation import client_authenticate
from openid4vci.services.metadata import endpoint, issuer_identifier
from openid4vci.services.offers import (
    offer_create,
    offer_event,
    offer_for_a_person,
    offer_of_issuer_state,
)
from wallet.tenancy.api_tokens import key_hash
from wallet.tenancy.authority import NotAuthorised, actor_of
from wallet.tenancy.legal_models import Mandate
from wallet.tenancy.models import Organisation

AUTHORIZATION_CODE_GRANT = "authorization_code"
REQUEST_URI_PREFIX = "urn:ietf:params:oauth:request_uri:"
PUSHED_SECONDS = 120  # RFC 9126 §2.2: short-lived
CODE_SECONDS = 60  # RFC 6749 §4.1.2: a maximum of 10 minutes is recommended; less is better
# What a person can ask for from their wallet: a mandate they hold. (Passports, roles and
# business identities are offered by the organisation, pre-authorized.)
WALLET_INITIATED = (CredentialOffer.Configuration.MANDATE,)
_PKCE_CHARACTERS = re.compile(r"^[A-Za-z0-9._~-]{43,128}$")  # RFC 7636 §4.1
Status = AuthorizationRequest.Status


def pkce_challenge(verifier: str) -> str:
    """S256 (RFC 7636 §4.2): base64url of the SHA-256 of the verifier's ASCII."""
    return b64url_encode(hashlib.sha256(verifier.encode("ascii")).digest())


# --- 1. the pushed request -----------------------------------------------------------------------

def authorization_push(*, issuer: Organisation, params, dpop_proof: str | None = None,
                       client_attestation: tuple = (None, None),
                       now: datetime | None = None) -> dict:
    """Store a pushed authorization request (RFC 9126 §2.1) and answer `request_uri` and
    `expires_in`; the wallet authenticated by its Wallet Attestation when the issuer requires
    one (`client_attestation`: the two headers). Raises OAuthError invalid_client /
    invalid_request / invalid_scope / invalid_authorization_details naming the fault, or
    DPoPFailure; nothing is stored then."""
    now = now or timezone.now()
    client_authenticate(issuer_identifier=issuer_identifier(issuer),
                        client_id=params.get("client_id") or "", attestation=client_attestation[0],
                        pop=client_attestation[1], now=now.timestamp())
    for name in params:
        if len(params.getlist(name)) > 1:
            raise errors.invalid_request(f"parameter {name} is given more than once")
    if "request_uri" in params or "request" in params:
        raise errors.invalid_request("a pushed request carries its parameters itself, not "
                                     "request_uri or request (RFC 9126 §2.1)")
    if params.get("response_type") != "code":
        raise errors.OAuthError("unsupported_response_type",
                                "response_type must be code (authorization code flow)")
    client_id = params.get("client_id") or ""
    if not client_id or len(client_id) > 255:
        raise errors.invalid_request("client_id missing or longer than 255 characters")
    redirect_uri = _redirect_uri(params.get("redirect_uri"))
    if params.get("code_challenge_method") != "S256":
        raise errors.invalid_request("code_challenge_method must be S256 (PKCE, RFC 7636; "
                                     "HAIP 1.0)")
    challenge = params.get("code_challenge") or ""
    if not re.fullmatch(r"[A-Za-z0-9_-]{43}", challenge):
        raise errors.invalid_request("code_challenge must be the base64url SHA-256 of the "
                                     "code verifier (43 characters)")
    state = params.get("state") or ""
    if len(state) > 500:
        raise errors.invalid_request("state is longer than 500 characters")
    configuration, details = _asked_configuration(issuer, params)
    offered = _offered(issuer, params.get("issuer_state"), configuration, now)
    jkt = params.get("dpop_jkt") or ""
    if dpop_proof is not None:
        proven = dpop.proof_check(dpop_proof, method="POST", url=endpoint(issuer, "par"),
                                  issuer_slug=issuer.slug, now=now.timestamp())
        if jkt and jkt != proven.jkt:
            raise errors.invalid_request("dpop_jkt is not the thumbprint of the DPoP proof key")
        jkt = proven.jkt
    handle = secrets.token_urlsafe(32)
    pushed = AuthorizationRequest(
        issuer=issuer, client_id=client_id, redirect_uri=redirect_uri, state=state,
        code_challenge=challenge, offered=offered, configuration=configuration,
        authorization_details=details, dpop_jkt=jkt[:64], request_uri_hash=key_hash(handle),
        request_expires_at=now + timedelta(seconds=PUSHED_SECONDS))
    pushed.full_clean()
    pushed.save()
    return {"request_uri": REQUEST_URI_PREFIX + handle, "expires_in": PUSHED_SECONDS}


def _offered(issuer: Organisation, value, configuration: str,
             now: datetime) -> CredentialOffer | None:
    """The organisation's offer an `issuer_state` (from its Credential Offer) names: one a
    person can take by logging in, still open, for the configuration asked."""
    if value is None:
        return None
    offered = offer_of_issuer_state(value, issuer=issuer)
    if offered is None or not offer_for_a_person(offered):
        raise errors.invalid_request("issuer_state unknown")
    if offered.state != CredentialOffer.State.OFFERED or offered.expires_at <= now:
        raise errors.invalid_request("the offer of this issuer_state is no longer open")
    if offered.configuration != configuration:
        raise errors.invalid_request(f"the offer of this issuer_state is for "
                                     f"{offered.configuration}, not {configuration}")
    return offered


def _redirect_uri(value) -> str:
    """An absolute URI without fragment: https, a private-use scheme of a native wallet, or
    http on the loopback interface (RFC 8252 §7); never a scheme a browser runs."""
    if not value or not isinstance(value, str) or len(value) > 2000:
        raise errors.invalid_request("redirect_uri missing")
    parts = urlsplit(value)
    scheme = parts.scheme.lower()
    if not scheme or parts.fragment or "#" in value:
        raise errors.invalid_request("redirect_uri must be an absolute URI without fragment")
    if scheme in ("javascript", "data", "file", "vbscript", "blob", "about"):
        raise errors.invalid_request(f"redirect_uri scheme {scheme} is not allowed")
    if scheme == "http" and parts.hostname not in ("127.0.0.1", "::1", "localhost"):
        raise errors.invalid_request("redirect_uri must be https (http only on the loopback "
                                     "interface)")
    return value


def _asked_configuration(issuer: Organisation, params) -> tuple[str, list | None]:
    """The one credential configuration the request asks for: by `scope` (OpenID4VCI §5.1.2)
    or `authorization_details` of type openid_credential (§5.1.1)."""
    offered = {configuration.id for configuration in offered_by(issuer)}
    raw_details, scope = params.get("authorization_details"), params.get("scope")
    if raw_details:
        try:
            details = json.loads(raw_details)
        except ValueError:
            details = None
        if not (isinstance(details, list) and len(details) == 1 and isinstance(details[0], dict)
                and details[0].get("type") == "openid_credential"):
            raise errors.OAuthError("invalid_authorization_details", "authorization_details "
                                    "must be one object of type openid_credential")
        wanted = details[0].get("credential_configuration_id")
        error = "invalid_authorization_details"
    elif scope:
        wanted, details, error = scope, None, "invalid_scope"
        by_scope = {CONFIGURATIONS[c].scope: c for c in offered}
        wanted = by_scope.get(scope, scope)
    else:
        raise errors.invalid_request("scope or authorization_details is needed: which "
                                     "credential configuration")
    if wanted not in offered:
        raise errors.OAuthError(error, f"{wanted} is not a credential configuration of this "
                                       f"issuer")
    if wanted not in WALLET_INITIATED:
        raise errors.OAuthError(error, f"{wanted} is issued on the organisation's offer "
                                       f"(pre-authorized code), not on a wallet's request")
    return wanted, details


# --- 2. the person: login and consent ------------------------------------------------------------

def authorization_pending(*, issuer: Organisation, client_id: str, request_uri: str,
                          now: datetime | None = None) -> AuthorizationRequest:
    """The pushed request the authorization endpoint was opened for, still waiting for the
    person. Raises OAuthError (shown to the person; never a redirect to an unchecked URI)."""
    now = now or timezone.now()
    handle = (request_uri or "").removeprefix(REQUEST_URI_PREFIX)
    pushed = (AuthorizationRequest.objects.select_related("issuer")
              .filter(request_uri_hash=key_hash(handle), issuer=issuer).first()
              if request_uri and request_uri.startswith(REQUEST_URI_PREFIX) else None)
    if pushed is None:
        raise errors.invalid_request("request_uri unknown: the wallet must push its request "
                                     "first (PAR is required)")
    if pushed.client_id != client_id:
        raise errors.invalid_request("client_id is not the one of the pushed request")
    if pushed.status != Status.PUSHED:
        raise errors.invalid_request("this request was already decided; start again in the "
                                     "wallet")
    if pushed.request_expires_at <= now:
        raise errors.invalid_request("the request expired; start again in the wallet")
    return pushed


def consent_choices(pushed: AuthorizationRequest, user) -> list[Mandate]:
    """What the person could receive for this request: their active mandates from the issuer
    (with the credential the copy shares its status with); when the wallet started from an
    offer, that offer's mandate, if it is theirs."""
    mandates = Mandate.objects.filter(organisation=pushed.issuer, grantee_user=user,
                                      state=Mandate.State.ACTIVE, credential__isnull=False)
    if pushed.offered_id is not None:
        mandates = mandates.filter(pk=pushed.offered.mandate_id)
    return list(mandates.order_by("scope", "pk"))


def authorization_decide(*, pushed_id, user, approve: bool, mandate_id=None,
                         now: datetime | None = None) -> str:
    """The person's decision; returns the URI the browser goes back to the wallet with:
    `code` (approved) or `error=access_denied`, and `state` and `iss`. Raises OAuthError when
    the request cannot be decided (already decided, expired, a mandate not theirs)."""
    now = now or timezone.now()
    with transaction.atomic():
        pushed = (AuthorizationRequest.objects.select_for_update().select_related("issuer")
                  .filter(pk=pushed_id).first())
        if pushed is None or pushed.status != Status.PUSHED:
            raise errors.invalid_request("this request was already decided")
        if pushed.request_expires_at <= now:
            raise errors.invalid_request("the request expired; start again in the wallet")
        pushed.user = user
        if not approve:
            pushed.status = Status.DENIED
            pushed.save(update_fields=["status", "user"])
            return _back(pushed, error="access_denied",
                         error_description="the person declined")
        mandate = next((m for m in consent_choices(pushed, user) if str(m.pk) == str(mandate_id)),
                       None)
        if mandate is None:
            raise errors.invalid_request("choose one of your mandates from this organisation")
        offer = _offer_to_take(pushed, user, mandate, now)
        code = secrets.token_urlsafe(32)
        pushed.offer, pushed.status = offer, Status.APPROVED
        pushed.code_hash = key_hash(code)
        pushed.code_expires_at = now + timedelta(seconds=CODE_SECONDS)
        pushed.save(update_fields=["offer", "status", "user", "code_hash", "code_expires_at"])
        offer_event(offer, "authorized", detail=f"{user} consented in the authorization "
                                                f"code flow")
        return _back(pushed, code=code)


def _offer_to_take(pushed: AuthorizationRequest, user, mandate: Mandate,
                   now: datetime) -> CredentialOffer:
    """The organisation's offer the wallet started from (still open, taken by no other
    request), or a new offer of the person's mandate made as the person."""
    if pushed.offered_id is not None:
        offered = CredentialOffer.objects.select_for_update().get(pk=pushed.offered_id)
        if (offered.state != CredentialOffer.State.OFFERED or offered.expires_at <= now
                or AuthorizationRequest.objects.filter(offer=offered).exists()):
            raise errors.invalid_request("the offer is no longer open")
        return offered
    try:
        return offer_create(issuer=pushed.issuer, configuration=pushed.configuration,
                            actor=actor_of(user), mandate=mandate, now=now).offer
    except NotAuthorised as exc:
        raise errors.OAuthError("access_denied", str(exc), status=403) from None


def _back(pushed: AuthorizationRequest, **answer) -> str:
    parameters = {**answer, **({"state": pushed.state} if pushed.state else {}),
                  "iss": issuer_identifier(pushed.issuer)}
    separator = "&" if urlsplit(pushed.redirect_uri).query else "?"
    return f"{pushed.redirect_uri}{separator}{urlencode(parameters)}"


# --- 3. the code at the token endpoint ----------------------------------------------------------

def code_redeem(*, issuer: Organisation, params, proven: dpop.Proven | None, now: datetime):
    """An access token for the offer an authorization code stands for, the code used up (RFC
    6749 §4.1.3, RFC 7636 §4.6): known, fresh, first use, the same client and redirect_uri,
    the PKCE verifier, the DPoP key the request was bound to. A code presented twice revokes
    the token it gave (§4.1.2). Returns the TokenGrant; raises OAuthError."""
    from openid4vci.services import tokens  # the token side of the flow imports this module

    code, verifier = params.get("code"), params.get("code_verifier")
    if not code:
        raise errors.invalid_request("code missing")
    if not verifier or not _PKCE_CHARACTERS.match(verifier):
        raise errors.invalid_request("code_verifier missing or malformed (RFC 7636 §4.1)")
    failure: errors.OAuthError | None = None
    with transaction.atomic():
        pushed = (AuthorizationRequest.objects.select_for_update()
                  .filter(code_hash=key_hash(code), issuer=issuer).first())
        if pushed is None:
            raise errors.invalid_grant("code unknown")
        offer = CredentialOffer.objects.select_for_update().get(pk=pushed.offer_id)
        if pushed.status == Status.REDEEMED:
            failure = errors.invalid_grant(tokens.revoke_replayed(offer, "code"))
        elif offer.state != CredentialOffer.State.OFFERED:
            failure = errors.invalid_grant(f"the offer behind the code is {offer.state}")
        elif pushed.code_expires_at <= now:
            failure = errors.invalid_grant("code expired")
        elif params.get("client_id") != pushed.client_id:
            failure = errors.invalid_grant("client_id is not the one the code was issued to")
        elif params.get("redirect_uri") != pushed.redirect_uri:
            failure = errors.invalid_grant("redirect_uri is not the one of the authorization "
                                           "request")
        elif not hmac.compare_digest(pkce_challenge(verifier), pushed.code_challenge):
            failure = errors.invalid_grant("code_verifier does not match the code_challenge")
        elif pushed.dpop_jkt and (proven is None or proven.jkt != pushed.dpop_jkt):
            failure = errors.OAuthError("invalid_dpop_proof", "the code is bound to a DPoP key: "
                                        "prove it with a DPoP proof by that key")
        else:
            pushed.status = Status.REDEEMED
            pushed.save(update_fields=["status"])
            details = (tokens.answered_details(offer, json.dumps(pushed.authorization_details))
                       if pushed.authorization_details else None)
            return tokens.issue_token(offer, details, now, proven)
    raise failure
