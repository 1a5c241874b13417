"""The token endpoint (OpenID4VCI 1.0 §6, RFC 6749 §5) for the pre-authorized code grant, and
the bearer access tokens it hands out (RFC 6750), checked by the credential endpoints.

A pre-authorized code is redeemed once, within its lifetime, with the right transaction code;
after MAX_TX_CODE_FAILURES wrong transaction codes the offer is dead. Redeeming a code twice is
refused, and a token from the first redemption that has not been used yet is revoked (RFC 6749
§4.1.2: the code may have leaked). Access tokens are opaque, random, short-lived and stored
hashed."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from core import json_limits
from openid4vci.models import MAX_TX_CODE_FAILURES, CredentialOffer
from openid4vci.services import dpop, errors
from openid4vci.services.authorization import AUTHORIZATION_CODE_GRANT, code_redeem
from openid4vci.services.client_attestation import client_authenticate
from openid4vci.services.metadata import PRE_AUTHORIZED_GRANT, endpoint, issuer_identifier
from openid4vci.services.offers import offer_event, offer_expire, tx_code_matches
from wallet.tenancy.api_tokens import key_hash
from wallet.tenancy.models import Organisation

State = CredentialOffer.State
REDEEMED = (State.TOKEN_ISSUED, State.DEFERRED, State.ISSUED, State.DENIED)
TOKEN_TYPE = "Bearer"  # noqa: S105 - a token type, not a secret


@dataclass(frozen=True)
class TokenGrant:
    access_token: str
    expires_in: int
    authorization_details: list | None = None
    token_type: str = TOKEN_TYPE

    def response(self) -> dict:
        body = {"access_token": self.access_token, "token_type": self.token_type,
                "expires_in": self.expires_in}
        if self.authorization_details is not None:
            body["authorization_details"] = self.authorization_details
        return body


def token_redeem(*, issuer: Organisation, params, dpop: str | None = None,
                 client_attestation: tuple = (None, None),
                 now: datetime | None = None) -> TokenGrant:
    """Exchange a pre-authorized code (+ tx_code) from `params` (the form fields) for an access
    token, bound to the key of the `dpop` proof (the DPoP header) when there is one. Raises
    OAuthError: invalid_request, unsupported_grant_type, invalid_grant (unknown, expired,
    already redeemed, wrong tx_code, locked), invalid_authorization_details, or DPoPFailure
    (the code is not spent then)."""
    for name in params:
        if len(params.getlist(name)) > 1:  # RFC 6749 §3.2
            raise errors.invalid_request(f"parameter {name} is given more than once")
    grant_type = params.get("grant_type")
    if not grant_type:
        raise errors.invalid_request("grant_type missing")
    now = now or timezone.now()
    # The wallet authenticates when the issuer requires a Wallet Attestation (HAIP 1.0 §4.4.1).
    client_authenticate(issuer_identifier=issuer_identifier(issuer),
                        client_id=params.get("client_id"), attestation=client_attestation[0],
                        pop=client_attestation[1], now=now.timestamp())
    if grant_type == AUTHORIZATION_CODE_GRANT:
        return code_redeem(issuer=issuer, params=params,
                           proven=_dpop_proven(issuer, dpop, now), now=now)
    if grant_type != PRE_AUTHORIZED_GRANT:
        raise errors.OAuthError("unsupported_grant_type",
                                f"grant_type {grant_type} is not supported; only "
                                f"{PRE_AUTHORIZED_GRANT} and {AUTHORIZATION_CODE_GRANT}")
    code = params.get("pre-authorized_code")
    if not code:
        raise errors.invalid_request("pre-authorized_code missing")
    tx_code = params.get("tx_code")
    now = now or timezone.now()
    proven = _dpop_proven(issuer, dpop, now)
    failure: errors.OAuthError | None = None
    with transaction.atomic():  # every outcome below is stored, then the error (if any) raised
        offer = (CredentialOffer.objects.select_for_update()
                 .filter(code_hash=key_hash(code), issuer=issuer).first())
        if offer is None:
            raise errors.invalid_grant("pre-authorized_code unknown")
        if offer.state == State.LOCKED:
            raise errors.invalid_grant(f"the offer is locked after {MAX_TX_CODE_FAILURES} wrong "
                                       "tx_code values; ask the issuer for a new offer")
        if offer.state in REDEEMED:
            failure = errors.invalid_grant(_replayed(offer))
        elif offer.state == State.EXPIRED or offer.expires_at <= now:
            offer_expire(offer)
            failure = errors.invalid_grant("pre-authorized_code expired")
        elif not tx_code:
            failure = errors.invalid_request("tx_code missing: this offer needs the transaction "
                                             "code the issuer sent separately")
        elif not tx_code_matches(offer, tx_code):
            failure = errors.invalid_grant(_wrong_tx_code(offer))
        else:
            details = _authorization_details(offer, params.get("authorization_details"))
            return _issue_token(offer, details, now, proven)
    raise failure


def _dpop_proven(issuer: Organisation, proof: str | None, now: datetime) -> dpop.Proven | None:
    """The key a token request's DPoP proof proves, None without one (a Bearer token)."""
    if proof is None:
        return None
    return dpop.proof_check(proof, method="POST", url=endpoint(issuer, "token"),
                            issuer_slug=issuer.slug, now=now.timestamp())


