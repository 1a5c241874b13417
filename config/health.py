"""Liveness and readiness: is the database reachable, is the broker reachable."""

import time
from functools import cache

from django.conf import settings
from django.db import connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache

from config.celery import app as celery_app


@cache
def _redis_client(url: str):
    import redis

    return redis.Redis.from_url(url, socket_timeout=1, socket_connect_timeout=1)


def database_state() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
        return "ok"
    except Exception as exc:  # noqa: BLE001 - any failure means "down", reported by name
        return f"down: {type(exc).__name__}"


def broker_state() -> str:
    url = settings.CELERY_BROKER_URL
    if not url:
        return "eager"
    try:
        if url.startswith(("redis://", "rediss://")):
            _redis_client(url).ping()
        else:
            with celery_app.connection_for_write() as conn:
                conn.ensure_connection(max_retries=1, timeout=1)
        return "ok"
    except Exception as exc:  # noqa: BLE001
        return f"down: {type(exc).__name__}"


@never_cache
def health(request):
    started = time.perf_counter()
    checks = {"database": database_state(), "broker": broker_state()}
    healthy = all(state in ("ok", "eager") for state in checks.values())
    body = {
        "status": "ok" if healthy else "unavailable",
        **checks,
        "ms": round((time.perf_counter() - started) * 1000, 2),
    }
    return JsonResponse(body, status=200 if healthy else 503)
