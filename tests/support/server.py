"""The web process as production runs it: gunicorn (2 sync workers, DJANGO_DEBUG=0) on an
ephemeral loopback port, on the test database and Redis, each reached through a TcpProxy the
test owns, so it can take the database, the cache or the broker away mid-test.

    server = web_server()                  # the fixture; stopped at the test's end
    server.database.cut(); server.cache.cut(); server.broker.cut(hang=True)
    answer = server.request("GET", "/health/")
    server.log()                           # what gunicorn and the app logged"""

from __future__ import annotations

import http.client
import json
import os
import socket
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.conf import settings

from config.celery import app as celery_app
from tests.support.environment import ROOT, _no_broker
from tests.support.proxy import TcpProxy


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self):
        return json.loads(self.body)

    @property
    def text(self) -> str:
        return self.body.decode("utf-8")


def exchange(connection: http.client.HTTPConnection, method: str, path: str, *,
             body: bytes | dict | None = None, headers: dict | None = None) -> Answer:
    """One request on a fresh `connection`, closed after: its Answer. A dict `body` goes as
    JSON."""
    headers = dict(headers or {})
    if isinstance(body, dict):
        body, headers["Content-Type"] = json.dumps(body).encode(), "application/json"
    try:
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        return Answer(response.status, {k.lower(): v for k, v in response.getheaders()},
                      response.read())
    finally:
        connection.close()


@dataclass
class Server:
    port: int
    process: subprocess.Popen
    log_path: Path
    database: TcpProxy
    cache: TcpProxy
    broker: TcpProxy
    queue: str
    _log_file: object = field(repr=False, default=None)

    def request(self, method: str, path: str, *, body: bytes | dict | None = None,
                headers: dict | None = None, timeout: float = 60) -> Answer:
        """One request on a fresh connection; `timeout` only keeps a broken test from hanging."""
        return exchange(http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout),
                        method, path, body=body, headers=headers)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        if self._log_file:
            self._log_file.close()


def _database_target() -> tuple[dict, str, int]:
    db = settings.DATABASES["default"]
    if db["ENGINE"] != "django.db.backends.postgresql":
        _no_broker("the web process needs a shared PostgreSQL database, not SQLite")
    return db, db["HOST"] or "127.0.0.1", int(db["PORT"] or 5432)


def start_server(tcp_proxy, *, queue: str | None = None, env: dict | None = None) -> Server:
    if not settings.CELERY_BROKER_URL or not settings.CELERY_BROKER_URL.startswith("redis"):
        _no_broker("CELERY_BROKER_URL is not a Redis URL")
    db, db_host, db_port = _database_target()
    redis = urlsplit(settings.CELERY_BROKER_URL)
    database = tcp_proxy(db_host, db_port)
    cache = tcp_proxy(redis.hostname or "127.0.0.1", redis.port or 6379)
    broker = tcp_proxy(redis.hostname or "127.0.0.1", redis.port or 6379)
    auth = db["USER"] + (f":{db['PASSWORD']}" if db.get("PASSWORD") else "")
    queue = queue or f"test-web-{uuid.uuid4().hex[:8]}"
    listener = socket.create_server(("127.0.0.1", 0))  # gunicorn inherits the bound socket
    port = listener.getsockname()[1]
    log_path = ROOT / "var" / f"gunicorn-{queue}-{port}.log"
    log_path.parent.mkdir(exist_ok=True)
    log_file = open(log_path, "w")  # noqa: SIM115 - closed by Server.stop
    child_env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("CELERY_", "CACHE_"))},
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DJANGO_DEBUG": "0",
        "DJANGO_SECRET_KEY": "test-" + uuid.uuid4().hex * 2,
        "KEY_ENCRYPTION_KEY": settings.KEY_ENCRYPTION_KEY,
        "PUBLIC_BASE_URL": settings.PUBLIC_BASE_URL,
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
        "DJANGO_SECURE_SSL_REDIRECT": "0",  # no TLS proxy in front here
        "DATABASE_URL": f"postgres://{auth}@127.0.0.1:{database.port}/{db['NAME']}",
        "CELERY_BROKER_URL": f"redis://127.0.0.1:{broker.port}{redis.path or '/0'}",
        "CACHE_URL": f"redis://127.0.0.1:{cache.port}{redis.path or '/0'}",
        "CELERY_TASK_DEFAULT_QUEUE": queue,
        "LOG_LEVEL": "INFO",
        **(env or {}),
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "config.wsgi:application", "--bind",
         f"fd://{listener.fileno()}", "--workers", "2", "--timeout", "120", "--no-control-socket"],
        cwd=ROOT, env=child_env, stdout=log_file, stderr=subprocess.STDOUT,
        pass_fds=[listener.fileno()])
    listener.close()
    server = Server(port, process, log_path, database, cache, broker, queue, log_file)
    deadline = time.monotonic() + 60
    while True:
        try:
            server.request("GET", "/health/", timeout=5)
            return server
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                server.stop()
                pytest.fail(f"gunicorn did not start, see {log_path}", pytrace=False)
            time.sleep(0.2)


@pytest.fixture
def web_server(tcp_proxy, request):
    """web_server(**options) → a started Server (see start_server), stopped at the test's end.
    Tests marked `worker` share the worker's queue, so what the server enqueues gets done."""
    started: list[Server] = []

    def start(**options) -> Server:
        if request.node.get_closest_marker("worker") is not None:
            options.setdefault("queue", celery_app.conf.task_default_queue)
        started.append(start_server(tcp_proxy, **options))
        return started[-1]

    yield start
    for server in started:
        server.stop()
