"""The organisation's signing keys: list them, rotate them, declare them compromised
(passports/services/keys.py; docs/keys.md)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response

from core.api.permissions import Scope, requires_scope
from core.api.schema import KEYED, WRITE, problems
from core.api.serializers import StrictInput
from core.api.views import ApiView, validated
from passports.services import keys as key_service


class KeyOutput(serializers.Serializer):
    id = serializers.CharField(source="verification_method",
                               help_text="The verification method (DID URL) of the key.")
    type = serializers.CharField(source="key_type")
    created_at = serializers.DateTimeField()
    retired_at = serializers.DateTimeField(
        allow_null=True, help_text="When it stopped signing; it still verifies what it signed.")
    compromised_at = serializers.DateTimeField(
        allow_null=True, help_text="From when on it is not trusted: what it signed after that "
                                   "fails verification.")
    compromise_reason = serializers.CharField()


class CompromiseInput(StrictInput):
    since = serializers.DateTimeField(
        help_text="From when on the keys are not to be trusted (with a time zone; not in the "
                  "future). Every key that existed then is declared compromised.")
    reason = serializers.CharField(max_length=500, help_text="Shown to verifiers.")


class CompromiseOutput(serializers.Serializer):
    compromised = serializers.ListField(child=serializers.CharField())
    new_keys = serializers.ListField(child=serializers.CharField())
    since = serializers.DateTimeField()
    queued = serializers.IntegerField(help_text="Passports sent for re-signing.")


class KeysApi(ApiView):
    @extend_schema(operation_id="keys_list", responses={200: KeyOutput(many=True),
                                                        **problems(*KEYED)},
                   description="Your organisation's signing keys, old ones included.")
    @requires_scope(Scope.PASSPORTS_READ)
    def get(self, request):
        keys = key_service.organisation_keys(request.user.organisation)
        return Response(KeyOutput(keys, many=True).data)


class KeysRotateApi(ApiView):
    @extend_schema(operation_id="keys_rotate", request=None,
                   responses={200: KeyOutput(many=True), **problems(*KEYED, *WRITE, 409)},
                   description="New signing keys (one per key type) sign from now on; the old "
                               "ones stay in the DID document and keep verifying what they "
                               "signed. Needs a `passports:issue` mandate.")
    @requires_scope(Scope.PASSPORTS_ISSUE)
    def post(self, request):
        key_service.keys_rotate(organisation=request.user.organisation,
                                actor=request.user.as_actor())
        keys = key_service.organisation_keys(request.user.organisation)
        return Response(KeyOutput(keys, many=True).data)


class KeysCompromiseApi(ApiView):
    @extend_schema(operation_id="keys_compromise", request=CompromiseInput,
                   responses={202: CompromiseOutput, **problems(*KEYED, *WRITE, 409)},
                   description="Declare your signing keys compromised from `since` on. What "
                               "they signed after it fails verification, naming the reason; "
                               "what they signed before keeps verifying. New keys are made and "
                               "every passport is re-signed with them in the background (same "
                               "ids, QR codes and status entries): the answer is 202. Needs a "
                               "`passports:issue` mandate.")
    @requires_scope(Scope.PASSPORTS_ISSUE)
    def post(self, request):
        data = validated(CompromiseInput, request.data)
        outcome = key_service.keys_compromise(
            organisation=request.user.organisation, since=data["since"],
            reason=data["reason"], actor=request.user.as_actor())
        return Response(CompromiseOutput(outcome).data, status=status.HTTP_202_ACCEPTED)
