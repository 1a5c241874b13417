"""Events the outside may be told about (issue #24: webhooks), published by the domain where
they happen and handed, once the change has committed, to the sinks registered here.

The domain calls `publish(kind, organisations=..., payload=...)` (or `publish_many` for a batch)
inside its transaction; nothing is handed on for a rollback. Who may hear of an event is the
domain's decision: `organisations` are the ids of the organisations entitled to it (for a
passport: its manufacturer and the partners the manufacturer entitled). A sink (the webhooks
app registers one in its AppConfig.ready) receives the events of one commit as a list and must
not raise; this bottom layer imports no app."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime

from django.db import transaction
from django.utils import timezone

log = logging.getLogger(__name__)

# The kinds of events published (their names are the Standard Webhooks `type`).
PASSPORT_ISSUED = "passport.issued"
PASSPORT_REVOKED = "passport.revoked"
PASSPORT_SUSPENDED = "passport.suspended"
PASSPORT_REINSTATED = "passport.reinstated"
PASSPORT_SUPERSEDED = "passport.superseded"
MESSAGE_RECEIVED = "message.received"
EINVOICE_RECEIVED = "einvoice.received"
ATTESTATION_DECIDED = "attestation.decided"
PRESENTATION_COMPLETED = "presentation.completed"
MANDATE_REVOKED = "mandate.revoked"
KINDS = (PASSPORT_ISSUED, PASSPORT_REVOKED, PASSPORT_SUSPENDED, PASSPORT_REINSTATED,
         PASSPORT_SUPERSEDED, MESSAGE_RECEIVED, EINVOICE_RECEIVED, ATTESTATION_DECIDED,
         PRESENTATION_COMPLETED, MANDATE_REVOKED)


@dataclass(frozen=True)
class Event:
    kind: str
    organisations: frozenset  # ids of the organisations entitled to hear of it
    payload: dict  # JSON-serialisable: what happened (ids, states, reasons)
    id: str = field(default_factory=lambda: f"evt_{uuid.uuid4().hex}")
    occurred_at: datetime = field(default_factory=timezone.now)


Sink = Callable[[list[Event]], None]
_sinks: list[Sink] = []


def register(sink: Sink) -> None:
    if sink not in _sinks:
        _sinks.append(sink)


def unregister(sink: Sink) -> None:
    if sink in _sinks:
        _sinks.remove(sink)


def publish(kind: str, *, organisations: Iterable, payload: dict) -> None:
    publish_many([Event(kind, frozenset(organisations), payload)])


def publish_many(events: list[Event]) -> None:
    """Hand `events` to every sink after the current transaction commits (at once outside
    one)."""
    if not _sinks or not events:
        return
    if unknown := {event.kind for event in events} - set(KINDS):
        raise ValueError(f"unknown event kinds: {sorted(unknown)}")
    transaction.on_commit(lambda: _deliver(list(events)))


def _deliver(events: list[Event]) -> None:
    for sink in list(_sinks):
        try:
            sink(events)
        except Exception:  # a sink's failure must not fail the committed change's request
            log.exception("event sink %r failed for %d event(s)", sink, len(events))
