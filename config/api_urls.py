from django.urls import include, path, re_path
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.utils import extend_schema
from drf_spectacular.views import (
    SpectacularAPIView,
    SpectacularRedocView,
    SpectacularSwaggerView,
)
from rest_framework.decorators import api_view, authentication_classes, permission_classes
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.reverse import reverse

from core.api.problems import problem_response


@extend_schema(exclude=True)
@api_view(["GET"])
@authentication_classes([])
@permission_classes([AllowAny])
def api_root(request, format=None):
    """Entry point of the partner API (no key needed, no database: also the benchmarks'
    trivial endpoint)."""
    return Response({name: reverse(route, request=request, format=format) for name, route in (
        ("schema", "api-schema"), ("docs", "api-docs"), ("products", "api-products"),
        ("passports", "api-passports"), ("verify", "api-verify"))})


@csrf_exempt  # it changes nothing: a POST to a wrong path is a 404, not a CSRF 403 page
def api_not_found(request, *args, **kwargs):
    """Anything else under /api/v1/: a problem+json 404 like the API's own."""
    return problem_response(404, "not_found", f"No API resource at {request.path}.")


urlpatterns = [
    path("", api_root, name="api-root"),
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("docs/redoc/", SpectacularRedocView.as_view(url_name="api-schema"), name="api-redoc"),
    path("", include("passports.api.urls")),
    path("wallet/", include("wallet.business.api.urls")),
    path("", include("openid4vci.api_urls")),
    path("", include("openid4vp.api_urls")),
    path("webhooks/", include("webhooks.api.urls")),
    re_path(r"", api_not_found),  # last: whatever did not match above
]
