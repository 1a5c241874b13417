"""Credential offers over the partner API (/api/v1/openid4vci/): an organisation's API key with
the `offers:create` scope makes an offer and reads what became of it. One class per operation;
the service does the work; errors are problem+json. The secrets of an offer (its links, the
pre-authorized code inside them, the transaction code) are in the creation response only."""

from __future__ import annotations

import uuid

from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound
from rest_framework.response import Response

from core.api.permissions import Scope, requires_scope
from core.api.schema import KEYED, WRITE, problems
from core.api.serializers import StrictInput
from core.api.views import ApiView, validated
from openid4vci.models import CredentialOffer
from openid4vci.services.offers import current_state, offer_create
from passports.models import Entitlement, Passport
from wallet.tenancy.legal_models import AttestationRequest, Mandate, WalletCredential

MAX_ID = 2 ** 63 - 1
# API field → (service keyword, the model, how the organisation owns it)
SOURCES = {
    "mandate": ("mandate", Mandate, "organisation"),
    "wallet_credential": ("wallet_credential", WalletCredential, "issuer"),
    "attestation_request": ("attestation", AttestationRequest, "anchor"),
    "entitlement": ("entitlement", Entitlement, "manufacturer"),
    "passport": ("passport", Passport, "product__organisation"),
}
API_FIELD = {"configuration": "credential_configuration_id", "attestation": "attestation_request"}


class OfferInput(StrictInput):
    credential_configuration_id = serializers.ChoiceField(
        choices=CredentialOffer.Configuration.choices,
        help_text="What to offer; business_identity only from trust anchors.")
    mandate = serializers.IntegerField(required=False, min_value=1, max_value=MAX_ID,
                                       help_text="For `mandate`: a mandate you gave.")
    wallet_credential = serializers.IntegerField(
        required=False, min_value=1, max_value=MAX_ID,
        help_text="For `business_identity`: a business identity credential you issued.")
    attestation_request = serializers.IntegerField(
        required=False, min_value=1, max_value=MAX_ID,
        help_text="For `business_identity`: an attestation request you review (while the "
                  "review is open, the wallet's request is deferred until you decide).")
    entitlement = serializers.IntegerField(required=False, min_value=1, max_value=MAX_ID,
                                           help_text="For `access_role`: an entitlement you "
                                                     "gave a partner.")
    passport = serializers.UUIDField(required=False,
                                     help_text="For `product_passport`: an issued passport.")
    role = serializers.CharField(required=False, allow_blank=True, max_length=200,
                                 help_text="For `access_role`: the partner's role, in words.")


class OfferOutput(serializers.Serializer):
    id = serializers.UUIDField()
    credential_configuration_id = serializers.CharField(source="configuration")
    issuer = serializers.CharField(source="issuer.did")
    subject = serializers.CharField(help_text="Who the credential is about (DID or URL).")
    state = serializers.ChoiceField(choices=CredentialOffer.State.choices)
    state_reason = serializers.CharField()
    created_at = serializers.DateTimeField()
    expires_at = serializers.DateTimeField(help_text="When the pre-authorized code expires.")
    redeemed_at = serializers.DateTimeField(allow_null=True,
                                            help_text="When the wallet redeemed the code.")
    issued_at = serializers.DateTimeField(allow_null=True,
                                          help_text="When the wallet received the credential.")

    def to_representation(self, offer):
        data = super().to_representation(offer)
        data["state"] = current_state(offer)
        return data


class OfferCreatedOutput(OfferOutput):
    credential_offer_uri = serializers.CharField(
        help_text="`openid-credential-offer://?credential_offer_uri=...` (by reference: "
                  "short, for QR codes).")
    credential_offer = serializers.CharField(
        help_text="`openid-credential-offer://?credential_offer=...` (by value).")
    offer_url = serializers.URLField(help_text="The https URL that answers the offer JSON.")
    tx_code = serializers.CharField(help_text="The transaction code: send it to the holder "
                                              "through another channel. Shown only now.")


class OfferCollectionApi(ApiView):
    @extend_schema(operation_id="openid4vci_offers_create", request=OfferInput,
                   responses={201: OfferCreatedOutput, **problems(*KEYED, *WRITE)})
    @requires_scope(Scope.OFFERS_CREATE)
    def post(self, request):
        """Offer a credential to an EU wallet (OpenID4VCI pre-authorized code flow). The
        response carries the offer links and the transaction code, once."""
        organisation = request.user.organisation
        fields = validated(OfferInput, request.data)
        sources = {}
        for name, (keyword, model, owner) in SOURCES.items():
            if name in fields:
                found = model.objects.filter(pk=fields[name], **{owner: organisation}).first()
                if found is None:
                    raise serializers.ValidationError(
                        {name: serializers.ErrorDetail("Not found among yours.",
                                                       code="does_not_exist")})
                sources[keyword] = found
        try:
            created = offer_create(issuer=organisation,
                                   configuration=fields["credential_configuration_id"],
                                   role=fields.get("role", ""),
                                   actor=request.user.as_actor(),
                                   **sources)
        except DjangoValidationError as exc:
            if not hasattr(exc, "error_dict"):
                raise
            raise DjangoValidationError({API_FIELD.get(field, field): errors for field, errors
                                         in exc.error_dict.items()}) from None
        offer = created.offer
        body = {**OfferOutput(offer).data, "credential_offer_uri": created.by_reference,
                "credential_offer": created.by_value, "offer_url": created.offer_url,
                "tx_code": created.tx_code}
        return Response(body, status=status.HTTP_201_CREATED,
                        headers={"Cache-Control": "no-store"})


class OfferDetailApi(ApiView):
    @extend_schema(operation_id="openid4vci_offers_retrieve",
                   responses={200: OfferOutput, **problems(*KEYED, 404)})
    @requires_scope(Scope.OFFERS_CREATE)
    def get(self, request, offer_id):
        """What became of an offer: offered, token_issued, deferred, issued, expired, locked
        or denied (with the reason)."""
        try:
            pk = uuid.UUID(str(offer_id))
        except ValueError:
            raise NotFound("No such offer.", code="not_found") from None
        offer = (CredentialOffer.objects.select_related("issuer")
                 .filter(pk=pk, issuer=request.user.organisation).first())
        if offer is None:
            raise NotFound("No such offer.", code="not_found")
        return Response(OfferOutput(offer).data)
