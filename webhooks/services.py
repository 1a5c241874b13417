"""Subscriptions and deliveries (docs/webhooks.md).

- `subscription_create` checks the URL (https, a public address) and the event types, makes a
  `whsec_` secret, stores it encrypted and returns it: the only time it is shown.
- `deliveries_record` is core.events' sink: after the change commits, one Delivery per event
  and active subscription of an organisation entitled to the event (the domain says which:
  core.events.Event.organisations), then Celery sends them (tasks.deliver_batch).
- `delivery_send` makes one attempt: signed per Standard Webhooks (`webhook-id`,
  `webhook-timestamp`, `webhook-signature: v1,<base64 HMAC-SHA256 of "id.timestamp.body">`),
  logged (status, latency, error); a 2xx delivers it, anything else schedules the next try
  after WEBHOOK_RETRY_SCHEDULE[attempt - 1] seconds, and once the schedule is spent the
  delivery is failed (the admin shows it and can retry it: `delivery_retry`)."""

from __future__ import annotations

import base64
import json
import logging
import os
import time
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from standardwebhooks.webhooks import Webhook

from core import events
from core.enqueue import enqueue
from core.errors import DomainError
from credentials.keys import encryption_key_from_text, unwrap_private_key, wrap_private_key
from wallet.tenancy.authority import Actor, authorise
from wallet.tenancy.models import ApiToken, Organisation
from webhooks import sending
from webhooks.models import Delivery, DeliveryAttempt, Subscription

log = logging.getLogger(__name__)
BATCH = 25  # deliveries per task: a burst spreads over the workers, each keeping connections
MAX_SUBSCRIPTIONS = 20  # per organisation


class WebhookError(DomainError):
    code = "webhook_error"
    status = 400  # what was asked for cannot be subscribed


# Secrets ---------------------------------------------------------------------------------------

def _wrapping_key() -> bytes:
    return encryption_key_from_text(settings.KEY_ENCRYPTION_KEY)


def new_secret() -> str:
    return "whsec_" + base64.b64encode(os.urandom(32)).decode()


def _wrap(secret: str, subscription_id) -> bytes:
    return wrap_private_key(secret.encode(), _wrapping_key(),
                            associated=str(subscription_id).encode())


def secret_of(subscription: Subscription) -> str:
    return unwrap_private_key(bytes(subscription.wrapped_secret), _wrapping_key(),
                              associated=str(subscription.pk).encode()).decode()


# Subscriptions ---------------------------------------------------------------------------------

def _checked(url: str, event_types) -> list[str]:
    try:
        sending.check_url(url)
    except sending.SendError as error:
        raise WebhookError(f"This URL cannot receive webhooks: {error}.",
                           code="url_refused") from None
    if not isinstance(event_types, list | tuple) or not event_types:
        raise WebhookError(f"Name the events to receive: some of {', '.join(events.KINDS)}.",
                           code="no_events")
    unknown = sorted(set(event_types) - set(events.KINDS))
    if unknown:
        raise WebhookError(f"Unknown events: {', '.join(map(str, unknown))}; the events are "
                           f"{', '.join(events.KINDS)}.", code="unknown_events")
    return [kind for kind in events.KINDS if kind in event_types]


@transaction.atomic
def subscription_create(*, actor: Actor, organisation: Organisation, url: str, event_types,
                        description: str = "") -> tuple[Subscription, str]:
    """(the subscription, its secret: shown this once). WebhookError for a URL that cannot
    receive webhooks or unknown events; NotAuthorised for an actor of another organisation."""
    authority = authorise(actor, organisation=organisation,
                          scope=ApiToken.Scope.WEBHOOKS_MANAGE)
    kinds = _checked(url, event_types)
    if Subscription.objects.filter(organisation=organisation).count() >= MAX_SUBSCRIPTIONS:
        raise WebhookError(f"An organisation has at most {MAX_SUBSCRIPTIONS} subscriptions.",
                           code="too_many_subscriptions")
    secret = new_secret()
    subscription = Subscription(organisation=organisation, url=url, events=kinds,
                                description=description[:200], created_by=authority.user)
    subscription.wrapped_secret = _wrap(secret, subscription.pk)
    subscription.save()
    return subscription, secret


def subscription_delete(*, actor: Actor, subscription: Subscription) -> None:
    authorise(actor, organisation=subscription.organisation,
              scope=ApiToken.Scope.WEBHOOKS_MANAGE)
    subscription.delete()


# Recording events (the sink, after commit) -----------------------------------------------------

