"""Celery tasks: thin. They take ids, call one service, and leave the logic there."""

import logging

from celery import shared_task
from django.contrib.auth import get_user_model
from django.db import DatabaseError, InterfaceError, OperationalError

from passports.services.evidence import evidence_mark_failed, evidence_sign
from passports.services.issuance import (
    passport_mark_failed,
    passports_requeue_stale,
    passports_sign,
)
from passports.services.keys import evidence_resign, passports_resign
from passports.services.status import passports_change_status
from wallet.tenancy.authority import actor_of, operator

log = logging.getLogger(__name__)
TRANSIENT = (OperationalError, InterfaceError, ConnectionError, TimeoutError)


@shared_task(bind=True, name="passports.sign", acks_late=True, max_retries=5)
def sign_passports(self, passport_ids: list[str]) -> int:
    """Sign a chunk of pending passports. A transient error retries the chunk with backoff; a
    permanent one is isolated to the passport that caused it, which is marked failed."""
    try:
        return passports_sign(passport_ids)
    except TRANSIENT as exc:
        raise self.retry(exc=exc, countdown=min(2 ** self.request.retries, 60)) from exc
    except (DatabaseError, Exception) as exc:  # noqa: BLE001 - isolate, then record per passport
        log.warning("chunk failed (%s); signing one by one", type(exc).__name__)
    issued = 0
    for passport_id in passport_ids:
        try:
            issued += passports_sign([passport_id])
        except TRANSIENT:
            raise
        except Exception as exc:  # noqa: BLE001
            passport_mark_failed(passport_id, exc)
    return issued


@shared_task(name="passports.requeue_stale")
def requeue_stale_passports() -> int:
    """The sweep: send again what a dead worker or a lost message left pending."""
    return passports_requeue_stale()


@shared_task(bind=True, name="passports.change_status", acks_late=True, max_retries=5)
def change_passports_status(self, passport_ids: list[str], action: str, reason: str = "",
                            actor_id: int | None = None) -> int:
    """Revoke, suspend or reinstate many passports in the background (e.g. a product recall).
    Replays are safe: passports already in the target state are left alone. `actor_id`: the
    person it is done for (their mandate is checked when it runs); none: the operator."""
    user = get_user_model().objects.filter(pk=actor_id).first() if actor_id else None
    actor = actor_of(user) if user is not None else operator()
    try:
        outcome = passports_change_status(passports=passport_ids, action=action, actor=actor,
                                          reason=reason)
    except TRANSIENT as exc:
        raise self.retry(exc=exc, countdown=min(2 ** self.request.retries, 60)) from exc
    for passport, refusal in outcome.refused:
        log.info("%s refused for passport %s: %s", action, passport.pk, refusal.code)
    return len(outcome.changed)


@shared_task(bind=True, name="passports.resign", acks_late=True, max_retries=5)
def resign_passports(self, passport_ids: list[str], reason: str = "",
                     details: dict | None = None, actor_id: int | None = None) -> int:
    """Re-sign a chunk of passports whose key was declared compromised. Idempotent: what is
    signed by a good key already is skipped, so a retry or a resumed run does no harm."""
    try:
        return passports_resign(passport_ids, reason=reason, details=details,
                                actor_id=actor_id)
    except TRANSIENT as exc:
        raise self.retry(exc=exc, countdown=min(2 ** self.request.retries, 60)) from exc


@shared_task(bind=True, name="evidence.resign", acks_late=True, max_retries=5)
def resign_evidence(self, credential_ids: list[str], reason: str = "",
                    details: dict | None = None, actor_id: int | None = None) -> int:
    """`resign_passports` for evidence credentials (conformity, traceability, facility)."""
    try:
        return evidence_resign(credential_ids, reason=reason, details=details,
                               actor_id=actor_id)
    except TRANSIENT as exc:
        raise self.retry(exc=exc, countdown=min(2 ** self.request.retries, 60)) from exc


@shared_task(bind=True, name="evidence.sign", acks_late=True, max_retries=5)
def sign_evidence(self, credential_ids: list[str]) -> int:
    """Sign pending evidence credentials (conformity, traceability, facility); a transient
    error retries, a permanent one fails the credential that caused it."""
    issued = 0
    for credential_id in credential_ids:
        try:
            issued += evidence_sign([credential_id])
        except TRANSIENT as exc:
            raise self.retry(exc=exc, countdown=min(2 ** self.request.retries, 60)) from exc
        except Exception as exc:  # noqa: BLE001 - recorded on the credential
            evidence_mark_failed(credential_id, exc)
    return issued
