"""Django's session, authentication and messages middleware, passing the open consumer paths
and the API's open verify operations straight on.

The GS1 Digital Link resolver (`/01/...`: the page a scanned QR code opens, and its credential
and linkset) and its QR codes (`/qr/01/...`) are open to anyone and read nothing of the person
asking: their views touch no session, user, message or CSRF token, and their pages are rendered
without the request's context (no context processors). For those paths these middleware had
nothing to do but set up a session, a lazy user and two message stores, read their cookies and
check on the way out that none of them was used: about a tenth of a page request's CPU. So they
skip those paths, and every other path goes through them exactly as before.

For a logged-in person the page is the same (it shows nothing of them) and their session,
messages and CSRF cookie are left as they were; a mandate session's re-check
(wallet.tenancy.login_sessions, which finds no session here) happens on their next admin
request. Django's CSRF middleware is not among them: it stays in MIDDLEWARE by its own name,
as `check --deploy` wants it (security.W003), and still refuses a POST to these paths; on a
GET it only reads the cookie, and sets none unless a view asks for a token."""

from __future__ import annotations

import re

from django.contrib.auth.middleware import AuthenticationMiddleware
from django.contrib.messages.middleware import MessageMiddleware
from django.contrib.sessions.middleware import SessionMiddleware

# Paths whose views use no session, user, messages or CSRF token (see the module's doc). A view
# added under them must not either: tests/public/test_open_paths.py checks the ones there are.
# The API's open verify operations are among them: DRF views without authentication classes
# (they answer everyone alike, rate limited by address), exempt from CSRF as every API view.
OPEN_PATHS = re.compile(r"/(?:qr/)?01/|/api/v1/verify/$|/(?:credentials|presentations)/verify$")


class _SkipOpenPaths:
    """Calls the next handler directly for OPEN_PATHS (no process_request/process_response)."""

    def __call__(self, request):
        if OPEN_PATHS.match(request.path_info):
            return self.get_response(request)
        return super().__call__(request)


class OpenPathsSessionMiddleware(_SkipOpenPaths, SessionMiddleware):
    pass


class OpenPathsAuthenticationMiddleware(_SkipOpenPaths, AuthenticationMiddleware):
    pass


class OpenPathsMessageMiddleware(_SkipOpenPaths, MessageMiddleware):
    pass
