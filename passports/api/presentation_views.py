"""Entitlement by presentation (issue #9), over the API: no API key, the presentation is the
credential. A challenge first, then a vp+jwt with the partner's identity and role credentials
bound to it; the answer is the passport's credential of the role's access group. Or, with an EU
wallet (OpenID4VP): a presentation request, then the result read once with its secret."""

from __future__ import annotations

from django.conf import settings
from django.urls import reverse
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound
from rest_framework.response import Response

from core.api.problems import MEDIA_TYPE as PROBLEM
from core.api.problems import Problem
from core.api.schema import OPEN, problems
from core.api.serializers import ProblemSerializer
from core.api.views import OpenApiView, validated
from passports.api import media
from passports.api.views import CREDENTIAL_RESPONSES, credential_response
from passports.models import Passport
from passports.services import presentation_access
from passports.services.presentation_access import (
    AccessPending,
    PresentationRefused,
    access_by_presentation,
    access_challenge,
)

SIGNED = [Passport.State.ISSUED, Passport.State.SUSPENDED, Passport.State.SUPERSEDED]


class PresentationInput(serializers.Serializer):
    presentation = serializers.CharField(
        max_length=200_000, help_text="A vp+jwt holding the partner's identity credential and "
                                      "a role credential naming the access group, with the "
                                      "challenge as nonce and this service's origin as aud.")


def _signed_passport(passport_id: str) -> Passport:
    passport = Passport.objects.filter(pk=passport_id if _is_uuid(passport_id) else None,
                                       state__in=SIGNED).first()
    if passport is None:
        raise NotFound("No such passport.")
    return passport


def _is_uuid(value: str) -> bool:
    import uuid

    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


class AccessChallengeApi(OpenApiView):
    @extend_schema(operation_id="passports_access_challenge", request=None,
                   responses={201: inline_serializer("AccessChallenge", {
                       "challenge": serializers.CharField(), "domain": serializers.CharField(),
                       "expires_in": serializers.IntegerField()}), **problems(*OPEN, 404)})
    def post(self, request, passport_id):
        """A single-use challenge (5 minutes) to present credentials against."""
        return Response(access_challenge(passport=_signed_passport(passport_id)),
                        status=status.HTTP_201_CREATED)


class AccessByPresentationApi(OpenApiView):
    renderer_classes = media.CREDENTIAL_RENDERERS

    @extend_schema(operation_id="passports_access_by_presentation", request=PresentationInput,
                   responses={**CREDENTIAL_RESPONSES, **problems(*OPEN, 403, 404)})
    def post(self, request, passport_id):
        """The restricted credential the presented role entitles its holder to. A replayed
        presentation, a wrong challenge or domain, or a missing or untrusted identity or role
        credential is refused (403) with the check named."""
        passport = _signed_passport(passport_id)
        fields = validated(PresentationInput, request.data)
        try:
            credential = access_by_presentation(passport=passport,
                                                presentation=fields["presentation"])
        except PresentationRefused as refused:
            raise Problem(refused.detail, code=refused.code,
                          status_code=refused.status) from None
        return credential_response(request, credential.jwt)


# Entitlement through an EU wallet (OpenID4VP) -------------------------------------------------

class AccessRequestOutput(serializers.Serializer):
    request_id = serializers.UUIDField()
    client_id = serializers.CharField()
    authorization_request = serializers.CharField(help_text="The openid4vp:// link for the "
                                                            "partner's wallet.")
    request_uri = serializers.URLField()
    qr_svg = serializers.URLField()
    qr_png = serializers.URLField()
    read_secret = serializers.CharField(help_text="Shown once: send it as `Authorization: "
                                                  "Bearer <read_secret>` to `result_url`.")
    result_url = serializers.URLField()
    expires_at = serializers.DateTimeField()


class AccessPendingOutput(serializers.Serializer):
    status = serializers.CharField()
    expires_at = serializers.DateTimeField()


class AccessByWalletApi(OpenApiView):
    @extend_schema(operation_id="passports_access_openid4vp", request=None,
                   responses={201: AccessRequestOutput, **problems(*OPEN, 404)})
    def post(self, request, passport_id):
        """Ask for access with an EU wallet (OpenID4VP 1.0): a presentation request, on behalf
        of the manufacturer, for an access-role credential. Show the link or QR code to the
        wallet, then read `result_url` with the one-time `read_secret`."""
        passport = _signed_passport(passport_id)
        wallet = presentation_access.wallet_access  # registered by openid4vp
        presentation, secret = wallet.access_request_create(passport=passport)
        return Response({
            "request_id": presentation.pk, **wallet.links(presentation), "read_secret": secret,
            "result_url": settings.PUBLIC_BASE_URL + reverse(
                "api-passport-access-openid4vp-result", args=[passport.pk, presentation.pk]),
            "expires_at": presentation.expires_at}, status=status.HTTP_201_CREATED)


class AccessByWalletResultApi(OpenApiView):
    renderer_classes = media.CREDENTIAL_RENDERERS

    @extend_schema(operation_id="passports_access_openid4vp_result",
                   responses={**CREDENTIAL_RESPONSES, (202, media.JSON): AccessPendingOutput,
                              **problems(*OPEN, 403, 404),
                              (410, PROBLEM): OpenApiResponse(
                                  ProblemSerializer, description="The result was already "
                                                                 "read (once per secret).")})
    def get(self, request, passport_id, request_id):
        """With `Authorization: Bearer <read_secret>`: 202 while the wallet has not answered;
        the restricted credential of the verified role's access group, exactly once; 403 naming
        why the presentation was refused (or 410 once read)."""
        passport = _signed_passport(passport_id)
        keyword, _, secret = request.META.get("HTTP_AUTHORIZATION", "").partition(" ")
        wallet = presentation_access.wallet_access  # registered by openid4vp
        try:
            credential = wallet.access_result_read(passport=passport, request_id=request_id,
                                                   secret=secret.strip() if keyword == "Bearer"
                                                   else "")
        except LookupError:
            raise NotFound("No such access request (or not this secret).") from None
        except AccessPending as pending:
            return Response({"status": "pending", "expires_at": pending.request.expires_at},
                            status=status.HTTP_202_ACCEPTED, content_type=media.JSON)
        except PresentationRefused as refused:
            raise Problem(refused.detail, code=refused.code,
                          status_code=refused.status) from None
        return credential_response(request, credential.jwt)
