"""Who is acting, and what entitles them (DESIGN §7): the one place that decides whether a
person, an API key or the operator may do something for an organisation.

Edges (admin, API, management commands, OpenID4VCI) only say who acts: `actor_of(user)`,
`actor_of(api_token=...)` or `operator()`. Every service that changes state takes that `Actor`
and asks `authorise(actor, organisation=..., scope=...)`, which either refuses (NotAuthorised,
naming what is missing) or returns the `Authority` the service records on its event.

The rules:
- The operator (superusers, management commands) acts for every organisation, without a
  mandate; events say `"authority": "operator"`.
- A person acts only for their own organisation; an API key only for the organisation it
  belongs to, and only within its scopes.
- A scope that a mandate governs (Mandate.Scope: issuing and revoking passports, sending
  messages and invoices) needs the person's active mandate of that scope, read fresh on every
  call so a revocation takes effect at once. A key acts with the powers of the person who made
  it: that person's mandate, and the key names it on the event; a key nobody holds a mandate
  for cannot use such a scope.
- Anchor scopes (reviewing attestations) need an organisation that is a trust anchor.
- Who logged in with mandates from a wallet (an admin session or an access token, see
  wallet.tenancy.mandate_login) acts with exactly the mandates presented (`Actor.mandates`),
  each read fresh: the person's other mandates do not count."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.core.exceptions import PermissionDenied

from wallet.tenancy.errors import WalletError
from wallet.tenancy.legal_models import Mandate
from wallet.tenancy.mandates import active_mandate, active_mandate_among
from wallet.tenancy.models import ApiToken, Member, Organisation
from wallet.tenancy.selectors import organisation_of

MANDATE_SCOPES = frozenset(Mandate.Scope.values)
ANCHOR_SCOPES = frozenset({ApiToken.Scope.ATTESTATIONS_REVIEW})
# Scopes that act in a named person's name: a key carries them only for a person who may use
# them (mandates:manage: an organisation administrator), never for the operator alone.
PERSONAL_SCOPES = MANDATE_SCOPES | {ApiToken.Scope.MANDATES_MANAGE}


class NotAuthorised(WalletError, PermissionDenied):
    """The actor may not do this; `detail` names what is missing (e.g. the mandate), `code`:
    `no_mandate`, `other_organisation`, `missing_scope`, `anchors_only` or `no_holder`."""

    code = "not_authorised"


@dataclass(frozen=True)
class Actor:
    """Who acts: a person (`user`) for their organisation, an API key (`api_token`, with the
    person who made it as `user`), or the operator (`operator=True`)."""

    organisation: Organisation | None = None
    user: Any = None
    api_token: ApiToken | None = None
    operator: bool = False
    # Logged in with mandates from a wallet: only these (ids) count; None: the person's own.
    mandates: frozenset | None = None

    def __str__(self) -> str:
        if self.operator:
            return f"the operator ({self.user})" if self.user else "the operator"
        if self.api_token is not None:
            return f"API key {self.api_token.prefix}… of {self.api_token.organisation.slug}"
        return str(self.user)


def operator(user=None) -> Actor:
    """The operator of the service: management commands, superusers in the admin."""
    return Actor(user=user, operator=True)


def actor_of(user=None, *, api_token: ApiToken | None = None) -> Actor:
    """Who acts, from what an edge knows: a Django user (superusers act as the operator, a
    member for their organisation, anyone else for none) or an API key."""
    if api_token is not None:
        return Actor(organisation=api_token.organisation, user=api_token.created_by,
                     api_token=api_token)
    if user is None:
        raise ValueError("actor_of needs a user or an API key; the operator is operator()")
    if user.is_superuser:
        return operator(user)
    # A session opened with mandates carries them on its user (login_sessions middleware).
    return Actor(organisation=organisation_of(user), user=user,
                 mandates=getattr(user, "presented_mandates", None))


@dataclass(frozen=True)
class Authority:
    """What entitled an actor to one act: recorded on the act's event (`record()`)."""

    actor: Actor
    organisation: Organisation
    scope: str
    mandate: Mandate | None = None

    @property
    def user(self):
        """The person to name as the event's actor (for a key: the person who made it)."""
        return self.actor.user

    def record(self) -> dict:
        """The event's `details`: `authority` is `operator`, `mandate` or `member` (a scope no
        mandate governs), with the mandate used and the API key, if any."""
        if self.actor.operator:
            return {"authority": "operator"}
        record = {"authority": "mandate" if self.mandate else "member", "scope": self.scope}
        if self.mandate is not None:
            record["mandate"] = self.mandate.pk
            record["mandate_credential"] = (self.mandate.credential.credential_id
                                            if self.mandate.credential_id else "")
        if self.actor.api_token is not None:
            record["api_key"] = self.actor.api_token.prefix
        return record

    def describe(self) -> str:
        """The same, in words (for events that keep text)."""
        if self.actor.operator:
            return f"by {self.actor}"
        text = f"by {self.actor}"
        if self.mandate is not None:
            text += f" under mandate {self.mandate.pk} ({self.scope})"
        return text


