"""Subscriptions and deliveries (docs/webhooks.md).

- `subscription_create` checks the URL (https, a public address) and the event types, makes a
  `whsec_` secret, stores it encrypted and returns it: the only time it is shown.
- `deliveries_record` is core.events' sink: after the change commits, one Delivery per event
  and active subscription of an organisation entitled to the event (the domain says which:
  core.events.Event.organisations), then Celery sends them (tasks.deliver_batch).
- `deliveries_send` (the task, BATCH deliveries at a time) makes one attempt at each: it
  claims them in one short transaction (SELECT ... FOR UPDATE SKIP LOCKED, then a lease:
  `lease_until`, WEBHOOK_LEASE_SECONDS ahead), sends them with no lock held, per endpoint up to
  LANES at once over kept, pinned connections (webhooks.sending), endpoints side by side, and
  records every attempt and new state in one more transaction, which ends the lease. Each is
  signed per Standard Webhooks (`webhook-id`, `webhook-timestamp`, `webhook-signature:
  v1,<base64 HMAC-SHA256 of "id.timestamp.body">`) and logged (status, latency, error); a 2xx
  delivers it, anything else schedules the next try after WEBHOOK_RETRY_SCHEDULE[attempt - 1]
  seconds, and once the schedule is spent the delivery is failed (the admin shows it and can
  retry it: `delivery_retry`). An endpoint that lets one time out is sent nothing more in that
  batch: the rest wait for its first retry, uncounted; a batch past sending_seconds() sends no
  more and queues the rest again at once.
- Crash safety (at least once): a worker that dies mid-batch leaves its deliveries leased; a
  task that comes again meanwhile (the broker redelivers it) skips them, and once the lease has
  run out the sweep (`deliveries_requeue_due`) queues them again. A delivery whose POST arrived
  before the crash is then sent a second time, with the same `webhook-id`: receivers drop
  duplicates by it."""

from __future__ import annotations

import base64
import json
import logging
import os
import time
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Q
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
BATCH = 100  # deliveries per task: claimed, sent and recorded together
LANES = 4  # deliveries of a batch sent at once to one endpoint (each on a connection of its own)
MAX_THREADS = 16  # sender threads of a batch, over all its endpoints
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


@dataclass
class _Outcome:
    """What became of one claimed delivery in a batch: an attempt (status or error), or, with
    `defer_seconds`, not tried this time (nothing is counted or logged)."""

    started: datetime
    status: int | None = None
    error: str = ""
    latency_ms: float = 0.0
    defer_seconds: float | None = None


def lease_seconds() -> float:
    """WEBHOOK_LEASE_SECONDS, but always longer than a batch can take (sending_seconds(), the
    last sends' timeout, recording): a live worker's lease never runs out."""
    return max(settings.WEBHOOK_LEASE_SECONDS, 4 * settings.WEBHOOK_TIMEOUT_SECONDS + 10)


def sending_seconds() -> float:
    """How long a batch starts new sends; each may then take WEBHOOK_TIMEOUT_SECONDS more, all
    well within the lease."""
    return 2 * settings.WEBHOOK_TIMEOUT_SECONDS


def deliveries_send(delivery_ids) -> list[Delivery]:
    """One attempt at each pending delivery of `delivery_ids` no other worker has (see the
    module's docstring); the deliveries attempted or deferred (none: nothing to do)."""
    claimed = _claim(delivery_ids)
    if not claimed:
        return []
    outcomes, crash = _send_all(claimed)
    retries = _record(claimed, outcomes)
    from webhooks.tasks import deliver_batch  # tasks import this module

    for countdown, ids in sorted(retries.items()):
        for start in range(0, len(ids), BATCH):
            enqueue(deliver_batch, ids[start:start + BATCH], countdown=countdown)
    if crash is not None:
        raise crash
    return claimed


def _claim(delivery_ids) -> list[Delivery]:
    """Lease the pending deliveries of `delivery_ids` that no live worker holds, in one short
    transaction; nothing stays locked while sending."""
    now = timezone.now()
    with transaction.atomic():
        claimed = list(Delivery.objects.select_for_update(skip_locked=True, of=("self",))
                       .select_related("subscription")
                       .filter(pk__in=list(delivery_ids), state=Delivery.State.PENDING)
                       .filter(Q(lease_until__isnull=True) | Q(lease_until__lte=now))
                       .order_by("pk"))
        if claimed:
            Delivery.objects.filter(pk__in=[d.pk for d in claimed]).update(
                lease_until=now + timedelta(seconds=lease_seconds()))
    return claimed


