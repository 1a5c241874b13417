"""Prometheus metrics at /metrics, for a scraper holding METRICS_TOKEN (prometheus_client).

Two kinds of figures, so every process's work reaches the one endpoint:
- measured in the web processes: request latency (a histogram per route). Under gunicorn each
  worker process writes its own file in PROMETHEUS_MULTIPROC_DIR (config/gunicorn.py) and the
  scrape adds them up; elsewhere (runserver, tests) they live in the process.
- read at scrape time from what every process shares: passports by state, the age of the oldest
  pending passport and the status-list publication lag (PostgreSQL); Celery task failures,
  counted by the worker processes in the cache (Redis), and the queue's depth (the broker). So
  any number of workers on any number of machines add to the same counters, and each web
  replica reports the same totals (aggregate them with max, not sum).
"""

from __future__ import annotations

import hmac
import logging
import os

from django.conf import settings
from django.core.cache import cache
from django.db.models import Count, Min
from django.http import HttpResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

log = logging.getLogger(__name__)

REQUEST_SECONDS = Histogram(
    "dpp_http_request_duration_seconds", "Time to answer an HTTP request, by route",
    ["method", "route", "status"])
TASK_FAILURES_KEY = "metrics:task-failures:{}"


def observe_request(request, status: int, seconds: float) -> None:
    """Routes by URL name (a bounded set of labels; never the path, which carries ids)."""
    match = getattr(request, "resolver_match", None)
    route = getattr(request, "probe", None) or (match.view_name if match else "unmatched")
    REQUEST_SECONDS.labels(request.method, route, str(status)).observe(seconds)


def count_task_failure(task_name: str) -> None:
    """Called by the worker process that saw the failure (config/celery.py). The cache is
    shared by all processes; losing a count when it is down is better than failing the task's
    failure handling."""
    key = TASK_FAILURES_KEY.format(task_name)
    try:
        cache.add(key, 0, timeout=None)
        cache.incr(key)
    except Exception as exc:  # noqa: BLE001 - a metric never breaks the work it counts
        log.warning("task failure of %s not counted: %s", task_name, type(exc).__name__)


def _task_names() -> list[str]:
    from config.celery import app

    app.loader.import_default_modules()  # every app's tasks module, as a worker has them
    return sorted(name for name in app.tasks if not name.startswith("celery."))


def _queue_length(queue: str) -> int | None:
    from config.celery import app

    if not settings.CELERY_BROKER_URL:
        return None  # embedded mode: tasks run in-process, there is no queue
    try:
        with app.connection_for_read() as connection:
            connection.ensure_connection(max_retries=1, timeout=1)
            return connection.default_channel.queue_declare(queue=queue, passive=True)[1]
    except Exception as exc:  # noqa: BLE001 - a queue never used yet does not exist: empty
        if "NOT_FOUND" in str(exc):
            return 0
        log.warning("queue length of %s unknown: %s", queue, type(exc).__name__)
        return None


class SharedStateCollector(Collector):
    """Figures read at scrape time from the database, the cache and the broker."""

    def collect(self):
        from credentials.models import StatusChange
        from passports.models import Passport

        now = timezone.now()
        by_state = GaugeMetricFamily("dpp_passports", "Passports by state", labels=["state"])
        counts = dict(Passport.objects.order_by().values_list("state").annotate(n=Count("pk")))
        for state in Passport.State.values:
            by_state.add_metric([state], counts.get(state, 0))
        yield by_state

        oldest = Passport.objects.filter(state=Passport.State.PENDING).aggregate(
            t=Min("created_at"))["t"]
        yield GaugeMetricFamily(
            "dpp_passports_pending_oldest_age_seconds",
            "Age of the oldest passport waiting to be signed (0: none waits)",
            value=(now - oldest).total_seconds() if oldest else 0)

        unpublished = StatusChange.objects.aggregate(t=Min("created_at"))["t"]
        yield GaugeMetricFamily(
            "dpp_status_list_publication_lag_seconds",
            "Age of the oldest status change not yet in a published status list (0: none)",
            value=(now - unpublished).total_seconds() if unpublished else 0)

        failures = CounterMetricFamily("dpp_celery_task_failures",
                                       "Celery tasks that ended in failure, by task",
                                       labels=["task"])
        names = _task_names()
        try:
            counted = cache.get_many([TASK_FAILURES_KEY.format(name) for name in names])
        except Exception as exc:  # noqa: BLE001 - the other figures are still worth having
            log.warning("task failure counts unavailable: %s", type(exc).__name__)
        else:
            for name in names:
                failures.add_metric([name], int(counted.get(TASK_FAILURES_KEY.format(name), 0)))
            yield failures

        queue = settings.CELERY_TASK_DEFAULT_QUEUE
        length = _queue_length(queue)
        if length is not None:
            waiting = GaugeMetricFamily("dpp_celery_queue_length", "Tasks waiting in the broker",
                                        labels=["queue"])
            waiting.add_metric([queue], length)
            yield waiting


def _registry() -> CollectorRegistry:
    # Set by gunicorn's configuration (prometheus_client reads it too), not a setting.
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    else:
        registry = CollectorRegistry()
        registry.register(_ProcessMetrics())
    registry.register(SharedStateCollector())
    return registry


class _ProcessMetrics(Collector):
    """This process's own metrics (the default registry), when no other process has any."""

    def collect(self):
        yield from REGISTRY.collect()


@never_cache
def metrics(request):
    """The Prometheus text format, for `Authorization: Bearer <METRICS_TOKEN>` only; 404 when
    no token is configured (metrics off)."""
    token = settings.METRICS_TOKEN
    if not token:
        return HttpResponse(status=404)
    given = request.headers.get("Authorization", "").encode()
    if not hmac.compare_digest(given, f"Bearer {token}".encode()):
        response = HttpResponse(status=401)
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    return HttpResponse(generate_latest(_registry()), content_type=CONTENT_TYPE_LATEST)
