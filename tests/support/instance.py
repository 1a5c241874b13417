"""A whole instance of the service in processes of its own, as another organisation would run
it: its own database (a SQLite file in the embedded mode, a PostgreSQL database of its own in
the real mode), its own KEY_ENCRYPTION_KEY and PUBLIC_BASE_URL, `manage.py` commands, and on
demand gunicorn (2 sync workers, optionally with TLS) and, in the real mode, a Celery worker
and beat on a Redis database of its own.

    primary = Instance.make(tmp_path, "primary")      # migrated; .drop() removes its database
    primary.manage("demo")
    primary.start()                                   # gunicorn (+ worker and beat when real)
    primary.request("GET", "/health/")
    primary.stop()"""

from __future__ import annotations

import http.client
import os
import socket
import ssl
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.conf import settings

from core.encryption_key import new_encryption_key_text
from tests.support.environment import ON_POSTGRES, ROOT
from tests.support.server import Answer
from tests.support.tls import LOOPBACK, loopback_certificate

# Redis databases the instances' brokers use, one each (the suite's own is settings').
INSTANCE_REDIS_DATABASES = (7, 8)


def _postgres_url(name: str) -> str:
    db = settings.DATABASES["default"]
    auth = db["USER"] + (f":{db['PASSWORD']}" if db.get("PASSWORD") else "")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{name}"


def _psql(sql: str) -> None:
    db = settings.DATABASES["default"]
    env = {**os.environ, **({"PGPASSWORD": db["PASSWORD"]} if db.get("PASSWORD") else {})}
    subprocess.run(["psql", "-h", db["HOST"] or "127.0.0.1", "-p", str(db["PORT"] or 5432),
                    "-U", db["USER"], "-d", "postgres", "-v", "ON_ERROR_STOP=1", "-qc", sql],
                   env=env, check=True, capture_output=True)


def free_port() -> int:
    with socket.create_server((LOOPBACK, 0)) as probe:
        return probe.getsockname()[1]


