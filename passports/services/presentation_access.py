"""Entitlement by presentation (issue #9): a partner gets a passport's restricted credential by
presenting its identity credential and a role credential naming the access group, bound to a
challenge from this service. A challenge is single-use: a replayed presentation fails."""

from __future__ import annotations

import secrets

from django.conf import settings
from django.core.cache import cache

from credentials.signing import decode_jwt_parts
from passports.models import Passport, RestrictedCredential
from wallet.business.trust import trusted_anchor_dids
from wallet.business.verification import verify

CHALLENGE_SECONDS = 300


class PresentationRefused(Exception):
    def __init__(self, detail: str, *, code: str, status: int = 403):
        super().__init__(detail)
        self.detail, self.code, self.status = detail, code, status


class AccessPending(Exception):
    """The wallet has not answered yet."""

    def __init__(self, request):
        super().__init__("pending")
        self.request = request


# Access through an EU wallet (OpenID4VP) instead of the challenge: the openid4vp app registers
# its functions here when it loads (openid4vp.apps), since passports never import a protocol app
# (docs/architecture.md, Layers): access_request_create, access_result_read and links.
wallet_access = None


def _key(passport_id, nonce: str) -> str:
    return f"access-challenge:{passport_id}:{nonce}"


def access_challenge(*, passport: Passport) -> dict:
    """A fresh challenge for presenting credentials to get `passport`'s restricted data."""
    nonce = secrets.token_urlsafe(24)
    cache.set(_key(passport.pk, nonce), True, CHALLENGE_SECONDS)
    return {"challenge": nonce, "domain": settings.PUBLIC_BASE_URL,
            "expires_in": CHALLENGE_SECONDS}


def access_by_presentation(*, passport: Passport, presentation: str) -> RestrictedCredential:
    """The restricted credential the presentation entitles its holder to, or PresentationRefused
    naming the check that failed."""
    try:
        _, payload = decode_jwt_parts(presentation)
        nonce = payload["nonce"]
    except (ValueError, KeyError, TypeError, AttributeError):
        raise PresentationRefused("not a vp+jwt presentation with a nonce",
                                  code="presentation_malformed", status=400) from None
    if not isinstance(nonce, str) or cache.get(_key(passport.pk, nonce)) is None:
        raise PresentationRefused("challenge: unknown, expired or already used (replay)",
                                  code="challenge")
    verdict = verify(presentation, challenge=nonce, domain=settings.PUBLIC_BASE_URL)
    if not verdict["verified"]:
        raise PresentationRefused("presentation: " + "; ".join(verdict["errors"]),
                                  code="presentation_invalid")
    holder = verdict["holder"]
    _identity_of(holder, verdict["credentials"])
    group = _access_group_of(holder, verdict["credentials"])
    # Single use, decided atomically (Redis DEL): two racing replays cannot both pass.
    if not cache.delete(_key(passport.pk, nonce)):
        raise PresentationRefused("challenge: already used (replay)", code="challenge")
    restricted = passport.restricted_credentials.filter(access_group=group).first()
    if restricted is None:
        raise PresentationRefused(f"the passport has no {group} data", code="no_data",
                                  status=404)
    return restricted


def _identity_of(holder: str, inner: list[dict]) -> dict:
    anchors = trusted_anchor_dids()
    for verdict in inner:
        credential = verdict.get("credential") or {}
        if ("DigitalIdentityAnchor" in credential.get("type", [])
                and credential.get("credentialSubject", {}).get("id") == holder):
            if not verdict["verified"]:
                raise PresentationRefused("identity credential: " + "; ".join(
                    verdict["errors"]), code="identity_invalid")
            if verdict["issuer"]["id"] not in anchors:
                raise PresentationRefused("identity credential: issuer is not a trusted "
                                          "anchor", code="identity_untrusted")
            return credential
    raise PresentationRefused("no identity credential of the holder in the presentation",
                              code="identity_missing")


def _access_group_of(holder: str, inner: list[dict]) -> str:
    anchors = trusted_anchor_dids()
    for verdict in inner:
        credential = verdict.get("credential") or {}
        subject = credential.get("credentialSubject", {})
        if ("AccessRoleCredential" in credential.get("type", [])
                and subject.get("id") == holder):
            if not verdict["verified"]:
                raise PresentationRefused("role credential: " + "; ".join(verdict["errors"]),
                                          code="role_invalid")
            if verdict["issuer"]["id"] not in anchors:
                raise PresentationRefused("role credential: issuer is not a trusted anchor or "
                                          "authority", code="role_untrusted")
            return subject["accessGroup"]
    raise PresentationRefused("no role credential of the holder in the presentation",
                              code="role_missing")