def authorise(actor: Actor, *, organisation: Organisation, scope: str) -> Authority:
    """The Authority that lets `actor` act for `organisation` within `scope`, or NotAuthorised
    naming what is missing. Read from the database on every call."""
    if not isinstance(actor, Actor):
        raise TypeError(f"authorise needs an Actor, not {type(actor).__name__}")
    if scope in ANCHOR_SCOPES and not organisation.is_trust_anchor:
        raise NotAuthorised(f"Only trust anchors may use the scope {scope}; "
                            f"{organisation.legal_name} is not one.", code="anchors_only")
    if actor.operator:
        return Authority(actor, organisation, scope)
    if actor.organisation is None or actor.organisation.pk != organisation.pk:
        raise NotAuthorised(f"{actor} does not act for {organisation.legal_name}.",
                            code="other_organisation")
    token = actor.api_token
    if token is not None and (not token.is_active or scope not in token.scopes):
        raise NotAuthorised(f"The API key lacks the scope {str(scope)!r}.",
                            code="missing_scope")
    if scope not in MANDATE_SCOPES:
        return Authority(actor, organisation, scope)
    if actor.mandates is not None:
        mandate = active_mandate_among(actor.mandates, organisation=organisation, scope=scope)
    else:
        mandate = (active_mandate(user=actor.user, organisation=organisation, scope=scope)
                   if actor.user is not None else None)
    if mandate is None:
        needed = f"an active mandate with the scope {scope} from {organisation.legal_name}"
        if actor.mandates is not None:
            text = (f"You logged in with mandates from your wallet, and none of them is "
                    f"{needed}; nothing was changed.")
        elif token is None:
            text = f"You need {needed} to do this; nothing was changed."
        elif actor.user is None:
            text = (f"The API key was made by nobody who holds {needed}; nothing was changed.")
        else:
            text = (f"The API key acts for {actor.user}, who needs {needed}; nothing was "
                    f"changed.")
        raise NotAuthorised(text, code="no_mandate")
    return Authority(actor, organisation, scope, mandate)


def scope_refusal(*, maker: Actor, organisation: Organisation, scope: str) -> str | None:
    """Why a key of `organisation` made by `maker` may not carry `scope`, or None: a key can do
    no more than its maker, and a scope that acts in a person's name needs a person."""
    if scope in ANCHOR_SCOPES and not organisation.is_trust_anchor:
        return f"only trust anchors review attestations ({scope})"
    if scope not in PERSONAL_SCOPES:
        return None
    if maker.operator or maker.user is None:
        return (f"{scope} acts in a person's name: make the key for a member who may use it "
                f"(manage.py api_token --for-user)")
    if scope == ApiToken.Scope.MANDATES_MANAGE:
        is_admin = Member.objects.filter(user=maker.user, organisation=organisation,
                                         role=Member.Role.ADMIN).exists()
        return None if is_admin else f"only an organisation administrator gives {scope}"
    try:
        authorise(maker, organisation=organisation, scope=scope)
    except NotAuthorised:
        return f"you hold no active mandate for {scope} of {organisation.legal_name}"
    return None
