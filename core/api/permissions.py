"""What an API key may do: its organisation (checked by the selectors, per object) and its
scopes (checked here, per operation).

Every operation names its scope on its handler with `@requires_scope(...)`; a handler without
one is refused (deny by default). Open operations (verify) say `permission_classes = [AllowAny]`.
"""

from __future__ import annotations

from rest_framework import exceptions
from rest_framework.permissions import BasePermission

from core.scopes import Scope


def requires_scope(scope: str):
    """Mark an API handler (`get`, `post`, ...) as needing `scope`."""
    scope = Scope(scope).value  # ValueError for an unknown scope

    def decorate(handler):
        handler.required_scope = scope
        return handler

    return decorate


def required_scope(view, method: str) -> str | None:
    handler = getattr(view, method.lower(), None)
    return getattr(handler, "required_scope", None)


class HasScope(BasePermission):
    """An API key (401 without one) that carries the handler's scope (403 without it)."""

    def has_permission(self, request, view) -> bool:
        client = request.user
        if client is None or not getattr(client, "is_authenticated", False):
            raise exceptions.NotAuthenticated(
                "This operation needs an API key: `Authorization: Token <key>`.")
        if not hasattr(view, request.method.lower()):
            return True  # the view answers 405 Method Not Allowed
        scope = required_scope(view, request.method)
        if scope is None:
            raise exceptions.PermissionDenied("This operation is not open to API keys.",
                                              code="no_scope_defined")
        if scope not in client.scopes:
            raise exceptions.PermissionDenied(f"The API key lacks the scope {scope!r}.",
                                              code="missing_scope")
        return True
