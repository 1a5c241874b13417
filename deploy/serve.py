"""`make serve`: the production stack on a machine without Docker.

The processes docker-compose.yml runs, with the same commands (PROCESSES; a test holds the two
to each other): `check --deploy` (development settings are refused), the image's build step that
a checkout still needs (static files), `migrate`, then gunicorn, a Celery worker and Celery beat,
against DATABASE_URL and CELERY_BROKER_URL from the environment. Ctrl-C (or SIGTERM) stops all
three; when one of them dies the others are stopped too and its exit code is returned, so a
service manager restarts the whole set."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PREPARE = [
    # Production settings or nothing: DEBUG on (a forgotten DJANGO_DEBUG=0) is a warning here.
    ["python", "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
    ["python", "manage.py", "collectstatic", "--noinput", "--verbosity", "0"],
    ["python", "manage.py", "migrate", "--noinput"],
]
PROCESSES = {
    "web": ["gunicorn", "--config", "config/gunicorn.py", "config.wsgi"],
    "worker": ["celery", "-A", "config", "worker", "--loglevel", "INFO", "--concurrency", "2"],
    "beat": ["celery", "-A", "config", "beat", "--loglevel", "INFO"],
}
STOP_SECONDS = 20


def _local(command: list[str]) -> list[str]:
    """The command with this interpreter's python and console scripts (the .venv's)."""
    if command[0] == "python":
        return [sys.executable, *command[1:]]
    return [sys.executable, "-m", command[0], *command[1:]]


def main(port: int) -> int:
    env = {**os.environ, "WEB_BIND": os.environ.get("WEB_BIND", f"127.0.0.1:{port}")}
    for step in PREPARE:
        done = subprocess.run(_local(step), cwd=ROOT, env=env)
        if done.returncode:
            return done.returncode
    running = {name: subprocess.Popen(_local(command), cwd=ROOT, env=env)
               for name, command in PROCESSES.items()}
    stopping = []
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stopping.append(True))
    print(f"serving on http://{env['WEB_BIND']}/ ({', '.join(running)}); Ctrl-C stops",
          flush=True)
    exit_code = 0
    while not stopping:
        ended = [name for name, process in running.items() if process.poll() is not None]
        if ended:
            exit_code = running[ended[0]].returncode or 1
            print(f"{ended[0]} exited ({running[ended[0]].returncode}); stopping the others",
                  file=sys.stderr, flush=True)
            break
        time.sleep(0.5)
    for process in running.values():
        if process.poll() is None:
            process.terminate()
    deadline = time.monotonic() + STOP_SECONDS
    for process in running.values():
        try:
            process.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            process.kill()
    return exit_code


if __name__ == "__main__":
    sys.exit(main(int(sys.argv[1]) if len(sys.argv) > 1 else 8000))
