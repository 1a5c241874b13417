"""Organisation API keys: `Authorization: Token <key>`.

A request is looked up by the SHA-256 of its key (one indexed query, see api_tokens.py);
a revoked key fails like an unknown one. `last_used_at` is written at most once a minute per key,
so a busy client does not turn every read into a write."""

from __future__ import annotations

from datetime import timedelta

from django.db.models import Q
from django.utils import timezone
from rest_framework import authentication, exceptions

from wallet.tenancy.api_tokens import key_hash
from wallet.tenancy.authority import Actor, actor_of
from wallet.tenancy.models import ApiToken

KEYWORD = "Token"
LAST_USED_RESOLUTION = timedelta(minutes=1)


class ApiClient:
    """Who calls: an organisation acting through one of its API keys (DRF's `request.user`)."""

    is_authenticated = True
    is_anonymous = False

    def __init__(self, token: ApiToken):
        self.token = token
        self.organisation = token.organisation
        self.scopes = frozenset(token.scopes)

    def __str__(self) -> str:
        return f"API key {self.token.prefix}… of {self.organisation.slug}"

    @property
    def actor(self):
        """The person who made the key: the audit trail's actor for what the key does."""
        return self.token.created_by

    def as_actor(self) -> Actor:
        """Who acts, for the services that authorise (wallet.tenancy.authority): this key, with the
        powers (mandates) of the person who made it."""
        return actor_of(api_token=self.token)


class TokenAuthentication(authentication.BaseAuthentication):
    def authenticate(self, request):
        header = request.META.get("HTTP_AUTHORIZATION", "")
        keyword, _, key = header.partition(" ")
        if keyword != KEYWORD:
            return None  # no key (or another scheme): anonymous; views decide
        key = key.strip()
        if not key or " " in key:
            raise exceptions.AuthenticationFailed("Malformed Authorization header: expected "
                                                  "`Token <key>`.", code="malformed_token")
        token = (ApiToken.objects.select_related("organisation", "created_by")
                 .filter(key_hash=key_hash(key), revoked_at__isnull=True).first())
        if token is None:
            raise exceptions.AuthenticationFailed("Unknown or revoked API key.",
                                                  code="invalid_token")
        _touch(token)
        return ApiClient(token), token

    def authenticate_header(self, request) -> str:
        return KEYWORD


def _touch(token: ApiToken) -> None:
    now = timezone.now()
    if token.last_used_at is not None and now - token.last_used_at < LAST_USED_RESOLUTION:
        return
    ApiToken.objects.filter(pk=token.pk).filter(
        Q(last_used_at__isnull=True) | Q(last_used_at__lt=now - LAST_USED_RESOLUTION),
    ).update(last_used_at=now)
    token.last_used_at = now
