"""Exports of the organisation's own products, passports and passport events
(passports/services/exports.py): `/api/v1/exports/<kind>.csv` or `.json`, streamed, one keyset
page per request (`?limit=`, `?after=`); the next page's address in `Link: <...>; rel="next"`
and its cursor in `Export-Next-After`."""

from __future__ import annotations

from django.http import StreamingHttpResponse
from django.utils.http import urlencode
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema

from core.api.permissions import Scope, requires_scope
from core.api.problems import Problem
from core.api.schema import KEYED, problems
from core.api.views import ApiView
from passports.services import exports

PARAMETERS = [
    OpenApiParameter("fmt", str, OpenApiParameter.PATH, enum=list(exports.FORMATS),
                     description="csv or json"),
    OpenApiParameter("limit", int, description=f"Rows in this page, 1 to {exports.MAX_LIMIT} "
                                               f"({exports.DEFAULT_LIMIT} by default)."),
    OpenApiParameter("after", str, description="The id after which this page starts: the "
                                               "`Export-Next-After` of the previous page."),
]
RESPONSES = {
    (200, "text/csv"): OpenApiResponse(OpenApiTypes.STR,
                                       description="The rows, after a header line (`.csv`)."),
    (200, "application/json"): OpenApiResponse({"type": "array", "items": {"type": "object"}},
                                               description="The rows (`.json`)."),
    **problems(*KEYED, 400)}


def _limit(request) -> int | None:
    value = request.query_params.get("limit")
    if value is None:
        return None
    if not value.isdigit():
        raise Problem(f"limit is a number, 1 to {exports.MAX_LIMIT}.", code="invalid_limit")
    return int(value)


class _ExportApi(ApiView):
    kind = ""

    def export(self, request, fmt: str):
        try:
            page = exports.export(organisation=request.user.organisation, kind=self.kind,
                                  fmt=fmt, after=request.query_params.get("after"),
                                  limit=_limit(request))
        except exports.ExportError as error:
            raise Problem(str(error), code=error.code) from None
        response = StreamingHttpResponse(page.chunks, content_type=page.content_type)
        response["Cache-Control"] = "no-store"
        if page.next_after is not None:
            query = {**request.query_params.dict(), "after": page.next_after}
            response["Export-Next-After"] = page.next_after
            response["Link"] = f'<{request.build_absolute_uri(request.path)}?' \
                               f'{urlencode(query)}>; rel="next"'
        return response


class ProductExportApi(_ExportApi):
    kind = "products"

    @extend_schema(operation_id="exports_products", parameters=PARAMETERS, responses=RESPONSES)
    @requires_scope(Scope.PRODUCTS_READ)
    def get(self, request, fmt):
        """Your organisation's products as CSV or JSON, oldest first, streamed."""
        return self.export(request, fmt)


class PassportExportApi(_ExportApi):
    kind = "passports"

    @extend_schema(operation_id="exports_passports", parameters=PARAMETERS,
                   responses=RESPONSES)
    @requires_scope(Scope.PASSPORTS_READ)
    def get(self, request, fmt):
        """Your organisation's own passports (every version and state) as CSV or JSON."""
        return self.export(request, fmt)


class EventExportApi(_ExportApi):
    kind = "events"

    @extend_schema(operation_id="exports_events", parameters=PARAMETERS, responses=RESPONSES)
    @requires_scope(Scope.PASSPORTS_READ)
    def get(self, request, fmt):
        """The state changes of your organisation's passports (issued, revoked, suspended,
        reinstated, superseded) as CSV or JSON, oldest first."""
        return self.export(request, fmt)
