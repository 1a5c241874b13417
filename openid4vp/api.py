"""OpenID4VP requests over the partner API (`presentations:request`): an organisation asks an
EU wallet for presentations and reads the verdict. Only the organisation that asked sees a
request (anything else is 404, like what does not exist); errors are problem+json."""

from __future__ import annotations

from django.conf import settings
from django.urls import reverse
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound
from rest_framework.response import Response

from core.api.permissions import Scope, requires_scope
from core.api.problems import Problem
from core.api.schema import KEYED, WRITE, problems
from core.api.serializers import StrictInput, paginated
from core.api.views import ApiView, Pages, page_parameters, validated
from openid4vp import dcql, services
from openid4vp.models import PresentationRequest


class RequestCreateInput(StrictInput):
    dcql_query = serializers.JSONField(help_text="A DCQL query (OpenID4VP 1.0 §6): "
                                                 "`dc+sd-jwt` Credential Queries with "
                                                 "`meta.vct_values` and claim `path`s, "
                                                 "optionally `credential_sets`.")
    purpose = serializers.CharField(max_length=500, help_text="Why the data is asked for.")
    response_mode = serializers.ChoiceField(
        choices=PresentationRequest.ResponseMode.values, default="direct_post.jwt",
        help_text="`direct_post.jwt` (encrypted, HAIP 1.0; the default) or `direct_post`.")
    redirect_uri = serializers.URLField(
        required=False, default="", max_length=500,
        help_text="Where the wallet sends its user after answering; a `response_code` "
                  "parameter is added (it appears in the result, to match the redirect).")


class RequestOutput(serializers.Serializer):
    id = serializers.UUIDField()
    status = serializers.CharField(help_text="pending, verified, failed or expired.")
    purpose = serializers.CharField()
    response_mode = serializers.CharField()
    client_id = serializers.CharField()
    authorization_request = serializers.CharField(help_text="The openid4vp:// link for the "
                                                            "wallet (also in the QR codes).")
    request_uri = serializers.URLField()
    qr_svg = serializers.URLField()
    qr_png = serializers.URLField()
    result_url = serializers.URLField()
    dcql_query = serializers.JSONField()
    created_at = serializers.DateTimeField()
    expires_at = serializers.DateTimeField()
    responded_at = serializers.DateTimeField(allow_null=True)
    error_code = serializers.CharField(help_text="Why it failed (stable), e.g. `replay`, "
                                                 "`revoked`, `over_disclosure`.")
    reason = serializers.CharField()
    wallet_error = serializers.CharField()
    response_code = serializers.CharField()
    credentials = serializers.ListField(child=serializers.DictField(),
                                        help_text="Each presentation's verdict.")
    disclosed = serializers.DictField(help_text="Credential query id → the claims of the "
                                                "verified credential.")


def request_output(presentation: PresentationRequest) -> dict:
    return {
        "id": str(presentation.pk), "status": presentation.current_status,
        "purpose": presentation.purpose, "response_mode": presentation.response_mode,
        **services.links(presentation),
        "result_url": settings.PUBLIC_BASE_URL + reverse("api-openid4vp-request",
                                                         args=[presentation.pk]),
        "dcql_query": presentation.dcql_query,
        "created_at": presentation.created_at, "expires_at": presentation.expires_at,
        "responded_at": presentation.responded_at,
        "error_code": presentation.error_code, "reason": presentation.reason,
        "wallet_error": presentation.wallet_error,
        "response_code": presentation.response_code,
        "credentials": presentation.result.get("credentials", []),
        "disclosed": presentation.result.get("disclosed", {}),
    }


def request_of(client, request_id) -> PresentationRequest:
    presentation = PresentationRequest.objects.filter(
        pk=request_id if _is_uuid(request_id) else None,
        organisation=client.organisation).first()
    if presentation is None:
        raise NotFound("No such presentation request.", code="not_found")
    return presentation


def _is_uuid(value) -> bool:
    import uuid

    try:
        uuid.UUID(str(value))
    except ValueError:
        return False
    return True


class RequestListApi(ApiView):
    @extend_schema(operation_id="openid4vp_requests_list", parameters=page_parameters(),
                   responses={200: paginated(RequestOutput), **problems(*KEYED, 404)})
    @requires_scope(Scope.PRESENTATIONS_REQUEST)
    def get(self, request):
        """Your organisation's presentation requests, newest first."""
        pages = Pages()
        page = pages.paginate_queryset(
            PresentationRequest.objects.filter(organisation=request.user.organisation)
            .order_by("-created_at"), request, view=self)
        return pages.get_paginated_response([request_output(p) for p in page])


class RequestCreateApi(ApiView):
    @extend_schema(operation_id="openid4vp_requests_create", request=RequestCreateInput,
                   responses={201: RequestOutput, **problems(*KEYED, *WRITE)})
    @requires_scope(Scope.PRESENTATIONS_REQUEST)
    def post(self, request):
        """Ask an EU wallet for presentations (OpenID4VP 1.0): a signed request under the
        service's client id (`x509_hash` or `x509_san_dns`). Show the `authorization_request`
        link or a QR code to the holder, then read `result_url`."""
        fields = validated(RequestCreateInput, request.data)
        try:
            presentation, _ = services.presentation_request_create(
                organisation=request.user.organisation, api_token=request.user.token,
                created_by=request.user.actor, **fields)
        except dcql.DcqlError as exc:
            raise Problem(exc.detail, code="invalid_dcql_query",
                          errors=[{"field": exc.field, "code": "invalid_dcql_query",
                                   "detail": exc.detail}]) from None
        return Response(request_output(presentation), status=status.HTTP_201_CREATED,
                        headers={"Location": reverse("api-openid4vp-request",
                                                     args=[presentation.pk])})


class RequestCollectionApi(RequestListApi, RequestCreateApi):
    """/openid4vp/requests: GET lists, POST creates."""


class RequestDetailApi(ApiView):
    @extend_schema(operation_id="openid4vp_requests_retrieve",
                   responses={200: RequestOutput, **problems(*KEYED, 404)})
    @requires_scope(Scope.PRESENTATIONS_REQUEST)
    def get(self, request, request_id):
        """A request and its outcome: `pending`, `verified`, `failed` (with `error_code` and
        `reason`) or `expired`; each credential's verdict and the disclosed claims."""
        return Response(request_output(request_of(request.user, request_id)))
