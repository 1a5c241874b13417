"""Revoking, suspending and reinstating passports.

The state changes at once, in the database, with an event row; revocation also records the flip
of the passport's bit in its revocation list, which a Celery task re-signs and republishes
within seconds (credentials.status_registry coalesces a burst into one signature per list).

- Revocation is permanent: a revoked passport is never reinstated or suspended.
- A passport carries only a revocation entry (UNTP 0.7.0 allows one), so suspension lives in
  the service: the passport's state, its verdict and its page say `suspended`, with the reason.
- A superseded version may be revoked (a version that was false when issued must be marked so);
  superseding itself never revokes. Suspension applies to the current, issued version only.
- Asking for the state a passport is already in changes nothing (replays are safe)."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field, fields
from datetime import datetime
from typing import NamedTuple

from django.db import transaction
from django.utils import timezone

from core.bulk import any_of, insert_rows
from credentials.status_registry import status_changes
from passports.models import Passport, PassportEvent
from passports.services.issuance import PassportError
from passports.services.notifications import passport_events_published
from passports.signals import passports_status_changed
from wallet.tenancy.authority import Actor, Authority, authorise
from wallet.tenancy.legal_models import Mandate
from wallet.tenancy.models import Organisation

State = Passport.State
LOCK_BATCH = 1000  # passports locked and updated per statement


@dataclass(slots=True)
class PassportStatus:
    """A passport as a status change reads and leaves it: its state, not its credentials
    (a model instance per passport cost more than the change's own SQL)."""

    pk: uuid.UUID
    product_id: int
    version: int
    state: str
    state_reason: str
    status_list_id: uuid.UUID | None
    status_index: int | None
    updated_at: datetime

    @property
    def credential_url(self) -> str:
        return Passport.credential_url_of(self.pk)


READ_FIELDS = [read.name for read in fields(PassportStatus)]


class _Event(NamedTuple):
    """A PassportEvent as the webhooks' payload reads it (notifications.passport_payload)."""

    passport: PassportStatus
    action: str
    from_state: str
    to_state: str
    reason: str
    details: dict


@dataclass(frozen=True)
class _Action:
    verb: str  # what callers ask for
    name: str  # the event's action
    target: str
    allowed_from: frozenset[str]


REVOKE = _Action("revoke", "revoked", State.REVOKED,
                 frozenset({State.ISSUED, State.SUSPENDED, State.SUPERSEDED}))
SUSPEND = _Action("suspend", "suspended", State.SUSPENDED, frozenset({State.ISSUED}))
REINSTATE = _Action("reinstate", "reinstated", State.ISSUED, frozenset({State.SUSPENDED}))
ACTIONS = {action.verb: action for action in (REVOKE, SUSPEND, REINSTATE)}


@dataclass
class StatusOutcome:
    """What a bulk change did: changed, already in the target state, refused (with why)."""

    changed: list[PassportStatus] = field(default_factory=list)
    unchanged: list[PassportStatus] = field(default_factory=list)
    refused: list[tuple[PassportStatus, PassportError]] = field(default_factory=list)


def passport_revoke(*, passport: Passport, actor: Actor, reason: str = "") -> Passport:
    """Revoke for good: state `revoked` now, the list bit flipped within seconds."""
    return _one(passport, REVOKE, actor, reason)


def passport_suspend(*, passport: Passport, actor: Actor, reason: str = "") -> Passport:
    """Suspend an issued passport (service state: its API, verdict and page say so)."""
    return _one(passport, SUSPEND, actor, reason)


def passport_reinstate(*, passport: Passport, actor: Actor, reason: str = "") -> Passport:
    """Lift a suspension. A revoked passport is refused (`revoked_is_final`)."""
    return _one(passport, REINSTATE, actor, reason)


def _one(passport: Passport, action: _Action, actor: Actor, reason: str) -> Passport:
    outcome = passports_change_status(passports=[passport], action=action.verb, actor=actor,
                                      reason=reason)
    if outcome.refused:
        raise outcome.refused[0][1]
    current = (outcome.changed or outcome.unchanged)[0]
    for name in ("state", "state_reason", "updated_at"):
        setattr(passport, name, getattr(current, name))
    return passport


@transaction.atomic
def passports_change_status(*, passports: Iterable[Passport] | Iterable, action: str,
                            actor: Actor, reason: str = "") -> StatusOutcome:
    """Apply `action` ("revoke", "suspend" or "reinstate") to many passports in one
    transaction: rows locked in primary-key order (no deadlock between two bulk changes), one
    UPDATE per batch, one event per changed passport, one status change per revocation.

    `actor` needs a `passports:revoke` mandate of every passport's organisation (or is the
    operator): NotAuthorised otherwise, and nothing changes. The events name the mandate."""
    if action not in ACTIONS:
        raise ValueError(f"unknown status action {action!r}; one of {sorted(ACTIONS)}")
    action = ACTIONS[action]
    ids = sorted({getattr(p, "pk", p) for p in passports}, key=str)
    authority = _authorised(actor, ids)
    outcome = StatusOutcome()
    now = timezone.now()
    reason = (reason or "").strip()[:2000]
    for start in range(0, len(ids), LOCK_BATCH):
        batch = ids[start:start + LOCK_BATCH]
        # Pending passports are not locked: their signing task holds them and then locks the
        # older versions, which this lock may hold (a deadlock); they are refused anyway.
        locked = _read(Passport.objects.select_for_update().filter(any_of("pk", batch))
                       .exclude(state=State.PENDING).order_by("pk"))
        if len(locked) < len(batch):
            pending = _read(Passport.objects.filter(any_of("pk", batch))
                            .exclude(any_of("pk", [p.pk for p in locked])))
            outcome.refused += [(passport, _refusal(passport, action, pending=True))
                                for passport in pending]
        changed = []
        for passport in locked:
            if passport.state == action.target:
                outcome.unchanged.append(passport)
            elif passport.state not in action.allowed_from:
                outcome.refused.append((passport, _refusal(passport, action)))
            else:
                changed.append(passport)
        _apply(changed, action, authority, reason, now)
        outcome.changed += changed
    return outcome


def _authorised(actor: Actor, passport_ids: list) -> Authority | None:
    """What entitles `actor` to change these passports (one record: a person or key acts for
    one organisation, the operator for all); NotAuthorised for any other organisation's."""
    organisation_ids = set()
    for start in range(0, len(passport_ids), LOCK_BATCH):
        organisation_ids.update(Passport.objects.filter(
            any_of("pk", passport_ids[start:start + LOCK_BATCH]))
            .values_list("product__organisation", flat=True).order_by().distinct())
    authorities = [authorise(actor, organisation=organisation,
                             scope=Mandate.Scope.PASSPORTS_REVOKE)
                   for organisation in Organisation.objects.filter(pk__in=organisation_ids)]
    return authorities[0] if authorities else None


def _read(passports) -> list[PassportStatus]:
    return [PassportStatus(*row) for row in passports.values_list(*READ_FIELDS)]


def _apply(passports: list[PassportStatus], action: _Action, authority: Authority | None,
           reason: str, now) -> None:
    """`authority`: what entitled the actor (the mandate used), recorded on each event."""
    if not passports:
        return
    state_reason = "" if action is REINSTATE else reason
    Passport.objects.filter(any_of("pk", [p.pk for p in passports])).update(
        state=action.target, state_reason=state_reason, updated_at=now)
    record = authority.record()
    events = []
    for passport in passports:
        details = dict(record)
        if action is REVOKE and passport.status_list_id is not None:
            details |= {"status_list": str(passport.status_list_id),
                        "status_index": passport.status_index}
        events.append(_Event(passport, action.name, passport.state, action.target, reason,
                             details))
        passport.state, passport.state_reason, passport.updated_at = (action.target,
                                                                      state_reason, now)
    actor_id = authority.user.pk if authority.user is not None else None
    insert_rows(PassportEvent, [
        {"passport_id": event.passport.pk, "action": event.action,
         "from_state": event.from_state, "to_state": event.to_state, "actor_id": actor_id,
         "reason": reason, "details": event.details} for event in events])
    passport_events_published(events)  # webhooks, after commit
    if action is REVOKE:
        status_changes((p.status_list_id, p.status_index, 1) for p in passports
                       if p.status_list_id is not None)
    # Copies elsewhere (e.g. SD-JWT VC copies in EU wallets) follow, in this transaction.
    passports_status_changed.send(sender=Passport, passport_ids=[p.pk for p in passports],
                                  state=action.target)


def _refusal(passport: PassportStatus, action: _Action, *, pending: bool = False) -> PassportError:
    label = f"Passport {passport.pk} (version {passport.version})"
    if pending:
        return PassportError(f"{label} is still being issued: only an issued passport can be "
                             f"{action.name}.", code="not_issued")
    if passport.state == State.REVOKED:
        return PassportError(f"{label} is revoked. Revocation is permanent: it cannot be "
                             f"{'reinstated' if action is REINSTATE else 'suspended'}. Issue a "
                             f"new passport version instead.", code="revoked_is_final")
    if passport.state == State.FAILED:
        return PassportError(f"{label} failed to issue: only an issued passport can be "
                             f"{action.name}.", code="not_issued")
    if passport.state == State.SUPERSEDED:
        return PassportError(f"{label} is superseded by a newer version; "
                             f"{action.verb} the current "
                             f"version instead.", code="superseded")
    return PassportError(f"{label} is {passport.state}, not suspended: nothing to reinstate.",
                         code="not_suspended")
