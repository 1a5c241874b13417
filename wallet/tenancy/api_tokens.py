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

from wallet.tenancy.legal_models import Mandate
from wallet.tenancy.mandates import active_mandate
from wallet.tenancy.models import ApiToken, Organisation

KEY_BYTES = 32
# What `manage.py api_token` gives when no scope is named: reading, nothing that writes.
DEFAULT_SCOPES = (ApiToken.Scope.PRODUCTS_READ, ApiToken.Scope.PASSPORTS_READ)


def key_hash(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()


def scopes_without_mandate(*, user, organisation: Organisation,
                           scopes: Iterable[str]) -> list[str]:
    """The scopes in `scopes` that `user` may not put on a key of `organisation`: a key acts with
    the powers of the person who made it (docs/architecture.md, Business wallet), so each scope that
    a mandate governs needs that person's active mandate of the same scope. Operators (superusers)
    act without one, as in the admin's issue and revoke actions."""
    if user is None or user.is_superuser:
        return []
    governed = set(Mandate.Scope.values)
    return sorted(scope for scope in set(scopes) & governed
                  if active_mandate(user=user, organisation=organisation, scope=scope) is None)


@transaction.atomic
def api_token_create(*, organisation: Organisation, name: str, scopes: Iterable[str],
                     created_by=None) -> tuple[ApiToken, str]:
    """A new key of `organisation` with `scopes`: (the stored token, the key). The key is not
    kept anywhere: the caller shows it once. Raises ValidationError for unknown scopes, and
    for scopes that `created_by` holds no mandate for (see scopes_without_mandate)."""
    scopes = list(scopes)
    if lacking := scopes_without_mandate(user=created_by, organisation=organisation,
                                         scopes=scopes):
        raise ValidationError({"scopes": [
            f"You hold no active mandate of {organisation} for {', '.join(lacking)}; a key "
            "cannot do more than the person who makes it."]}, code="no_mandate")
    key = secrets.token_urlsafe(KEY_BYTES)
    token = ApiToken(organisation=organisation, name=name.strip() or "API key",
                     scopes=sorted(set(scopes)), created_by=created_by,
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