def deliveries_record(published: list[events.Event]) -> list[int]:
    """One Delivery per event and subscribed endpoint of an entitled organisation; then the
    sending is queued. Runs after the change committed (core.events)."""
    organisations = set().union(*(event.organisations for event in published))
    subscriptions = [s for s in Subscription.objects.filter(organisation__in=organisations,
                                                            active=True)]
    if not subscriptions:
        return []
    now = timezone.now()
    deliveries = []
    for event in published:
        body = None
        for subscription in subscriptions:
            if (subscription.organisation_id not in event.organisations
                    or event.kind not in subscription.events):
                continue
            body = body or json.dumps({"type": event.kind,
                                       "timestamp": event.occurred_at.isoformat(),
                                       "data": event.payload}, separators=(",", ":"))
            deliveries.append(Delivery(subscription=subscription, event_id=event.id,
                                       event_type=event.kind, body=body, committed_at=now,
                                       next_attempt_at=now))
    Delivery.objects.bulk_create(deliveries, batch_size=1000)
    ids = [delivery.pk for delivery in deliveries]
    from webhooks.tasks import deliver_batch  # tasks import this module

    for start in range(0, len(ids), BATCH):
        enqueue(deliver_batch, ids[start:start + BATCH])
    return ids


# Sending ---------------------------------------------------------------------------------------

def signed_headers(secret: str, event_id: str, body: str, at=None) -> dict[str, str]:
    at = at or timezone.now()
    return {"webhook-id": event_id, "webhook-timestamp": str(int(at.timestamp())),
            "webhook-signature": Webhook(secret).sign(event_id, at, body)}


def delivery_send(delivery_id: int) -> Delivery | None:
    """One attempt at a pending delivery (see the module's docstring); None when there is
    nothing to send (delivered, failed, or another worker holds it)."""
    with transaction.atomic():
        delivery = (Delivery.objects.select_for_update(skip_locked=True, of=("self",))
                    .select_related("subscription").filter(pk=delivery_id,
                                                           state=Delivery.State.PENDING)
                    .first())
        if delivery is None:
            return None
        subscription = delivery.subscription
        started = timezone.now()
        clock = time.perf_counter()
        status, error = None, ""
        try:
            status = sending.post(subscription.url, delivery.body.encode(), signed_headers(
                secret_of(subscription), delivery.event_id, delivery.body, started))
        except sending.SendError as exc:
            error = f"{exc.code}: {exc}"
        latency = (time.perf_counter() - clock) * 1000
        if status is not None and not 200 <= status < 300:
            error = f"answered {status}"
        delivery.attempts += 1
        DeliveryAttempt.objects.create(delivery=delivery, number=delivery.attempts,
                                       started_at=started, status=status, latency_ms=latency,
                                       error=error)
        delivery.last_status, delivery.last_error, delivery.last_latency_ms = (status, error,
                                                                               latency)
        retry_in = None
        if status is not None and 200 <= status < 300:
            delivery.state, delivery.delivered_at = Delivery.State.DELIVERED, timezone.now()
            delivery.next_attempt_at = None
        elif error.startswith("refused") or delivery.attempts > len(
                settings.WEBHOOK_RETRY_SCHEDULE):
            delivery.state, delivery.next_attempt_at = Delivery.State.FAILED, None
        else:
            retry_in = settings.WEBHOOK_RETRY_SCHEDULE[delivery.attempts - 1]
            delivery.next_attempt_at = started + timedelta(seconds=retry_in)
        delivery.save(update_fields=["attempts", "state", "delivered_at", "next_attempt_at",
                                     "last_status", "last_error", "last_latency_ms"])
    if retry_in is not None:
        from webhooks.tasks import deliver_batch

        enqueue(deliver_batch, [delivery.pk], countdown=retry_in)
    return delivery


def delivery_retry(*, actor: Actor, delivery: Delivery) -> Delivery:
    """Send a delivery again now (a failed one gets a new round of the schedule)."""
    authorise(actor, organisation=delivery.subscription.organisation,
              scope=ApiToken.Scope.WEBHOOKS_MANAGE)
    Delivery.objects.filter(pk=delivery.pk).update(state=Delivery.State.PENDING, attempts=0,
                                                   next_attempt_at=timezone.now())
    from webhooks.tasks import deliver_batch

    transaction.on_commit(lambda: enqueue(deliver_batch, [delivery.pk]))
    delivery.refresh_from_db()
    return delivery


def deliveries_requeue_due(*, grace: timedelta = timedelta(minutes=2)) -> int:
    """Queue again the pending deliveries whose next attempt is overdue (a message lost with
    the broker); the periodic sweep."""
    ids = list(Delivery.objects.filter(state=Delivery.State.PENDING,
                                       next_attempt_at__lt=timezone.now() - grace)
               .values_list("pk", flat=True)[:10_000])
    from webhooks.tasks import deliver_batch

    for start in range(0, len(ids), BATCH):
        enqueue(deliver_batch, ids[start:start + BATCH])
    return len(ids)