def _replayed(offer: CredentialOffer) -> str:
    return revoke_replayed(offer, "pre-authorized_code")


def revoke_replayed(offer: CredentialOffer, code_name: str) -> str:
    """A code presented again: the token it gave, if still unused, is revoked (RFC 6749
    §4.1.2: the code may have leaked). Returns what to tell the client."""
    message = f"{code_name} already redeemed"
    if offer.state == State.TOKEN_ISSUED and offer.token_hash:
        offer.token_hash, offer.token_expires_at = None, None
        offer.save(update_fields=["token_hash", "token_expires_at"])
        offer_event(offer, "token_revoked", from_state=offer.state,
                    detail=f"the {code_name.replace('_', ' ')} was presented again")
        message += "; the access token issued for it is revoked"
    return message


def _wrong_tx_code(offer: CredentialOffer) -> str:
    offer.tx_code_failures += 1
    left = MAX_TX_CODE_FAILURES - offer.tx_code_failures
    from_state = offer.state
    if left <= 0:
        offer.state, offer.state_reason = State.LOCKED, "too many wrong transaction codes"
    offer.save(update_fields=["tx_code_failures", "state", "state_reason"])
    offer_event(offer, "locked" if left <= 0 else "tx_code_wrong", from_state=from_state,
                detail=f"wrong tx_code ({offer.tx_code_failures} of {MAX_TX_CODE_FAILURES})")
    if left <= 0:
        return (f"tx_code wrong; after {MAX_TX_CODE_FAILURES} wrong codes the offer is locked, "
                "ask the issuer for a new offer")
    return f"tx_code wrong ({left} attempt{'s' if left != 1 else ''} left)"


def _authorization_details(offer: CredentialOffer, raw: str | None) -> list | None:
    """RFC 9396 authorization_details of type openid_credential naming the offered
    configuration; answered with credential_identifiers (OpenID4VCI §6.2)."""
    if raw is None:
        return None
    try:
        details = json_limits.loads(raw)
    except json_limits.JSONTooDeep as exc:
        raise errors.OAuthError("invalid_authorization_details",
                                f"authorization_details: {exc}") from None
    except ValueError:
        details = None
    if not (isinstance(details, list) and details
            and all(isinstance(item, dict) for item in details)):
        raise errors.OAuthError("invalid_authorization_details",
                                "authorization_details must be a non-empty JSON array of objects")
    answered = []
    for item in details:
        if item.get("type") != "openid_credential":
            raise errors.OAuthError("invalid_authorization_details",
                                    f"authorization_details type {item.get('type')} is not "
                                    "supported; only openid_credential")
        if item.get("credential_configuration_id") != offer.configuration:
            raise errors.OAuthError(
                "invalid_authorization_details",
                f"credential_configuration_id {item.get('credential_configuration_id')} was not "
                f"offered; this offer is for {offer.configuration}")
        answered.append({"type": "openid_credential",
                         "credential_configuration_id": offer.configuration,
                         "credential_identifiers": [credential_identifier(offer)]})
    return answered[:1]


answered_details = _authorization_details  # also for the authorization code flow


def credential_identifier(offer: CredentialOffer) -> str:
    return f"{offer.configuration}:{offer.pk}"


