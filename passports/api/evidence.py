"""The evidence API: conformity credentials, traceability events and facility records of the
key's organisation, and the links of its products to evidence (docs/evidence.md). One class per
operation, as in views.py; the services decide (passports.services.evidence)."""

from __future__ import annotations

import uuid

from django.urls import reverse
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound
from rest_framework.response import Response

from core.api.permissions import Scope, requires_scope
from core.api.problems import Conflict
from core.api.schema import KEYED, WRITE, problems
from core.api.serializers import StrictInput
from core.api.views import ApiView, Pages, page_parameters, validated
from passports.api import access, media
from passports.api import serializers as io
from passports.api.views import CREDENTIAL_RESPONSES, credential_response
from passports.models import EvidenceCredential, EvidenceLink
from passports.services.evidence import (
    evidence_link_add,
    evidence_request,
    evidence_revoke,
    transformation_record,
)


class EvidenceCreateInput(StrictInput):
    kind = serializers.ChoiceField(choices=EvidenceCredential.Kind.choices)
    subject = serializers.DictField(help_text=(
        "What the credential says. conformity: name, scheme, criterion, topic, issued_to "
        "(each {id, name}), product or facility ({id, name}), assessment_date, optional metric "
        "({id, name}) with value and unit, conformance. traceability: name, event_date, "
        "inputs and outputs ([{id, name}]), facility. facility: id, name, country, optional "
        "description and process ({code, name})."))
    previous = serializers.UUIDField(required=False, help_text=(
        "The credential this one is the next version of."))


class EvidenceOutput(serializers.Serializer):
    id = serializers.UUIDField()
    kind = serializers.ChoiceField(choices=EvidenceCredential.Kind.choices)
    name = serializers.CharField()
    version = serializers.IntegerField()
    series = serializers.UUIDField()
    state = serializers.ChoiceField(choices=EvidenceCredential.State.choices)
    state_reason = serializers.CharField()
    product = serializers.IntegerField(source="product_id", allow_null=True)
    credential_url = serializers.URLField(help_text="The credential's public address and `id`.")
    issued_at = serializers.DateTimeField(allow_null=True)
    created_at = serializers.DateTimeField()
    superseded_by = serializers.UUIDField(source="superseded_by_id", allow_null=True)


class LinkInput(StrictInput):
    url = serializers.URLField(max_length=2000, help_text=(
        "The address of the credential to link (here or at another service)."))


class LinkOutput(serializers.Serializer):
    id = serializers.IntegerField()
    role = serializers.ChoiceField(choices=EvidenceLink.Role.choices)
    url = serializers.URLField()
    name = serializers.CharField()
    link_type = serializers.CharField()
    media_type = serializers.CharField()
    digest = serializers.CharField(help_text="digestMultibase of the linked credential's bytes.")
    claim = serializers.DictField()


class TransformationInput(StrictInput):
    inputs = serializers.ListField(child=serializers.URLField(max_length=2000), min_length=1,
                                   max_length=1000, help_text=(
                                       "The resolvable URLs of the inputs' passports (GS1 "
                                       "Digital Links or credential ids, here or elsewhere)."))
    name = serializers.CharField(required=False, max_length=200)


LINK_PROBLEMS = {422: "A linked credential could not be fetched, does not verify or is not "
                      "of a kind that can be linked.",
                 409: "The credential is not in a state that allows this."}


def _own(request, credential_id) -> EvidenceCredential:
    try:
        key = uuid.UUID(str(credential_id))
    except ValueError:
        key = None
    found = (EvidenceCredential.objects.filter(pk=key, organisation=request.user.organisation)
             .first() if key else None)
    if found is None:
        raise NotFound("No such evidence credential.", code="not_found")
    return found


def _output(credential) -> dict:
    return EvidenceOutput(credential).data


class EvidenceListApi(ApiView):
    @extend_schema(operation_id="evidence_list", parameters=page_parameters(),
                   responses={200: io.paginated(EvidenceOutput), **problems(*KEYED, 404)})
    @requires_scope(Scope.PASSPORTS_READ)
    def get(self, request):
        """Your organisation's evidence credentials, newest first."""
        pages = Pages()
        page = pages.paginate_queryset(EvidenceCredential.objects.filter(
            organisation=request.user.organisation).order_by("-created_at", "-pk"),
            request, view=self)
        return pages.get_paginated_response(EvidenceOutput(page, many=True).data)


