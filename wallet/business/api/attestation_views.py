"""Identity attestation over the API (issue #8): an organisation asks a trust anchor to attest
it; the anchor reviews (approve issues both identity credentials, reject needs a reason). The
admin's review page does the same through the same services."""

from __future__ import annotations

from django.db.models import Q
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound
from rest_framework.response import Response

from core.api.permissions import Scope, requires_scope
from core.api.serializers import paginated
from core.api.views import Pages, validated
from wallet.business.api.views import KEYED, WRITE, WalletApiView, problems
from wallet.business.identity.services import (
    attestation_approve,
    attestation_reject,
    attestation_request,
)
from wallet.business.trust import organisation_for_did
from wallet.tenancy.legal_models import AttestationRequest


class AttestationOutput(serializers.ModelSerializer):
    organisation = serializers.CharField(source="organisation.did")
    anchor = serializers.CharField(source="anchor.did")
    credentials = serializers.SerializerMethodField(
        help_text="Ids of the identity credentials issued on approval.")

    class Meta:
        model = AttestationRequest
        fields = ["id", "organisation", "anchor", "evidence", "state", "decision_reason",
                  "created_at", "reviewed_at", "credentials"]

    def get_credentials(self, request: AttestationRequest) -> list[str]:
        return [credential.credential_id for credential in request.credentials.all()]


class AttestationInput(serializers.Serializer):
    anchor = serializers.CharField(help_text="DID of a trust anchor on this service.")
    evidence = serializers.CharField(max_length=5000, help_text="What the anchor checks, e.g. "
                                     "the registry extract number.")


class DecisionInput(serializers.Serializer):
    reason = serializers.CharField(required=False, allow_blank=True, max_length=2000,
                                   help_text="Required to reject.")


def _requests():
    return (AttestationRequest.objects.select_related("organisation", "anchor")
            .prefetch_related("credentials"))


class AttestationCollectionApi(WalletApiView):
    @extend_schema(operation_id="wallet_attestations",
                   responses={200: paginated(AttestationOutput), **problems(*KEYED, 404)})
    @requires_scope(Scope.WALLET_READ)
    def get(self, request):
        """Attestation requests your organisation made, and (for an anchor) received."""
        organisation = request.user.organisation
        rows = _requests().filter(Q(organisation=organisation) | Q(anchor=organisation))
        if wanted := request.query_params.get("state"):
            rows = rows.filter(state=wanted)
        pages = Pages()
        page = pages.paginate_queryset(rows, request, view=self)
        return pages.get_paginated_response(AttestationOutput(page, many=True).data)

    @extend_schema(operation_id="wallet_attestations_request", request=AttestationInput,
                   responses={201: AttestationOutput, **problems(*KEYED, *WRITE)})
    @requires_scope(Scope.ATTESTATIONS_REQUEST)
    def post(self, request):
        """Ask a trust anchor to attest your organisation's identity."""
        fields = validated(AttestationInput, request.data)
        anchor = organisation_for_did(fields["anchor"])
        if anchor is None:
            raise serializers.ValidationError({"anchor": "No organisation with that DID on "
                                                         "this service."})
        made = attestation_request(organisation=request.user.organisation, anchor=anchor,
                                   evidence=fields["evidence"])
        return Response(AttestationOutput(made).data, status=status.HTTP_201_CREATED)


class _AttestationDecisionApi(WalletApiView):
    def _decide(self, request, attestation_id, decide):
        """Only the anchor the request is addressed to decides; others see a 404."""
        attestation = _requests().filter(pk=attestation_id if attestation_id.isdigit() else None,
                                         anchor=request.user.organisation).first()
        if attestation is None:
            raise NotFound("No such attestation request addressed to your organisation.")
        reason = validated(DecisionInput, request.data).get("reason", "")
        decide(attestation, reason)
        return Response(AttestationOutput(_requests().get(pk=attestation.pk)).data)


DECISION_RESPONSES = {200: AttestationOutput, **problems(*KEYED, *WRITE, 404, 409)}


class AttestationApproveApi(_AttestationDecisionApi):
    @extend_schema(operation_id="wallet_attestations_approve", request=DecisionInput,
                   responses=DECISION_RESPONSES)
    @requires_scope(Scope.ATTESTATIONS_REVIEW)
    def post(self, request, attestation_id):
        """Approve: your anchor signs the organisation's identity credentials (a UNTP Digital
        Identity Anchor and an SD-JWT business identity). 409 once decided."""
        return self._decide(request, attestation_id, lambda attestation, reason:
                            attestation_approve(request=attestation, reason=reason))


class AttestationRejectApi(_AttestationDecisionApi):
    @extend_schema(operation_id="wallet_attestations_reject", request=DecisionInput,
                   responses=DECISION_RESPONSES)
    @requires_scope(Scope.ATTESTATIONS_REVIEW)
    def post(self, request, attestation_id):
        """Reject, with a reason. 409 once decided."""
        return self._decide(request, attestation_id, lambda attestation, reason:
                            attestation_reject(request=attestation, reviewer=None,
                                               reason=reason))

