"""Webhooks (issue #24): organisations subscribe HTTPS endpoints to events (core.events); each
event is delivered as a Standard Webhooks message, signed, after commit, by Celery, with retries
and exponential backoff, never to a private address. docs/webhooks.md for receivers."""
