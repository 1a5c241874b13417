"""Celery beat's scheduler with a heartbeat file, and the health check that reads it.

Beat answers no pings; its scheduler touches a file on every tick (at least every few seconds:
the status-list task runs every 2 s), and `python -m config.beat` exits 0 while the file is
fresh: the health check of docker compose's `beat`."""

import sys
import time
from pathlib import Path

from celery.beat import PersistentScheduler
from django.conf import settings

STALE_AFTER_SECONDS = 60


def heartbeat_path() -> Path:
    return Path(settings.VAR_DIR) / "celerybeat-heartbeat"


class HeartbeatScheduler(PersistentScheduler):
    def tick(self, *args, **kwargs):
        interval = super().tick(*args, **kwargs)
        heartbeat_path().touch()
        return interval


def beat_is_alive() -> bool:
    try:
        return time.time() - heartbeat_path().stat().st_mtime < STALE_AFTER_SECONDS
    except FileNotFoundError:
        return False


if __name__ == "__main__":
    sys.exit(0 if beat_is_alive() else 1)
