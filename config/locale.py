"""Language selection only where people read pages: machine endpoints (status lists, DID
documents, the API) must not answer `Vary: Accept-Language`, or a CDN splits its cache by
language for documents that never change with it."""

from django.middleware.locale import LocaleMiddleware

MACHINE_PREFIXES = ("/status/", "/api/", "/orgs/", "/.well-known/", "/contexts/", "/health/",
                    "/credentials/", "/presentations/")


class PageLocaleMiddleware(LocaleMiddleware):
    def process_request(self, request):
        if not request.path.startswith(MACHINE_PREFIXES):
            super().process_request(request)

    def process_response(self, request, response):
        if request.path.startswith(MACHINE_PREFIXES):
            return response
        return super().process_response(request, response)
