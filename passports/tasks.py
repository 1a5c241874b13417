"""Celery tasks: thin. They take ids, call one service, and leave the logic there."""

import logging

from celery import shared_task
from django.db import DatabaseError, InterfaceError, OperationalError

from passports.services.issuance import (
    passport_mark_failed,
    passports_requeue_stale,
    passports_sign,
)

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
            passport_mark_failed(passport_id, f"{type(exc).__name__}: {exc}")
    return issued


@shared_task(name="passports.requeue_stale")
def requeue_stale_passports() -> int:
    return passports_requeue_stale()
