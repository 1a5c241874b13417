"""Celery tasks: thin. They call one service."""

from celery import shared_task

from openid4vp.services import expired_keys_forget


@shared_task(name="openid4vp.forget_expired_keys")
def forget_expired_keys() -> int:
    """Delete the response-decryption keys of requests that expired unanswered (beat)."""
    return expired_keys_forget()
