"""Celery tasks of the credential engine: thin. They take ids and call one service."""

import logging

from celery import shared_task
from django.db import InterfaceError, OperationalError

from core.enqueue import enqueue
from credentials.status_registry import (
    publication_started,
    status_list_publish,
    status_lists_publish_due,
)

log = logging.getLogger(__name__)
TRANSIENT = (OperationalError, InterfaceError, ConnectionError, TimeoutError)


@shared_task(bind=True, name="credentials.publish_status_list", acks_late=True, max_retries=5)
def publish_status_list(self, list_id: str) -> bool:
    """Fold a list's pending changes into its bits and re-sign it (one run per burst)."""
    publication_started(list_id)
    try:
        return status_list_publish(list_id)
    except TRANSIENT as exc:
        raise self.retry(exc=exc, countdown=min(2 ** self.request.retries, 30)) from exc


@shared_task(name="credentials.publish_due_status_lists")
def publish_due_status_lists() -> int:
    """The sweep: publish what a lost task left pending, and re-sign lists before expiry."""
    due = status_lists_publish_due()
    for list_id in due:
        enqueue(publish_status_list, list_id)
    if due:
        log.info("sweep: publishing %d status list(s)", len(due))
    return len(due)
