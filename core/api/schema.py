"""OpenAPI pieces every app's operations use: the API-key security scheme and the problem
responses."""

from __future__ import annotations

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.utils import OpenApiResponse

from core.api.problems import MEDIA_TYPE as PROBLEM
from core.api.serializers import ProblemSerializer

PROBLEM_DESCRIPTIONS = {
    400: "The request cannot be parsed or is not valid (field errors in `errors`).",
    401: "No API key, or an unknown or revoked one.",
    403: "The API key lacks the scope, or the organisation is not entitled.",
    404: "Not found, or not visible to the API key's organisation.",
    406: "None of the accepted media types can be served.",
    409: "The passport is not in a state that allows this.",
    413: "The body is larger than the limit (256 KB by default).",
    415: "The Content-Type is not supported.",
    429: "Too many requests from this address; see Retry-After.",
}


def problems(*statuses: int, descriptions: dict[int, str] | None = None) -> dict:
    """`responses` entries for problem+json errors (`descriptions`: an API's own wording)."""
    descriptions = {**PROBLEM_DESCRIPTIONS, **(descriptions or {})}
    return {(status, PROBLEM): OpenApiResponse(ProblemSerializer,
                                               description=descriptions[status])
            for status in statuses}


KEYED = (401, 403)  # every operation that needs an API key
WRITE = (400, 413, 415)  # every operation with a body
OPEN = (400, 413, 415, 429)  # the open verify operations

# A compact credential as a request body: base64url segments with dots (JWT) and tildes (SD-JWT).
COMPACT_BODY = {"type": "string", "pattern": r"^[A-Za-z0-9_\-.~]+$"}


class TokenAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = "wallet.tenancy.authentication.TokenAuthentication"
    name = "ApiKey"

    def get_security_definition(self, auto_schema):
        return {"type": "apiKey", "in": "header", "name": "Authorization",
                "description": "`Token <key>`: an organisation's API key, made in the admin or "
                               "with `manage.py api_token <org-slug> --scope ...`."}


class AccessTokenScheme(OpenApiAuthenticationExtension):
    target_class = "wallet.tenancy.authentication.AccessTokenAuthentication"
    name = "AccessToken"

    def get_security_definition(self, auto_schema):
        return {"type": "http", "scheme": "bearer",
                "description": "`Bearer dpp_at_…`: a short-lived access token exchanged for a "
                               "presentation of mandates at `/oauth/token` (RFC 8693; "
                               "docs/wallet-login.md), with exactly the presented scopes."}
