"""Language selection only where people read pages: machine endpoints (status lists, DID
documents, the API) must not answer `Vary: Accept-Language`, or a CDN splits its cache by
language for documents that never change with it.

No URL here names a language (`?lang=` does, read by the pages themselves), so for a URLconf
without `i18n_patterns` the language comes from the cookie and Accept-Language alone, and the
paths' language prefixes are not looked for (Django's LocaleMiddleware looks twice per
request); with `i18n_patterns`, Django's own handling runs."""

from django.conf import settings
from django.conf.urls.i18n import is_language_prefix_patterns_used
from django.middleware.locale import LocaleMiddleware
from django.utils import translation
from django.utils.cache import patch_vary_headers

MACHINE_PREFIXES = ("/status/", "/api/", "/orgs/", "/.well-known/", "/contexts/", "/health/",
                    "/credentials/", "/presentations/")


def _language_in_paths(request) -> bool:
    """Whether the request's URLconf uses i18n_patterns (cached by Django per URLconf)."""
    return is_language_prefix_patterns_used(getattr(request, "urlconf",
                                                    settings.ROOT_URLCONF))[0]


class PageLocaleMiddleware(LocaleMiddleware):
    def process_request(self, request):
        if request.path.startswith(MACHINE_PREFIXES):
            return
        if _language_in_paths(request):
            super().process_request(request)
            return
        translation.activate(translation.get_language_from_request(request))
        request.LANGUAGE_CODE = translation.get_language()

    def process_response(self, request, response):
        if request.path.startswith(MACHINE_PREFIXES):
            return response
        if _language_in_paths(request):
            return super().process_response(request, response)
        patch_vary_headers(response, ("Accept-Language",))
        response.headers.setdefault("Content-Language", translation.get_language())
        return response
