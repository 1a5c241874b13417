"""Celery tasks: thin. They take ids and call one service."""

from celery import shared_task
from django.db import InterfaceError, OperationalError

from openid4vci.services.issuance import deferred_credential_sign, deferred_credentials_requeue

TRANSIENT = (OperationalError, InterfaceError, ConnectionError, TimeoutError)


@shared_task(bind=True, name="openid4vci.sign_deferred_credential", acks_late=True,
             max_retries=5)
def sign_deferred_credential(self, offer_id: str) -> bool:
    """Sign a deferred copy whose review was approved (idempotent: a second run does nothing)."""
    try:
        return deferred_credential_sign(offer_id)
    except TRANSIENT as exc:
        raise self.retry(exc=exc, countdown=min(2 ** self.request.retries, 60)) from exc


@shared_task(name="openid4vci.requeue_deferred_credentials")
def requeue_deferred_credentials() -> int:
    """The sweep: deferred copies decided but still unsigned are queued again."""
    return deferred_credentials_requeue()
