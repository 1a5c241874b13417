"""/status/<uuid>: the signed status lists, cacheable by browsers, verifiers and CDNs.

A Bitstring list is a BitstringStatusListCredential secured as `vc+jwt` (for an `application/vc`
client, its EnvelopedVerifiableCredential; for `application/ld+json` or `application/json`, the
same credential with an embedded Data Integrity proof); a Token Status List is a
`statuslist+jwt`.
The view only reads what the publisher signed (from a per-process memo), so it never signs in
the request path except once for a list that was never published."""

from django.http import Http404, HttpResponse
from django.utils.cache import get_conditional_response
from django.utils.http import http_date
from django.views.decorators.http import require_safe

from credentials.status_registry import TTL_SECONDS, published_list

JSON_TYPES = ("application/vc", "application/ld+json", "application/json")


@require_safe
def status_list(request, list_id):
    published = published_list(list_id)
    if published is None:
        raise Http404("no such status list")
    body, media_type, etag = published.jwt, published.media_type, published.etag
    if published.kind == "bitstring":
        preferred = request.get_preferred_type([media_type, *JSON_TYPES])
        if preferred == "application/vc":
            body, media_type, etag = published.envelope_json(), preferred, f"{etag}.json"
        elif preferred in JSON_TYPES:
            body, media_type, etag = published.embedded_json(), preferred, f"{etag}.ld"
    etag = f'"{etag}"'
    last_modified = int(published.published_at.timestamp())
    response = get_conditional_response(request, etag=etag, last_modified=last_modified)
    if response is None:
        response = HttpResponse(body, content_type=media_type)
    response["ETag"] = etag
    response["Last-Modified"] = http_date(last_modified)
    response["Cache-Control"] = f"public, max-age={TTL_SECONDS}"
    response["Vary"] = "Accept"
    response["Access-Control-Allow-Origin"] = "*"  # public data, read by browser verifiers
    return response
