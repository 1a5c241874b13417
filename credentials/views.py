from django.http import Http404, JsonResponse
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_GET

from credentials import contexts
from credentials.did_web import did_document, organisation_did, service_did

CONTEXT_BASE = "https://w3id.org/dpp-wallet/contexts"


def _did_response(document: dict | None) -> JsonResponse:
    if document is None:
        raise Http404("no such DID")
    return JsonResponse(document, content_type="application/did+json")


@require_GET
@cache_control(public=True, max_age=300)
def organisation_did_document(request, slug: str):
    return _did_response(did_document(organisation_did(slug)))


@require_GET
@cache_control(public=True, max_age=300)
def service_did_document(request):
    return _did_response(did_document(service_did()))


@require_GET
@cache_control(public=True, max_age=86400, immutable=True)
def bundled_context(request, version: str):
    """The service's own JSON-LD extension context (docs/architecture.md, Vocabulary). Its permanent
    URL is host-independent (w3id.org); this copy lets anyone dereference it from any deployment."""
    url = f"{CONTEXT_BASE}/{version}"
    if not contexts.known(url):
        raise Http404("no such context version")
    return JsonResponse(contexts.load(url), content_type="application/ld+json")
