"""API keys of organisations: made here, shown once, stored only as a hash.

A key is 32 random bytes (base64url, 43 characters). Its SHA-256 is what the database keeps and
what a request is looked up by: for a high-entropy random secret a fast hash is the right one
(nobody can guess their way to a preimage, so a slow password hash would only slow every
request down)."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from wallet.tenancy.authority import Actor, NotAuthorised, scope_refusal
from wallet.tenancy.models import ApiToken, Organisation

KEY_BYTES = 32
# What `manage.py api_token` gives when no scope is named: reading, nothing that writes.
DEFAULT_SCOPES = (ApiToken.Scope.PRODUCTS_READ, ApiToken.Scope.PASSPORTS_READ)


def key_hash(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()


def scopes_refused(*, actor: Actor, organisation: Organisation,
                   scopes: Iterable[str]) -> list[str]:
    """The scopes in `scopes` that a key of `organisation` made by `actor` may not carry, each
    with why (see wallet.tenancy.authority.scope_refusal): a key can do no more than its maker."""
    return [refusal for scope in sorted(set(scopes))
            if (refusal := scope_refusal(maker=actor, organisation=organisation, scope=scope))]


@transaction.atomic
def api_token_create(*, actor: Actor, organisation: Organisation, name: str,
                     scopes: Iterable[str]) -> tuple[ApiToken, str]:
    """A new key of `organisation` with `scopes`, made by `actor`: (the stored token, the key).
    The key is not kept anywhere: the caller shows it once. Raises NotAuthorised when `actor`
    does not act for `organisation`, ValidationError for unknown scopes and for scopes the
    maker may not give (scopes_refused). The key's `created_by` is the person it acts for."""
    scopes = list(scopes)
    if not actor.operator and (actor.organisation is None
                               or actor.organisation.pk != organisation.pk):
        raise NotAuthorised(f"{actor} does not act for {organisation.legal_name}.",
                            code="other_organisation")
    if refused := scopes_refused(actor=actor, organisation=organisation, scopes=scopes):
        raise ValidationError({"scopes": [
            f"A key cannot do more than the person who makes it: {'; '.join(refused)}."]},
            code="no_mandate")
    key = secrets.token_urlsafe(KEY_BYTES)
    token = ApiToken(organisation=organisation, name=name.strip() or "API key",
                     scopes=sorted(set(scopes)), created_by=actor.user,
                     prefix=key[:ApiToken.PREFIX_LENGTH], key_hash=key_hash(key))
    token.full_clean()
    token.save()
    return token, key


def api_token_revoke(*, token: ApiToken) -> ApiToken:
    """Stop a key working. Idempotent: a revoked key keeps its first revocation time."""
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
    return token