def _issue_token(offer: CredentialOffer, details: list | None, now: datetime,
                 proven: dpop.Proven | None = None) -> TokenGrant:
    token = secrets.token_urlsafe(32)
    lifetime = settings.OPENID4VCI_ACCESS_TOKEN_SECONDS
    from_state = offer.state
    offer.token_hash, offer.token_expires_at = key_hash(token), now + timedelta(seconds=lifetime)
    offer.state, offer.redeemed_at = State.TOKEN_ISSUED, now
    offer.credential_identifier = credential_identifier(offer) if details else ""
    offer.dpop_jkt = proven.jkt if proven else ""
    offer.save(update_fields=["token_hash", "token_expires_at", "state", "redeemed_at",
                              "credential_identifier", "dpop_jkt"])
    offer_event(offer, "token_issued", from_state=from_state,
                detail="DPoP-bound" if proven else "")
    return TokenGrant(token, lifetime, details, dpop.TOKEN_TYPE if proven else TOKEN_TYPE)


issue_token = _issue_token  # also for the authorization code flow


# --- bearer tokens at the credential endpoints -------------------------------------------------

def bearer_offer(*, issuer: Organisation, authorization: str | None, deferred: bool = False,
                 dpop_proof: str | None = None, url: str = "",
                 now: datetime | None = None) -> CredentialOffer:
    """The offer an access token stands for, or OAuthError 401 invalid_token naming why
    (missing, unknown or revoked, expired, already used). A DPoP-bound token is good only as
    `Authorization: DPoP <token>` with a DPoP proof (`dpop_proof`, for the endpoint at `url`)
    by the key it is bound to (RFC 9449 §7); a Bearer token only as `Bearer`.

    At the credential endpoint a token is good until it expires and is spent by the issuance.
    Once a request was deferred, the token serves the deferred endpoint only, for as long as
    the transaction lives (a review may take days; the transaction id is a second secret)."""
    realm = issuer_identifier(issuer)
    scheme, _, token = (authorization or "").partition(" ")
    token, scheme = token.strip(), scheme.lower()
    if scheme not in ("bearer", "dpop") or not token:
        raise errors.invalid_token("no access token: send Authorization: Bearer (or DPoP) "
                                   "<access_token> from the token endpoint", realm=realm,
                                   missing=True)
    offer = (CredentialOffer.objects.select_related("issuer")
             .filter(token_hash=key_hash(token), issuer=issuer).first())
    if offer is None:
        raise errors.invalid_token("access token unknown or revoked", realm=realm)
    now = now or timezone.now()
    _check_binding(offer, scheme, token, dpop_proof, url, now, realm)
    if deferred:
        if offer.state == State.TOKEN_ISSUED and offer.token_expires_at <= now:
            raise errors.invalid_token("access token expired", realm=realm)
        if offer.transaction_expires_at is not None and offer.transaction_expires_at <= now:
            raise errors.invalid_token("access token expired with its deferred transaction",
                                       realm=realm)
        return offer
    if offer.state != State.TOKEN_ISSUED:
        hint = " (collect it at the deferred credential endpoint)" \
            if offer.state == State.DEFERRED else ""
        raise errors.invalid_token(f"access token already used for its credential{hint}",
                                   realm=realm)
    if offer.token_expires_at <= now:
        raise errors.invalid_token("access token expired", realm=realm)
    return offer


def _check_binding(offer: CredentialOffer, scheme: str, token: str, proof: str | None, url: str,
                   now: datetime, realm: str) -> None:
    if not offer.dpop_jkt:
        if scheme != "bearer":
            raise errors.invalid_token("this access token is a Bearer token, not DPoP-bound",
                                       realm=realm)
        return
    if scheme != "dpop":  # RFC 9449 §7.1: a bound token is never accepted as Bearer
        raise errors.invalid_token("this access token is DPoP-bound: send Authorization: DPoP "
                                   "<access_token> and a DPoP proof", realm=realm)
    proven = dpop.proof_check(proof, method="POST", url=url, issuer_slug=offer.issuer.slug,
                              now=now.timestamp(), access_token=token, realm=realm)
    if proven.jkt != offer.dpop_jkt:
        raise dpop.DPoPFailure("invalid_dpop_proof", "the DPoP proof is signed by another key "
                               "than the one the access token is bound to",
                               nonce=dpop.nonce_issue(issuer_slug=offer.issuer.slug,
                                                      now=now.timestamp()),
                               resource=True, realm=realm)