@dataclass
class Instance:
    name: str
    directory: Path
    database_url: str
    port: int
    tls: tuple[str, str] | None
    env: dict[str, str]
    redis_database: int | None = None
    processes: list = field(default_factory=list)
    _logs: list = field(default_factory=list)

    @classmethod
    def make(cls, directory: Path, name: str, *, tls: bool = False, redis_database: int | None
             = None, env: dict | None = None, port: int | None = None,
             migrate: bool = True) -> Instance:
        """A migrated, empty instance (or, without `migrate`, an empty database). With a
        `redis_database` (and a Redis broker configured) its tasks go through Celery and it
        runs as production does (DJANGO_DEBUG=0); without, tasks run in-process (DEBUG)."""
        directory = Path(directory) / name
        directory.mkdir(parents=True, exist_ok=True)
        port = port or free_port()
        if ON_POSTGRES:
            database = f"{settings.DATABASES['default']['NAME']}_{name}_{uuid.uuid4().hex[:6]}"
            _psql(f'CREATE DATABASE "{database}"')
            database_url = _postgres_url(database)
        else:
            database_url = f"sqlite:///{directory / 'db.sqlite3'}"
        certificate = (loopback_certificate(directory, "tls", f"Test instance {name}")
                       if tls else None)
        scheme = "https" if tls else "http"
        base = {k: v for k, v in os.environ.items()
                if not k.startswith(("CELERY_", "CACHE_", "DATABASE_", "DJANGO_", "WEBHOOK_",
                                     "REPLICATION_", "BACKUP_", "PUBLIC_", "KEY_"))}
        child_env = {**base, "DJANGO_SETTINGS_MODULE": "config.settings",
                     "DJANGO_SECRET_KEY": "test-" + uuid.uuid4().hex * 2,
                     "KEY_ENCRYPTION_KEY": new_encryption_key_text(),
                     "PUBLIC_BASE_URL": f"{scheme}://{LOOPBACK}:{port}",
                     "DJANGO_ALLOWED_HOSTS": f"{LOOPBACK},localhost",
                     "DJANGO_SECURE_SSL_REDIRECT": "0", "DJANGO_SECURE_HSTS_SECONDS": "0",
                     "DATABASE_URL": database_url, "VAR_DIR": str(directory),
                     "LOG_LEVEL": "INFO", **(env or {})}
        broker = settings.CELERY_BROKER_URL
        if broker and broker.startswith("redis") and redis_database is not None:
            redis = urlsplit(broker)
            url = f"redis://{redis.netloc}/{redis_database}"
            child_env |= {"CELERY_BROKER_URL": url, "CACHE_URL": url,
                          "CELERY_TASK_DEFAULT_QUEUE": f"instance-{name}-{uuid.uuid4().hex[:6]}"}
        else:
            redis_database = None
        child_env["DJANGO_DEBUG"] = "0" if "CELERY_BROKER_URL" in child_env else "1"
        instance = cls(name, directory, database_url, port, certificate, child_env,
                       redis_database)
        if migrate:
            instance.manage("migrate", "--noinput")
        return instance

    @property
    def base_url(self) -> str:
        return self.env["PUBLIC_BASE_URL"]

    @property
    def real(self) -> bool:
        """Whether its tasks go through a broker to a worker (else: in-process)."""
        return "CELERY_BROKER_URL" in self.env

    def manage(self, *args: str, env: dict | None = None,
               check: bool = True) -> subprocess.CompletedProcess:
        done = subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT,
                              env={**self.env, **(env or {})}, capture_output=True, text=True,
                              timeout=300)
        if check and done.returncode != 0:
            pytest.fail(f"{self.name}: manage.py {' '.join(args)} failed:\n{done.stdout}\n"
                        f"{done.stderr}", pytrace=False)
        return done

    def python(self, code: str) -> str:
        """Run `code` in `manage.py shell` of the instance; what it printed."""
        return self.manage("shell", "-c", code).stdout

    def _spawn(self, label: str, command: list[str], **popen) -> None:
        log = open(self.directory / f"{label}.log", "a")  # noqa: SIM115 - closed by stop()
        self._logs.append(log)
        self.processes.append(subprocess.Popen(command, cwd=ROOT, env=self.env, stdout=log,
                                               stderr=subprocess.STDOUT, **popen))

    def start(self) -> Instance:
        """gunicorn on its port (TLS when made with it); in the real mode a worker and beat."""
        listener = socket.create_server((LOOPBACK, self.port))
        command = [sys.executable, "-m", "gunicorn", "config.wsgi:application", "--bind",
                   f"fd://{listener.fileno()}", "--workers", "2", "--timeout", "120",
                   "--no-control-socket"]
        if self.tls:
            command += ["--certfile", self.tls[0], "--keyfile", self.tls[1]]
        self._spawn("gunicorn", command, pass_fds=[listener.fileno()])
        listener.close()
        if self.real:
            queue = self.env["CELERY_TASK_DEFAULT_QUEUE"]
            self._spawn("worker", [sys.executable, "-m", "celery", "-A", "config", "worker",
                                   "--loglevel", "INFO", "--concurrency", "1", "--pool",
                                   "prefork", "--hostname", f"{queue}@%h", "--queues", queue,
                                   "--without-gossip", "--without-mingle"])
            self._spawn("beat", [sys.executable, "-m", "celery", "-A", "config", "beat",
                                 "--loglevel", "INFO", "--schedule",
                                 str(self.directory / "beat-schedule")])
        deadline = time.monotonic() + 60
        while True:
            try:
                self.request("GET", "/health/", timeout=5)
                return self
            except OSError:
                if any(p.poll() is not None for p in self.processes) \
                        or time.monotonic() > deadline:
                    self.stop()
                    pytest.fail(f"{self.name} did not start, see {self.directory}/*.log",
                                pytrace=False)
                time.sleep(0.2)

    def stop(self) -> None:
        for process in self.processes:
            process.terminate()
        for process in self.processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        self.processes.clear()
        for log in self._logs:
            log.close()
        self._logs.clear()

    def request(self, method: str, path: str, *, body: bytes | None = None,
                headers: dict | None = None, timeout: float = 60) -> Answer:
        if self.tls:
            context = ssl.create_default_context(cafile=self.tls[0])
            connection = http.client.HTTPSConnection(LOOPBACK, self.port, timeout=timeout,
                                                     context=context)
        else:
            connection = http.client.HTTPConnection(LOOPBACK, self.port, timeout=timeout)
        try:
            connection.request(method, path, body=body, headers=headers or {})
            response = connection.getresponse()
            return Answer(response.status, {k.lower(): v for k, v in response.getheaders()},
                          response.read())
        finally:
            connection.close()

    def logs(self) -> str:
        return "\n".join(f"--- {path.name}\n{path.read_text(errors='replace')[-5000:]}"
                         for path in self.directory.glob("*.log"))

    def drop(self) -> None:
        """Stop it and remove its database."""
        self.stop()
        if ON_POSTGRES:
            _psql(f'DROP DATABASE IF EXISTS "{urlsplit(self.database_url).path[1:]}" '
                  f"WITH (FORCE)")
        else:
            (self.directory / "db.sqlite3").unlink(missing_ok=True)
