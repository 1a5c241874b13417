"""The usual POST /api/v1/verify/, answered without DRF's request cycle.

Nearly every call is `{"credential": "<compact JWT>"}` (or the JWT itself as
`application/vc+jwt`) from a client that accepts plain JSON. With the verdict cached, DRF's
request wrapping, negotiation, parsing and serializer were a third of the view's cost (the
rest: one Redis and two PostgreSQL round trips), so VerifyApi.dispatch asks `answer()` first.
The answer keeps the endpoint's contract: the view's own throttles (counted once), the same
verdict bytes and the headers DRF adds.

Anything else returns None and goes through VerifyApi.post, which makes every error: another
body or media type, an Accept header or query string that content negotiation must judge, a
body over the size limit, one orjson cannot parse (including what the stdlib parser accepts
and orjson refuses, e.g. integers beyond 64 bits), or a credential nested deeper than
core.json_limits.MAX_DEPTH (orjson reads 1024 levels; the API's parser refuses the body)."""

from __future__ import annotations

import orjson
from django.http import HttpRequest, HttpResponse

from core.json_limits import JSONTooDeep, check_depth
from passports.api import media
from passports.api.verifying import verify_json

# Accept headers that DRF's negotiation answers with the plain `application/json` renderer.
PLAIN_JSON = frozenset({"", "*/*", "application/json"})
UTF_8 = frozenset({"utf-8", "utf8"})


def answer(view, request: HttpRequest) -> HttpResponse | None:
    """The response to a usual verify request, or None when VerifyApi.post must make it."""
    credential = usual_credential(request, view.body_limit())
    if credential is None:
        return None
    try:
        view.check_throttles(request)  # raises Throttled: 429 with Retry-After
        response = HttpResponse(verify_json(credential), content_type=media.JSON)
    except Exception as exc:  # noqa: BLE001 - rendered as every API error is (problems.py)
        response = view.handle_exception(exc)
    for name, value in view.default_response_headers.items():  # as finalize_response does
        response[name] = value
    return response


def usual_credential(request: HttpRequest, limit: int):
    """The credential of a usual request (see the module's doc), or None."""
    meta = request.META
    if (request.method != "POST" or meta.get("QUERY_STRING")
            or meta.get("HTTP_ACCEPT", "") not in PLAIN_JSON):
        return None
    length = meta.get("CONTENT_LENGTH") or ""
    if not length.isdigit() or not 0 < int(length) <= limit:
        return None
    if request.content_type == media.JSON:
        if request.content_params.get("charset", "utf-8").lower() not in UTF_8:
            return None
        try:
            data = orjson.loads(request.body)
        except orjson.JSONDecodeError:
            return None
        if not (isinstance(data, dict) and len(data) == 1 and data.get("credential") is not None):
            return None
        credential = data["credential"]  # what VerifyInput would pass as it is
        if not isinstance(credential, str) and _too_deep(request.body):
            return None  # orjson parses 1024 levels; the API parser refuses past MAX_DEPTH
        return credential
    if request.content_type in media.COMPACT_TYPES:
        try:
            return request.body.decode("ascii").strip() or None  # as media.CompactParser
        except UnicodeDecodeError:
            return None
    return None


def _too_deep(body: bytes) -> bool:
    try:
        check_depth(body)
    except JSONTooDeep:
        return True
    return False
