"""Logging in with mandates instead of passwords ("eHerkenning 2.0", issue #21).

The protocol app that verified a presentation (openid4vp) hands this module the claims of the
mandate credentials it accepted; this module decides who that is and what they may do:

- Which mandates: a presented credential names its Token Status List entry in the clear; that
  entry is the mandate's (an EU wallet's copy shares the entry of the mandate it copies), so it
  finds the mandate however the holder disclosed the rest.
- Refusals, each with a stable code and a message in the person's language (REFUSALS): no
  mandate of this service, mandates of different organisations or people, revoked, suspended,
  expired, a presentation used before (replayed), and the protocol's own (wrong audience or
  nonce, untrusted issuer), which the protocol app maps to these codes.
- A login (MandateLogin) carries exactly the presented mandates: their scopes and
  organisation. It ends with the earliest mandate's validity; `login_check` ends it once one
  of them is revoked, suspended or expired (the admin's middleware calls it at most every
  MANDATE_LOGIN_RECHECK_SECONDS; acts are refused at once anyway, because authorise() reads
  the presented mandates fresh on every act).
- A person's first login makes their staff account: staff, a member of the mandates'
  organisation, named from the PID when one was presented. No password is set for them.
- Every login, refusal and end is a MandateLoginEvent."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from wallet.tenancy.errors import WalletError
from wallet.tenancy.legal_models import Mandate
from wallet.tenancy.login_models import MandateLogin, MandateLoginEvent
from wallet.tenancy.models import Member

Kind = MandateLogin.Kind
EventKind = MandateLoginEvent.Kind
ACCESS_TOKEN_PREFIX = "dpp_at_"  # noqa: S105 - a marker, not a secret: tells tokens apart
SESSION_DEFAULT_SECONDS = 8 * 3600  # a mandate without an end: a working day at most

# Why a login is refused or ended, in words for the person (en/nl/de/fr in locale/).
REFUSALS = {
    "no_mandate": _("You presented no mandate of an organisation that uses this service."),
    "other_organisation": _("Your mandates are not all for the same organisation, or you "
                            "already work for another organisation here."),
    "other_person": _("The mandates you presented are not all given to the same person."),
    "revoked": _("The mandate was revoked by the organisation."),
    "suspended": _("The mandate is suspended by the organisation."),
    "expired": _("The mandate has expired (or is not valid yet)."),
    "replayed": _("This answer from your wallet was already used; start a new login."),
    "wrong_audience_or_nonce": _("Your wallet answered a different request (wrong audience or "
                                 "nonce); start a new login."),
    "untrusted_issuer": _("The mandate was issued by an organisation this service does not "
                          "trust."),
    "request_expired": _("The login request expired before your wallet answered; start a "
                         "new one."),
    "declined": _("Your wallet declined the request."),
    "invalid": _("Your wallet's answer could not be verified."),
    "logged_out": _("You logged out."),
}


class LoginRefused(WalletError):
    """A login with mandates is refused (or a session ended): `code` is a key of REFUSALS,
    `message` its text in the active language."""

    code = "login_refused"
    status = 403

    def __init__(self, code: str, detail: str = ""):
        super().__init__(detail or str(REFUSALS.get(code, code)), code=code)

    @property
    def message(self) -> str:
        return str(REFUSALS.get(self.code, REFUSALS["invalid"]))


@dataclass(frozen=True)
class Presented:
    """One accepted mandate credential, as the protocol app saw it: its claims (the status
    entry and `sub` are always in the clear)."""

    claims: dict


# --- from presented credentials to mandates ---------------------------------------------------

def _status_entry(claims: dict) -> tuple[UUID, int] | None:
    status = claims.get("status")
    entry = status.get("status_list") if isinstance(status, dict) else None
    if not isinstance(entry, dict):
        return None
    uri, index = entry.get("uri"), entry.get("idx")
    if not isinstance(uri, str) or not isinstance(index, int):
        return None
    if not uri.startswith(settings.PUBLIC_BASE_URL + "/status/"):
        return None  # a list elsewhere: not a mandate of this service
    try:
        return UUID(uri.rsplit("/", 1)[-1]), index
    except ValueError:
        return None


def mandates_presented(presented: list[Presented]) -> list[Mandate]:
    """The mandates of the presented credentials (LoginRefused `no_mandate` for a credential
    that is no mandate of this service)."""
    mandates = []
    for credential in presented:
        entry = _status_entry(credential.claims)
        mandate = entry and (Mandate.objects
                             .select_related("organisation", "grantee_user",
                                             "grantee_organisation", "credential")
                             .filter(credential__status_list_id=entry[0],
                                     credential__status_index=entry[1]).first())
        if not mandate:
            raise LoginRefused("no_mandate", "a presented credential is no mandate given here")
        mandates.append(mandate)
    if not mandates:
        raise LoginRefused("no_mandate")
    return mandates


def mandate_refusal(mandate: Mandate, now: datetime) -> str | None:
    """Why `mandate` does not let anyone act now (a REFUSALS code), or None."""
    if mandate.state != Mandate.State.ACTIVE:
        return str(mandate.state)  # "revoked" or "suspended"
    if mandate.valid_from > now or (mandate.valid_until and mandate.valid_until <= now):
        return "expired"
    return None


def _checked(mandates: list[Mandate], now: datetime):
    for mandate in mandates:
        if refusal := mandate_refusal(mandate, now):
            raise LoginRefused(refusal, f"mandate {mandate.pk} ({mandate.scope}): {refusal}")
    organisations = {m.organisation_id for m in mandates}
    if len(organisations) != 1:
        raise LoginRefused("other_organisation", "mandates of several organisations")
    return mandates[0].organisation


def _expiry(mandates: list[Mandate], now: datetime, longest: timedelta) -> datetime:
    ends = [m.valid_until for m in mandates if m.valid_until] + [now + longest]
    return min(ends)


def _record(kind: str, *, login: MandateLogin | None = None, code: str = "",
            detail: str = "", mandates=()) -> None:
    MandateLoginEvent.objects.create(login=login, kind=kind, code=code, detail=detail[:2000],
                                     mandates=sorted(m.pk for m in mandates))


def login_refusal_record(refused: LoginRefused, *, reference: str = "", mandates=()) -> None:
    """Record a refusal once per `reference` (e.g. the presentation request), so a page
    that shows it again does not record it again."""
    if reference and MandateLoginEvent.objects.filter(kind=EventKind.REFUSED,
                                                      detail__startswith=reference).exists():
        return
    _record(EventKind.REFUSED, code=refused.code,
            detail=f"{reference}: {refused.detail}" if reference else refused.detail,
            mandates=mandates)


# --- admin sessions ---------------------------------------------------------------------------

def session_login_open(*, presented: list[Presented], presentation: str,
                       pid: dict | None = None) -> MandateLogin:
    """A staff session for the person the presented mandates were given to, carrying exactly
    those mandates. `presentation` names what was presented (the request's id): a second login
    with it is refused as replayed. Raises LoginRefused (recorded; nothing else is stored)."""
    now = timezone.now()
    mandates: list[Mandate] = []
    try:
        with transaction.atomic():
            mandates = mandates_presented(presented)
            organisation = _checked(mandates, now)
            people = {m.grantee_user_id for m in mandates}
            if len(people) != 1 or None in people:
                raise LoginRefused("other_person", "the mandates are not all given to one "
                                                   "person")
            user = mandates[0].grantee_user
            _staff_account(user, organisation, pid or {})
            login = MandateLogin.objects.create(
                kind=Kind.SESSION, organisation=organisation, user=user,
                scopes=sorted({m.scope for m in mandates}), presentation=presentation,
                expires_at=_expiry(mandates, now, timedelta(seconds=SESSION_DEFAULT_SECONDS)))
            login.mandates.set(mandates)
            _record(EventKind.LOGGED_IN, login=login, mandates=mandates,
                    detail=f"{user} for {organisation.slug}: {', '.join(login.scopes)}")
    except IntegrityError:
        if not MandateLogin.objects.filter(presentation=presentation).exists():
            raise  # another constraint: a defect, not a replay
        refused = LoginRefused("replayed", f"{presentation} was used for a login before")
        login_refusal_record(refused, mandates=mandates)
        raise refused from None
    except LoginRefused as refused:
        login_refusal_record(refused, reference=presentation, mandates=mandates)
        raise
    return login


def _staff_account(user, organisation, pid: dict) -> None:
    """Make the mandates' person a staff member of `organisation` on their first login (named
    from the PID, if presented); never sets a password."""
    membership = Member.objects.filter(user=user).first()
    if membership is None:
        Member.objects.create(user=user, organisation=organisation)
    elif membership.organisation_id != organisation.pk:
        raise LoginRefused("other_organisation", f"{user} works for another organisation")
    changed = []
    if not user.is_staff:
        user.is_staff = True
        changed.append("is_staff")
        if not user.has_usable_password():
            user.set_unusable_password()  # stays unusable: the wallet is the way in
            changed.append("password")
    for field, claim in (("first_name", "given_name"), ("last_name", "family_name")):
        value = pid.get(claim)
        if isinstance(value, str) and value and not getattr(user, field):
            setattr(user, field, value[:150])
            changed.append(field)
    if changed:
        user.save(update_fields=changed)


def login_check(login_id, *, now: datetime | None = None) -> str | None:
    """Why the login has ended (a REFUSALS code), ending it then; None while it stands. Two
    queries (the login, its mandates)."""
    now = now or timezone.now()
    login = (MandateLogin.objects.prefetch_related("mandates").filter(pk=login_id).first())
    if login is None:
        return "invalid"
    if login.ended_at is not None:
        return login.end_reason or "expired"
    reason = next((r for m in login.mandates.all() if (r := mandate_refusal(m, now))), None)
    if reason is None and login.expires_at <= now:
        reason = "expired"
    if reason:
        login_end(login, reason)
    return reason


def login_end(login: MandateLogin, reason: str) -> None:
    """End a login (idempotent), recording why."""
    ended = MandateLogin.objects.filter(pk=login.pk, ended_at=None).update(
        ended_at=timezone.now(), end_reason=reason)
    if ended:
        _record(EventKind.ENDED, login=login, code=reason,
                mandates=list(login.mandates.all()))


# --- access tokens ----------------------------------------------------------------------------

def access_token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def access_token_issue(*, presented: list[Presented], presentation_digest: str,
                       ) -> tuple[MandateLogin, str]:
    """A short-lived access token (MANDATE_ACCESS_TOKEN_SECONDS, never past a mandate's end)
    for the presented mandates: (the login, the token, shown once and stored as a SHA-256).
    The presentation's digest is unique: the same presentation never gets a second token.
    Raises LoginRefused (recorded; nothing else is stored)."""
    now = timezone.now()
    mandates: list[Mandate] = []
    token = ACCESS_TOKEN_PREFIX + secrets.token_urlsafe(32)
    try:
        with transaction.atomic():
            mandates = mandates_presented(presented)
            organisation = _checked(mandates, now)
            people = {m.grantee_user_id for m in mandates}
            login = MandateLogin.objects.create(
                kind=Kind.ACCESS_TOKEN, organisation=organisation,
                user=mandates[0].grantee_user if len(people) == 1 else None,
                scopes=sorted({m.scope for m in mandates}), presentation=presentation_digest,
                token_hash=access_token_hash(token),
                expires_at=_expiry(mandates, now, timedelta(
                    seconds=settings.MANDATE_ACCESS_TOKEN_SECONDS)))
            login.mandates.set(mandates)
            _record(EventKind.TOKEN_ISSUED, login=login, mandates=mandates,
                    detail=f"for {organisation.slug}: {', '.join(login.scopes)}")
    except IntegrityError:
        if not MandateLogin.objects.filter(presentation=presentation_digest).exists():
            raise  # another constraint: a defect, not a replay
        refused = LoginRefused("replayed", "this presentation was exchanged before")
        login_refusal_record(refused, mandates=mandates)
        raise refused from None
    except LoginRefused as refused:
        login_refusal_record(refused, mandates=mandates)
        raise
    return login, token


def access_token_login(token: str, *, now: datetime | None = None) -> MandateLogin | None:
    """The standing login of an access token, or None (unknown, ended or expired)."""
    now = now or timezone.now()
    return (MandateLogin.objects.select_related("organisation", "user")
            .filter(kind=Kind.ACCESS_TOKEN, token_hash=access_token_hash(token),
                    ended_at=None, expires_at__gt=now).first())