def _send_all(deliveries: list[Delivery]) -> tuple[dict[int, _Outcome], Exception | None]:
    """Send the claimed deliveries: per endpoint up to LANES at once, each lane over a kept
    connection of its own, endpoints side by side (a slow one holds only its own lanes)."""
    secrets: dict = {}
    queues: dict[tuple[str, int], deque] = {}
    outcomes: dict[int, _Outcome] = {}
    for delivery in deliveries:
        subscription = delivery.subscription
        if subscription.pk not in secrets:
            secrets[subscription.pk] = secret_of(subscription)
        try:
            target = sending.endpoint(subscription.url)
        except sending.SendError as exc:
            outcomes[delivery.pk] = _Outcome(timezone.now(), error=f"{exc.code}: {exc}")
            continue
        queues.setdefault((target.host, target.port), deque()).append(delivery)
    unreachable: set = set()
    stop_at = time.monotonic() + sending_seconds()

    def lane(key: tuple[str, int]) -> None:
        queue = queues[key]
        while True:
            try:
                delivery = queue.popleft()
            except IndexError:
                return
            if key in unreachable:  # it let one time out: the rest wait for its first retry
                outcomes[delivery.pk] = _Outcome(timezone.now(),
                                                 defer_seconds=_first_retry_seconds())
            elif time.monotonic() > stop_at:  # the batch is out of time: the rest go again
                outcomes[delivery.pk] = _Outcome(timezone.now(), defer_seconds=0.0)
            else:
                outcome = _attempt(delivery, secrets[delivery.subscription_id])
                if outcome.error.startswith("timeout"):
                    unreachable.add(key)
                outcomes[delivery.pk] = outcome

    # Round-robin: every endpoint's first lane starts before any endpoint's second.
    lanes = [key for rank in range(LANES) for key, queue in queues.items() if len(queue) > rank]
    crash = None
    if len(lanes) == 1:
        lane(lanes[0])
    elif lanes:
        with ThreadPoolExecutor(max_workers=min(MAX_THREADS, len(lanes)),
                                thread_name_prefix="webhook") as pool:
            for future in [pool.submit(lane, key) for key in lanes]:
                if (error := future.exception()) is not None:
                    crash = crash or error
    return outcomes, crash


def _first_retry_seconds() -> float:
    schedule = settings.WEBHOOK_RETRY_SCHEDULE
    return schedule[0] if schedule else 0.0


def _attempt(delivery: Delivery, secret: str) -> _Outcome:
    """One signed POST (in a sender thread: no database here)."""
    started = timezone.now()
    clock = time.perf_counter()
    status, error = None, ""
    try:
        status = sending.post(delivery.subscription.url, delivery.body.encode(), signed_headers(
            secret, delivery.event_id, delivery.body, started))
    except sending.SendError as exc:
        error = f"{exc.code}: {exc}"
    if status is not None and not 200 <= status < 300:
        error = f"answered {status}"
    return _Outcome(started, status, error, (time.perf_counter() - clock) * 1000)


RECORDED = ["attempts", "state", "delivered_at", "next_attempt_at", "lease_until",
            "last_status", "last_error", "last_latency_ms"]


def _record(deliveries: list[Delivery], outcomes: dict[int, _Outcome]) -> dict[float, list]:
    """The batch's attempts and new states, in one transaction (which ends the lease); the ids
    to try again, by the seconds to wait."""
    schedule = settings.WEBHOOK_RETRY_SCHEDULE
    now = timezone.now()
    attempts, retries = [], {}
    for delivery in deliveries:
        # Not reached (a sender thread failed): as if the endpoint had not answered.
        outcome = outcomes.get(delivery.pk) or _Outcome(now, defer_seconds=_first_retry_seconds())
        delivery.lease_until = None
        if outcome.defer_seconds is not None:
            delivery.next_attempt_at = outcome.started + timedelta(seconds=outcome.defer_seconds)
            retries.setdefault(outcome.defer_seconds, []).append(delivery.pk)
            continue
        delivery.attempts += 1
        attempts.append(DeliveryAttempt(delivery=delivery, number=delivery.attempts,
                                        started_at=outcome.started, status=outcome.status,
                                        latency_ms=outcome.latency_ms, error=outcome.error))
        delivery.last_status, delivery.last_error, delivery.last_latency_ms = (
            outcome.status, outcome.error, outcome.latency_ms)
        if outcome.status is not None and 200 <= outcome.status < 300:
            delivery.state, delivery.delivered_at = Delivery.State.DELIVERED, now
            delivery.next_attempt_at = None
        elif outcome.error.startswith("refused") or delivery.attempts > len(schedule):
            delivery.state, delivery.next_attempt_at = Delivery.State.FAILED, None
        else:
            retry_in = schedule[delivery.attempts - 1]
            delivery.next_attempt_at = outcome.started + timedelta(seconds=retry_in)
            retries.setdefault(retry_in, []).append(delivery.pk)
    with transaction.atomic():
        DeliveryAttempt.objects.bulk_create(attempts)
        _update_rows(deliveries, RECORDED)
    return retries


def _update_rows(deliveries: list[Delivery], names: list[str]) -> None:
    """Save `names` of each delivery: one parameterised UPDATE run for all rows (executemany:
    batched by the driver). The ORM's bulk_update builds a CASE per field and row, which cost
    more CPU than sending the batch."""
    fields = [Delivery._meta.get_field(name) for name in names]
    quote = connection.ops.quote_name
    # Only the model's own quoted names go into the text; every value is a parameter.
    assignments = ", ".join(f"{quote(field.column)} = %s" for field in fields)
    sql = (f"UPDATE {quote(Delivery._meta.db_table)} SET {assignments} "  # noqa: S608
           f"WHERE {quote(Delivery._meta.pk.column)} = %s")
    rows = [[field.get_db_prep_save(getattr(delivery, field.attname), connection)
             for field in fields] + [delivery.pk] for delivery in deliveries]
    with connection.cursor() as cursor:
        cursor.executemany(sql, rows)


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
    the broker) or whose lease ran out (the worker sending them died); the periodic sweep."""
    now = timezone.now()
    ids = list(Delivery.objects.filter(state=Delivery.State.PENDING)
               .filter(Q(lease_until__lte=now)
                       | Q(lease_until__isnull=True, next_attempt_at__lt=now - grace))
               .order_by("next_attempt_at").values_list("pk", flat=True)[:10_000])
    from webhooks.tasks import deliver_batch

    for start in range(0, len(ids), BATCH):
        enqueue(deliver_batch, ids[start:start + BATCH])
    return len(ids)
