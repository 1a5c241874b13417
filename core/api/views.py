"""The API's base views and helpers every app's operations use: the body limit (ApiView), the
open operations' base (OpenApiView), input validation and pagination."""

from __future__ import annotations

from django.conf import settings
from drf_spectacular.utils import OpenApiParameter
from rest_framework.pagination import PageNumberPagination
from rest_framework.permissions import AllowAny
from rest_framework.views import APIView

from core.api.problems import PayloadTooLarge, Problem
from core.api.throttling import ClientAddressThrottle


class ApiView(APIView):
    """Every operation: bodies larger than API_MAX_BODY_BYTES are refused (413) before anything
    reads them. (DATA_UPLOAD_MAX_MEMORY_SIZE covers form data only; DRF reads exactly
    Content-Length bytes, and treats a body without one as empty.)"""

    def body_limit(self) -> int:
        """Bytes a request body may have (an operation that needs more says so)."""
        return settings.API_MAX_BODY_BYTES

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        limit = self.body_limit()
        length = request.META.get("CONTENT_LENGTH") or "0"
        if not length.isdigit():
            raise Problem("Content-Length is not a number.", code="bad_content_length")
        if int(length) > limit:
            raise PayloadTooLarge(f"The body is larger than {limit} bytes.")


class OpenApiView(ApiView):
    """No API key needed; rate limited per client address (429 with Retry-After)."""

    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes = [ClientAddressThrottle]
    throttle_scope = "verify"


def validated(serializer_class, data, **kwargs) -> dict:
    serializer = serializer_class(data=data, **kwargs)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


class Pages(PageNumberPagination):
    page_size_query_param = "page_size"
    max_page_size = 200


def page_parameters() -> list[OpenApiParameter]:
    return [OpenApiParameter("page", int, description="Page number, from 1."),
            OpenApiParameter("page_size", int, description="Items per page (at most 200).")]