class EvidenceCreateApi(ApiView):
    @extend_schema(operation_id="evidence_create", request=EvidenceCreateInput,
                   responses={202: EvidenceOutput, **problems(*KEYED, *WRITE, 404, 409)},
                   description="Issue a conformity credential (assessment bodies only), a "
                               "traceability event or a facility record. It is signed in the "
                               "background: the answer is 202 with state `pending`.")
    @requires_scope(Scope.PASSPORTS_ISSUE)
    def post(self, request):
        data = validated(EvidenceCreateInput, request.data)
        previous = _own(request, data["previous"]) if data.get("previous") else None
        credential = evidence_request(organisation=request.user.organisation,
                                      kind=data["kind"], subject=data["subject"],
                                      previous=previous, actor=request.user.as_actor())
        return Response(_output(credential), status=status.HTTP_202_ACCEPTED,
                        headers={"Location": reverse("api-evidence-item", args=[credential.pk])})


class EvidenceCollectionApi(EvidenceListApi, EvidenceCreateApi):
    """/evidence/: GET lists, POST issues."""


class EvidenceItemApi(ApiView):
    @extend_schema(operation_id="evidence_retrieve",
                   responses={200: EvidenceOutput, **problems(*KEYED, 404)})
    @requires_scope(Scope.PASSPORTS_READ)
    def get(self, request, credential_id):
        """An evidence credential of yours: its state, version and address."""
        return Response(_output(_own(request, credential_id)))


class EvidenceCredentialApi(ApiView):
    renderer_classes = media.CREDENTIAL_RENDERERS

    @extend_schema(operation_id="evidence_credential",
                   responses={**CREDENTIAL_RESPONSES, **problems(*KEYED, 404, 406, 409)},
                   description="The signed credential, negotiated like a passport's.")
    @requires_scope(Scope.PASSPORTS_READ)
    def get(self, request, credential_id):
        credential = _own(request, credential_id)
        if not credential.jwt:
            raise Conflict(f"The credential is {credential.state}: it has no credential yet.",
                           code="not_issued")
        return credential_response(request, credential.jwt)


class EvidenceRevokeApi(ApiView):
    @extend_schema(operation_id="evidence_revoke", request=io.PassportChangeInput,
                   responses={202: EvidenceOutput, **problems(*KEYED, *WRITE, 404, 409)},
                   description="Revoke the credential for good; its status list says so "
                               "within seconds (202).")
    @requires_scope(Scope.PASSPORTS_REVOKE)
    def post(self, request, credential_id):
        credential = _own(request, credential_id)
        data = validated(io.PassportChangeInput, request.data)
        credential = evidence_revoke(credential=credential, actor=request.user.as_actor(),
                                     reason=data.get("reason", ""))
        return Response(_output(credential), status=status.HTTP_202_ACCEPTED)


class ProductLinksListApi(ApiView):
    @extend_schema(operation_id="products_evidence_links_list",
                   responses={200: LinkOutput(many=True), **problems(*KEYED, 404)})
    @requires_scope(Scope.PRODUCTS_READ)
    def get(self, request, product_id):
        """The product's links to evidence; its next passport version carries them."""
        product = access.product_of(request.user, product_id)
        return Response(LinkOutput(product.evidence_links.all(), many=True).data)


class ProductLinkAddApi(ApiView):
    @extend_schema(operation_id="products_evidence_links_create", request=LinkInput,
                   responses={201: LinkOutput, **problems(*KEYED, *WRITE, 404, 409, 422,
                                                           descriptions=LINK_PROBLEMS)},
                   description="Link a credential (a conformity credential, a traceability "
                               "event, a facility record or an input's passport, here or at "
                               "another service) to the product, bound by the hash of its "
                               "bytes. It must verify; the next passport version carries it.")
    @requires_scope(Scope.PASSPORTS_ISSUE)
    def post(self, request, product_id):
        product = access.product_of(request.user, product_id)
        data = validated(LinkInput, request.data)
        link = evidence_link_add(product=product, url=data["url"],
                                 actor=request.user.as_actor())
        return Response(LinkOutput(link).data, status=status.HTTP_201_CREATED)


class ProductLinksApi(ProductLinksListApi, ProductLinkAddApi):
    """/products/<id>/evidence-links: GET lists, POST links."""


class TransformationApi(ApiView):
    @extend_schema(operation_id="products_transformations_create", request=TransformationInput,
                   responses={202: EvidenceOutput, **problems(*KEYED, *WRITE, 404, 409, 422,
                                                           descriptions=LINK_PROBLEMS)},
                   description="Record that the product was made from inputs (their passports' "
                               "resolvable URLs): each input's passport is verified and linked "
                               "by hash, and a traceability event (a UNTP MakeEvent) is issued "
                               "(202, `pending`); once signed, the next passport links it.")
    @requires_scope(Scope.PASSPORTS_ISSUE)
    def post(self, request, product_id):
        product = access.product_of(request.user, product_id)
        data = validated(TransformationInput, request.data)
        event = transformation_record(product=product, inputs=data["inputs"],
                                      name=data.get("name", ""), actor=request.user.as_actor())
        return Response(_output(event), status=status.HTTP_202_ACCEPTED,
                        headers={"Location": reverse("api-evidence-item", args=[event.pk])})
