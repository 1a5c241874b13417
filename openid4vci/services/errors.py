"""Errors of the protocol endpoints in the OAuth form: `{"error", "error_description"}` (RFC 6749
§5.2, RFC 6750 §3, OpenID4VCI 1.0 §8.3.1), never problem+json."""

from __future__ import annotations

import re

# OpenID4VCI §8.3.1.2 / RFC 6749 §5.2: error_description is ASCII %x20-21 / %x23-5B / %x5D-7E,
# i.e. printable ASCII without the double quote and the backslash.
_NOT_ALLOWED = re.compile(r'[^\x20\x21\x23-\x5b\x5d-\x7e]')


def description_text(text: str) -> str:
    """`text` made safe for error_description (and for a quoted WWW-Authenticate value)."""
    text = text.replace('"', "'").replace("\\", "/")
    return _NOT_ALLOWED.sub("?", text)


class OAuthError(Exception):
    """An error answer of a protocol endpoint: `error` code, why, HTTP status, and for bearer
    token errors the WWW-Authenticate challenge (RFC 6750 §3)."""

    def __init__(self, error: str, description: str, *, status: int = 400,
                 challenge: bool = False, realm: str = "", headers: dict | None = None):
        super().__init__(f"{error}: {description}")
        self.error = error
        self.description = description_text(description)
        self.status = status
        self.headers = dict(headers or {})
        if challenge:  # RFC 6750 §3: a missing token gets no error code in the challenge
            parts = [f'realm="{description_text(realm)}"'] if realm else []
            if error:
                parts += [f'error="{error}"', f'error_description="{self.description}"']
            self.headers["WWW-Authenticate"] = "Bearer " + ", ".join(parts) if parts \
                else "Bearer"

    def body(self) -> dict:
        return {"error": self.error, "error_description": self.description}


def invalid_request(description: str) -> OAuthError:
    return OAuthError("invalid_request", description)


def invalid_grant(description: str) -> OAuthError:
    return OAuthError("invalid_grant", description)


def invalid_token(description: str, *, realm: str, missing: bool = False) -> OAuthError:
    """401 for a missing, unknown, expired or spent access token."""
    error = OAuthError("invalid_token", description, status=401, challenge=True, realm=realm)
    if missing:  # the challenge carries no error code; the body still says what to do
        error.headers["WWW-Authenticate"] = f'Bearer realm="{description_text(realm)}"'
    return error


def invalid_credential_request(description: str) -> OAuthError:
    return OAuthError("invalid_credential_request", description)


def invalid_proof(description: str) -> OAuthError:
    return OAuthError("invalid_proof", description)


def invalid_nonce(description: str) -> OAuthError:
    return OAuthError("invalid_nonce", description)


def credential_request_denied(description: str) -> OAuthError:
    return OAuthError("credential_request_denied", description)
