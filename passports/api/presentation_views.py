"""Entitlement by presentation (issue #9), over the API: no API key, the presentation is the
credential. A challenge first, then a vp+jwt with the partner's identity and role credentials
bound to it; the answer is the passport's credential of the role's access group."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound
from rest_framework.response import Response

from passports.api import media
from passports.api.problems import Problem
from passports.api.schema import OPEN, problems
from passports.api.views import CREDENTIAL_RESPONSES, OpenApiView, credential_response, validated
from passports.models import Passport
from passports.services.presentation_access import (
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
