"""What the replication app hooks into below it (registered in ReplicationConfig.ready):
domain changes (passport events, evidence credentials saved) and status list signatures queue
a push to the back-up providers; the engine's mirrors read the copies held for primaries; the
linkset names the providers as alternates.

Each runs in requests and tasks of every kind, so each is cheap when this instance has no
providers (or holds no copies): one small query, memoised for a few seconds where it is asked
on every page."""

from __future__ import annotations

import time

from django.db import transaction

from core import events
from replication.models import BackupProvider, Replica
from replication.pushing import push_soon
from replication.receiving import replica_for_url

_MEMO_SECONDS = 5.0
_memo: dict[str, tuple[float, object]] = {}

PASSPORT_EVENTS = {events.PASSPORT_ISSUED, events.PASSPORT_REVOKED, events.PASSPORT_SUSPENDED,
                   events.PASSPORT_REINSTATED, events.PASSPORT_SUPERSEDED}


def _memoised(name: str, compute):
    held = _memo.get(name)
    if held is not None and time.monotonic() - held[0] < _MEMO_SECONDS:
        return held[1]
    value = compute()
    _memo[name] = (time.monotonic(), value)
    return value


def forget() -> None:
    """Drop the memo (tests that add or remove providers or copies in this process)."""
    global _holds_replicas
    _memo.clear()
    _holds_replicas = False


def _providers() -> list[tuple[str, str]]:
    return _memoised("providers", lambda: list(
        BackupProvider.objects.filter(active=True).values_list("name", "url")))


def passports_changed(published: list[events.Event]) -> None:
    if _providers() and any(event.kind in PASSPORT_EVENTS for event in published):
        push_soon()


def evidence_saved(sender, instance, **kwargs) -> None:
    """An evidence credential signed, revoked or superseded (post_save; they publish no
    events): its new revision is pushed once the change commits."""
    if instance.jwt and _providers():
        transaction.on_commit(push_soon)


def status_list_published(list_id: str) -> None:
    if _providers():
        push_soon()


_holds_replicas = False


def mirrored(url: str) -> bytes | None:
    global _holds_replicas  # once a copy is held, copies are held for good: no more asking
    if not _holds_replicas:
        _holds_replicas = Replica.objects.exists()
        if not _holds_replicas:
            return None
    return replica_for_url(url)


def alternates() -> list[tuple[str, str]]:
    return _providers()
