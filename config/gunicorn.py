"""gunicorn's configuration for the web process, the same under docker compose and `make serve`
(`gunicorn --config config/gunicorn.py config.wsgi`).

gunicorn reads this file by path, before any of our packages is imported; the hooks check the
settings once in the master (a bad one stops the start in one line) and give Prometheus' client
a directory its worker processes share (multiprocess mode, see config/metrics.py)."""

import os
import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from deploy.concurrency import web_threads, web_workers  # noqa: E402 - after the path is set

bind = os.environ.get("WEB_BIND", "127.0.0.1:8000")  # the image sets 0.0.0.0:8000
workers = web_workers()  # WEB_CONCURRENCY, else 2 x CPUs + 1
threads = web_threads()  # WEB_THREADS; above 1 gunicorn's threaded worker (gthread)
# No access log: the app logs one line per request itself (config/observability.py), without
# query strings, which can carry one-time secrets (OpenID4VCI offer links).
accesslog = None
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1,::1")

# Each worker process writes its counters here; the metrics endpoint adds them up. A directory of
# this master's own unless the operator names one: never another server's stale files.
_metrics_dir_is_ours = not os.environ.get("PROMETHEUS_MULTIPROC_DIR")
if _metrics_dir_is_ours:
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="dpp-metrics-")


def on_starting(server):
    from core.startup import stop_on_config_error

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")  # as config/wsgi.py
    with stop_on_config_error():
        from django.conf import settings

        settings.INSTALLED_APPS  # noqa: B018 - reading one setting checks all of them


def child_exit(server, worker):
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def on_exit(server):
    if _metrics_dir_is_ours:
        shutil.rmtree(os.environ["PROMETHEUS_MULTIPROC_DIR"], ignore_errors=True)
