"""The wallet's legal side over the API (issue #8): the credentials an organisation holds and
issued, and the mandates it gives. One class per operation; services do the work."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.db.models import Q
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound
from rest_framework.response import Response

from core.api.permissions import requires_scope
from core.api.serializers import paginated
from core.api.views import Pages, validated
from wallet.business.api.views import (
    KEYED,
    MANDATES_MANAGE,
    WALLET_READ,
    WRITE,
    WalletApiView,
    problems,
)
from wallet.business.trust import organisation_for_did
from wallet.tenancy.legal_models import Mandate, WalletCredential
from wallet.tenancy.mandates import (
    mandate_grant,
    mandate_reinstate,
    mandate_revoke,
    mandate_suspend,
)


class WalletCredentialOutput(serializers.ModelSerializer):
    issuer = serializers.CharField(source="issuer_identifier")
    holder = serializers.CharField(source="holder.did", allow_null=True, default=None)

    class Meta:
        model = WalletCredential
        fields = ["id", "kind", "format", "credential_id", "issuer", "holder", "state",
                  "state_reason", "valid_from", "valid_until", "credential"]


class MandateOutput(serializers.ModelSerializer):
    organisation = serializers.CharField(source="organisation.did")
    grantee_organisation = serializers.CharField(source="grantee_organisation.did",
                                                 allow_null=True, default=None)
    grantee_user = serializers.CharField(source="grantee_user.username", allow_null=True,
                                         default=None)
    credential = serializers.CharField(source="credential.credential", allow_null=True,
                                       default=None)

    class Meta:
        model = Mandate
        fields = ["id", "organisation", "scope", "grantee_user", "grantee_organisation",
                  "valid_from", "valid_until", "state", "state_reason", "credential"]


class MandateInput(serializers.Serializer):
    scope = serializers.ChoiceField(choices=Mandate.Scope.choices)
    grantee_did = serializers.CharField(required=False, help_text="Another organisation on "
                                        "this service (the mandate is bound to its DID).")
    grantee_username = serializers.CharField(required=False, help_text="A member of yours.")
    valid_until = serializers.DateTimeField(required=False)

    def validate(self, data):
        if bool(data.get("grantee_did")) == bool(data.get("grantee_username")):
            raise serializers.ValidationError("Give exactly one of grantee_did and "
                                              "grantee_username.", code="one_grantee")
        return data


class ReasonInput(serializers.Serializer):
    reason = serializers.CharField(required=False, allow_blank=True, max_length=2000)


class WalletCredentialListApi(WalletApiView):
    @extend_schema(operation_id="wallet_credentials",
                   responses={200: paginated(WalletCredentialOutput), **problems(*KEYED, 404)})
    @requires_scope(WALLET_READ)
    def get(self, request):
        """Credentials your organisation holds (identity, roles, mandates given to it) and
        issued, newest first."""
        organisation = request.user.organisation
        rows = (WalletCredential.objects.filter(Q(holder=organisation) | Q(issuer=organisation))
                .select_related("issuer", "holder"))
        pages = Pages()
        page = pages.paginate_queryset(rows, request, view=self)
        return pages.get_paginated_response(WalletCredentialOutput(page, many=True).data)


class MandateCollectionApi(WalletApiView):
    @extend_schema(operation_id="wallet_mandates",
                   responses={200: paginated(MandateOutput), **problems(*KEYED, 404)})
    @requires_scope(WALLET_READ)
    def get(self, request):
        """Mandates your organisation gave."""
        rows = (Mandate.objects.filter(organisation=request.user.organisation)
                .select_related("organisation", "grantee_organisation", "grantee_user",
                                "credential"))
        pages = Pages()
        page = pages.paginate_queryset(rows, request, view=self)
        return pages.get_paginated_response(MandateOutput(page, many=True).data)

    @extend_schema(operation_id="wallet_mandates_grant", request=MandateInput,
                   responses={201: MandateOutput, **problems(*KEYED, *WRITE)})
    @requires_scope(MANDATES_MANAGE)
    def post(self, request):
        """Give a mandate (one scope) to a member or to another organisation; it is also
        issued as an SD-JWT VC with a Token Status List entry."""
        organisation = request.user.organisation
        fields = validated(MandateInput, request.data)
        grantee = user = None
        if fields.get("grantee_did"):
            grantee = organisation_for_did(fields["grantee_did"])
            if grantee is None:
                raise serializers.ValidationError({"grantee_did": "No organisation with that "
                                                                  "DID on this service."})
        else:
            user = get_user_model().objects.filter(
                username=fields["grantee_username"],
                membership__organisation=organisation).first()
            if user is None:
                raise serializers.ValidationError({"grantee_username": "Not a member of your "
                                                                       "organisation."})
        mandate = mandate_grant(organisation=organisation, scope=fields["scope"], user=user,
                                grantee=grantee, valid_until=fields.get("valid_until"))
        return Response(MandateOutput(mandate).data, status=status.HTTP_201_CREATED)


class _MandateChangeApi(WalletApiView):
    def _change(self, request, mandate_id, service):
        mandate = Mandate.objects.filter(pk=mandate_id if mandate_id.isdigit() else None,
                                         organisation=request.user.organisation).first()
        if mandate is None:
            raise NotFound("No such mandate.")
        reason = validated(ReasonInput, request.data).get("reason", "")
        return Response(MandateOutput(service(mandate=mandate, reason=reason)).data)


CHANGE_RESPONSES = {200: MandateOutput, **problems(*KEYED, 400, 404, 409)}


class MandateRevokeApi(_MandateChangeApi):
    @extend_schema(operation_id="wallet_mandates_revoke", request=ReasonInput,
                   responses=CHANGE_RESPONSES)
    @requires_scope(MANDATES_MANAGE)
    def post(self, request, mandate_id):
        """Revoke for good; takes effect at once."""
        return self._change(request, mandate_id, mandate_revoke)


class MandateSuspendApi(_MandateChangeApi):
    @extend_schema(operation_id="wallet_mandates_suspend", request=ReasonInput,
                   responses=CHANGE_RESPONSES)
    @requires_scope(MANDATES_MANAGE)
    def post(self, request, mandate_id):
        """Suspend; takes effect at once."""
        return self._change(request, mandate_id, mandate_suspend)


class MandateReinstateApi(_MandateChangeApi):
    @extend_schema(operation_id="wallet_mandates_reinstate", request=ReasonInput,
                   responses=CHANGE_RESPONSES)
    @requires_scope(MANDATES_MANAGE)
    def post(self, request, mandate_id):
        """Lift a suspension (a revoked mandate stays revoked: 409)."""
        return self._change(request, mandate_id, mandate_reinstate)
