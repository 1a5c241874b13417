"""Webhooks over the API (`webhooks:manage`): subscribe an endpoint (the secret is in the answer
to the POST, and never again), list, read and delete subscriptions, read their deliveries with
the attempts, and send a delivery again. Only the key's organisation's own: another
organisation's subscription or delivery is "not found"."""

from __future__ import annotations

import uuid

from django.urls import reverse
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound
from rest_framework.response import Response

from core import events
from core.api.permissions import Scope, requires_scope
from core.api.schema import KEYED, WRITE, problems
from core.api.serializers import paginated
from core.api.views import ApiView, Pages, page_parameters, validated
from webhooks.models import Delivery, DeliveryAttempt, Subscription
from webhooks.services import delivery_retry, subscription_create, subscription_delete


class SubscriptionInput(serializers.Serializer):
    url = serializers.URLField(max_length=2000)
    events = serializers.ListField(child=serializers.ChoiceField(choices=events.KINDS),
                                   min_length=1, max_length=len(events.KINDS))
    description = serializers.CharField(max_length=200, required=False, allow_blank=True)


class SubscriptionOutput(serializers.ModelSerializer):
    events = serializers.ListField(child=serializers.CharField())

    class Meta:
        model = Subscription
        fields = ["id", "url", "events", "description", "active", "created_at"]


# Small integers declared here: from the model fields, the document's `maximum` would follow the
# database backend (32767 on PostgreSQL, 2**63-1 on SQLite), and the API must not depend on it.
class AttemptOutput(serializers.ModelSerializer):
    number = serializers.IntegerField(min_value=1)
    status = serializers.IntegerField(allow_null=True, help_text="The receiver's HTTP status.")

    class Meta:
        model = DeliveryAttempt
        fields = ["number", "started_at", "status", "latency_ms", "error"]


class DeliveryOutput(serializers.ModelSerializer):
    attempts = serializers.IntegerField(min_value=0)
    last_status = serializers.IntegerField(allow_null=True)
    attempt_log = AttemptOutput(source="log", many=True)

    class Meta:
        model = Delivery
        fields = ["id", "event_id", "event_type", "state", "attempts", "committed_at",
                  "next_attempt_at", "delivered_at", "last_status", "last_latency_ms",
                  "last_error", "attempt_log"]


CREATED = inline_serializer("SubscriptionCreated", fields={
    **{name: field for name, field in SubscriptionOutput().get_fields().items()},
    "secret": serializers.CharField(help_text="The signing secret (whsec_...): shown only in "
                                              "this answer.")})


def _subscription_of(request, subscription_id) -> Subscription:
    try:
        key = uuid.UUID(str(subscription_id))
    except ValueError:
        key = None
    subscription = key and Subscription.objects.filter(
        pk=key, organisation=request.user.organisation).first()
    if not subscription:
        raise NotFound("No such subscription.", code="not_found")
    return subscription


class SubscriptionCollectionApi(ApiView):
    @extend_schema(operation_id="webhooks_subscriptions_list", parameters=page_parameters(),
                   responses={200: paginated(SubscriptionOutput), **problems(*KEYED, 404)})
    @requires_scope(Scope.WEBHOOKS_MANAGE)
    def get(self, request):
        """Your organisation's webhook subscriptions."""
        pages = Pages()
        page = pages.paginate_queryset(Subscription.objects.filter(
            organisation=request.user.organisation).order_by("created_at"), request, view=self)
        return pages.get_paginated_response(SubscriptionOutput(page, many=True).data)

    @extend_schema(operation_id="webhooks_subscriptions_create", request=SubscriptionInput,
                   responses={201: CREATED, **problems(*KEYED, *WRITE)})
    @requires_scope(Scope.WEBHOOKS_MANAGE)
    def post(self, request):
        """Subscribe an https endpoint to events. The answer carries the signing secret, which
        is never shown again (docs/webhooks.md: verifying a delivery)."""
        fields = validated(SubscriptionInput, request.data)
        subscription, secret = subscription_create(
            actor=request.user.as_actor(), organisation=request.user.organisation,
            url=fields["url"], event_types=fields["events"],
            description=fields.get("description", ""))
        return Response({**SubscriptionOutput(subscription).data, "secret": secret},
                        status=status.HTTP_201_CREATED,
                        headers={"Location": reverse("api-webhook-subscription",
                                                     args=[subscription.pk])})


class SubscriptionItemApi(ApiView):
    @extend_schema(operation_id="webhooks_subscriptions_retrieve",
                   responses={200: SubscriptionOutput, **problems(*KEYED, 404)})
    @requires_scope(Scope.WEBHOOKS_MANAGE)
    def get(self, request, subscription_id):
        """One of your subscriptions."""
        return Response(SubscriptionOutput(_subscription_of(request, subscription_id)).data)

    @extend_schema(operation_id="webhooks_subscriptions_delete",
                   responses={204: None, **problems(*KEYED, 404)})
    @requires_scope(Scope.WEBHOOKS_MANAGE)
    def delete(self, request, subscription_id):
        """Stop sending to this endpoint (its deliveries go with it)."""
        subscription_delete(actor=request.user.as_actor(),
                            subscription=_subscription_of(request, subscription_id))
        return Response(status=status.HTTP_204_NO_CONTENT)


class DeliveryListApi(ApiView):
    @extend_schema(operation_id="webhooks_deliveries_list", parameters=page_parameters(),
                   responses={200: paginated(DeliveryOutput), **problems(*KEYED, 404)})
    @requires_scope(Scope.WEBHOOKS_MANAGE)
    def get(self, request, subscription_id):
        """The deliveries to one of your endpoints, newest first, with every attempt."""
        subscription = _subscription_of(request, subscription_id)
        pages = Pages()
        page = pages.paginate_queryset(subscription.deliveries.prefetch_related("log")
                                       .order_by("-committed_at", "-id"), request, view=self)
        return pages.get_paginated_response(DeliveryOutput(page, many=True).data)


class DeliveryRetryApi(ApiView):
    @extend_schema(operation_id="webhooks_deliveries_retry", request=None,
                   responses={202: DeliveryOutput, **problems(*KEYED, 404)})
    @requires_scope(Scope.WEBHOOKS_MANAGE)
    def post(self, request, delivery_id):
        """Send a delivery again now (a failed one gets the retry schedule anew)."""
        delivery = (Delivery.objects.select_related("subscription__organisation")
                    .filter(pk=int(delivery_id) if str(delivery_id).isdigit() else None,
                            subscription__organisation=request.user.organisation).first())
        if delivery is None:
            raise NotFound("No such delivery.", code="not_found")
        delivery = delivery_retry(actor=request.user.as_actor(), delivery=delivery)
        return Response(DeliveryOutput(delivery).data, status=status.HTTP_202_ACCEPTED)
