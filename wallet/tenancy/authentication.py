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
from wallet.tenancy.login_models import MandateLogin
from wallet.tenancy.mandate_login import ACCESS_TOKEN_PREFIX, access_token_login
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


BEARER = "Bearer"


class AccessTokenClient:
    """Who calls with an access token exchanged for presented mandates (/oauth/token,
    docs/wallet-login.md): their organisation, exactly the mandates' scopes."""

    is_authenticated = True
    is_anonymous = False
    token = None  # no API key

    def __init__(self, login: MandateLogin):
        self.login = login
        self.organisation = login.organisation
        self.scopes = frozenset(login.scopes)

    def __str__(self) -> str:
        return f"access token of {self.organisation.slug} ({', '.join(sorted(self.scopes))})"

    @property
    def actor(self):
        return self.login.user

    def as_actor(self) -> Actor:
        """The organisation, acting with exactly the presented mandates (read fresh by
        authorise: a mandate revoked since the exchange no longer counts)."""
        return Actor(organisation=self.organisation, user=self.login.user,
                     mandates=frozenset(self.login.mandates.values_list("pk", flat=True)))


class AccessTokenAuthentication(authentication.BaseAuthentication):
    """`Authorization: Bearer dpp_at_…`: a short-lived access token from the token endpoint.
    Other bearer values are left to the view (e.g. the one-time read secrets of OpenID4VP
    results)."""

    def authenticate(self, request):
        keyword, _, value = request.META.get("HTTP_AUTHORIZATION", "").partition(" ")
        value = value.strip()
        if keyword != BEARER or not value.startswith(ACCESS_TOKEN_PREFIX):
            return None
        login = access_token_login(value)
        if login is None:
            raise exceptions.AuthenticationFailed("Unknown, expired or ended access token.",
                                                  code="invalid_token")
        return AccessTokenClient(login), login

    def authenticate_header(self, request) -> str:
        return BEARER
