"""A backing service that is down answers 503 with Retry-After, never a 500: problem+json for
machines (the API's own errors come from its exception handler, passports/api/problems.py), a
page in the reader's language for people. One warning line per request, no traceback: an outage
is not a bug, and the service recovers by itself when the database or cache is back."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpResponse
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.http import urlencode

from config.locale import MACHINE_PREFIXES
from core.api.problems import service_unavailable
from core.outages import RETRY_AFTER_SECONDS, log_outage, unavailable_service


def unavailable_page(request) -> HttpResponse:
    """The 503 page for people, in the language the page would have had (?lang=, else the
    browser's)."""
    codes = [code for code, _name in settings.LANGUAGES]
    asked = request.GET.get("lang", "")
    language = asked if asked in codes else translation.get_language() or settings.LANGUAGE_CODE
    with translation.override(language):
        body = render_to_string("passports/public/unavailable.html", {
            "retry_after": RETRY_AFTER_SECONDS,
            "languages": [{"code": code, "name": name, "current": code == language,
                           "url": "?" + urlencode({"lang": code})}
                          for code, name in settings.LANGUAGES]})
    response = HttpResponse(body, status=503, content_type="text/html; charset=utf-8")
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    response["Content-Language"] = language
    response["Cache-Control"] = "no-store"
    return response


def wants_page(request) -> bool:
    if request.path.startswith(MACHINE_PREFIXES):
        return False
    accept = request.headers.get("Accept", "").strip()
    return accept in ("", "*/*") or "text/html" in accept


class OutageMiddleware:
    """Turns an outage raised by a view into its 503 (see the module's doc)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exc):
        service = unavailable_service(exc)
        if service is None:
            return None  # a bug: Django's 500, logged with its traceback
        log_outage(service, exc, request.path)
        return unavailable_page(request) if wants_page(request) else service_unavailable(service)
