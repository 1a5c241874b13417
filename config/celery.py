"""The Celery app. Settings come from Django settings (CELERY_*)."""

import logging
import os
import time

from celery import Celery
from celery.signals import task_failure, task_postrun, task_prerun

from core.startup import stop_on_config_error

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("dpp")
app.config_from_object("django.conf:settings", namespace="CELERY")
# Every process that imports config (the Celery worker and beat too) reads the settings here,
# so a bad one stops it with its one line, not a traceback.
with stop_on_config_error():
    from django.conf import settings

    settings.INSTALLED_APPS  # noqa: B018 - reading one setting checks all of them
if not app.conf.broker_url:
    # Embedded mode: tasks run eagerly; an in-memory transport keeps kombu from looking for an
    # AMQP server on localhost.
    app.conf.broker_url = "memory://localhost/"
app.autodiscover_tasks()

log = logging.getLogger("dpp.task")
_started: dict[str, float] = {}


@task_prerun.connect
def _task_started(task_id=None, **_):
    from config.observability import current_id

    current_id.set(task_id or "-")
    _started[task_id] = time.perf_counter()


@task_postrun.connect
def _task_finished(task_id=None, task=None, state=None, **_):
    from config.observability import current_id

    ms = round((time.perf_counter() - _started.pop(task_id, time.perf_counter())) * 1000, 1)
    log.info("task %s %s %sms", task.name, state, ms,
             extra={"task": task.name, "state": state, "ms": ms})
    current_id.set("-")


@task_failure.connect
def _task_failed(task_id=None, exception=None, sender=None, **_):
    from config.metrics import count_task_failure

    name = getattr(sender, "name", "?")
    log.warning("task %s failed: %s", name, type(exception).__name__)
    count_task_failure(name)


@app.task(name="health.worker_ping")
def worker_ping() -> dict:
    """Answered by a worker: proves it runs and reaches the same database as the web process."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return {"database": connection.vendor, "name": str(connection.settings_dict["NAME"])}
