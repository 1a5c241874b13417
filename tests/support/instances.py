"""Two (or more) live instances of the service on one machine, for chains of evidence across
services: each its own PostgreSQL database (migrated here), its own Redis database, its own real
Celery worker, and gunicorn serving HTTPS on an ephemeral port as `https://localhost:<port>`
(its DIDs are `did:web:localhost%3A<port>:...`), with a test CA's certificate for localhost.

The instances reach each other through the guarded fetch only because FETCH_TEST_ALLOWED_ADDRESSES
names the loopback addresses and FETCH_TEST_CA_FILE the test CA, in their environment only.

    a, b = instances("a", "b")           # the fixture; stopped and dropped at the test's end
    made = a.setup({...})                # tests.support.instance_setup in a's database
    a.api("POST", "/api/v1/passports/", key, {"product": 1})"""

from __future__ import annotations

import http.client
import json
import os
import socket
import ssl
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from functools import cache
from urllib.parse import urlsplit

import psycopg
import pytest
from django.conf import settings

from tests.support.environment import ROOT, _no_broker
from tests.support.instance import INSTANCE_REDIS_DATABASES
from tests.support.server import Answer
from tests.support.tls import loopback_certificate

LOOPBACK_ADDRESSES = "127.0.0.1,::1"  # `localhost` may resolve to either


@cache
def tls_files() -> tuple[str, str]:
    directory = ROOT / "var" / "test-instances"
    directory.mkdir(parents=True, exist_ok=True)
    return loopback_certificate(directory, "instances", "Test service instances",
                                dns_names=("localhost",))


@dataclass
class Instance:
    name: str
    port: int
    database_url: str
    env: dict
    processes: list = field(default_factory=list)
    logs: list = field(default_factory=list)

    @property
    def base_url(self) -> str:
        return f"https://localhost:{self.port}"

    def request(self, method: str, path: str, *, body: bytes | dict | None = None,
                headers: dict | None = None, key: str | None = None,
                timeout: float = 60) -> Answer:
        headers = dict(headers or {})
        if isinstance(body, dict):
            body, headers["Content-Type"] = json.dumps(body).encode(), "application/json"
        if key:
            headers["Authorization"] = f"Token {key}"
        context = ssl.create_default_context(cafile=tls_files()[0])
        connection = http.client.HTTPSConnection("localhost", self.port, timeout=timeout,
                                                 context=context)
        try:
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            return Answer(response.status, {k.lower(): v for k, v in response.getheaders()},
                          response.read())
        finally:
            connection.close()

    def api(self, method: str, path: str, key: str, body: dict | None = None,
            **headers) -> Answer:
        return self.request(method, path, body=body, key=key, headers=headers)

    def setup(self, spec: dict) -> dict:
        done = subprocess.run([sys.executable, "-m", "tests.support.instance_setup",
                               json.dumps(spec)], cwd=ROOT, env=self.env, capture_output=True,
                              text=True, timeout=300, check=False)
        if done.returncode != 0:
            pytest.fail(f"setting up {self.name} failed:\n{done.stderr[-3000:]}", pytrace=False)
        return json.loads(done.stdout.strip().splitlines()[-1])

    def execute(self, sql: str, params=()) -> None:
        """A statement on the instance's own database (e.g. to tamper with what it serves)."""
        with psycopg.connect(self.database_url, autocommit=True) as connection:
            connection.execute(sql, params)

    def wait_for(self, path: str, key: str, field_name: str, value: str,
                 seconds: float = 60) -> dict:
        """GET `path` until its `field_name` is `value` (an anti-hang bound, not a timing)."""
        deadline = time.monotonic() + seconds
        while True:
            answer = self.api("GET", path, key)
            if answer.status == 200 and answer.json().get(field_name) == value:
                return answer.json()
            if time.monotonic() > deadline:
                raise AssertionError(f"{self.name}{path}: {answer.status} {answer.body[:500]!r}")
            time.sleep(0.2)

    def log(self) -> str:
        return "\n".join(path.read_text(errors="replace")[-4000:] for path in self.logs)

    def stop(self) -> None:
        for process in self.processes:
            process.terminate()
        for process in self.processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _admin_url(database_url: str, name: str) -> str:
    parts = urlsplit(database_url)
    return parts._replace(path=f"/{name}").geturl()


def _recreate_database(admin_url: str, name: str) -> None:
    with psycopg.connect(admin_url, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{name}"')


def _drop_database(admin_url: str, name: str) -> None:
    with psycopg.connect(admin_url, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _base_urls() -> tuple[str, str]:
    database = os.environ.get("DATABASE_URL", "")
    broker = settings.CELERY_BROKER_URL or ""
    if not database.startswith("postgres") or not broker.startswith("redis"):
        _no_broker("two instances need PostgreSQL (DATABASE_URL) and Redis (CELERY_BROKER_URL)")
    return database, broker


def start_instances(names: tuple[str, ...], *, env_for=None) -> list[Instance]:
    """Instances named `names`: databases `<test database>_<name>` made afresh and migrated
    (in parallel), the broker's Redis database and then INSTANCE_REDIS_DATABASES, then a
    worker and gunicorn each. `env_for(name, ports)` adds to an instance's environment (e.g.
    the anchors it trusts, which name the other instances' ports)."""
    database_url, broker_url = _base_urls()
    base_name = urlsplit(database_url).path.strip("/")
    broker = urlsplit(broker_url)
    first_redis = int((broker.path or "/0").strip("/") or 0)
    # The first instance shares the tests' Redis database (its own queue); the others take the
    # fixed databases instances use (counting up from the broker's could pass Redis's last, 15,
    # which CI's broker is).
    spare_redis = [n for n in INSTANCE_REDIS_DATABASES if n != first_redis]
    listeners = [socket.create_server(("127.0.0.1", 0)) for _ in names]
    ports = {name: listener.getsockname()[1] for name, listener in zip(names, listeners,
                                                                       strict=True)}
    cert, key = tls_files()
    instances = []
    for number, name in enumerate(names):
        database = f"{base_name}_{name}"
        _recreate_database(database_url, database)
        redis_database = first_redis if number == 0 else spare_redis[number - 1]
        redis = broker._replace(path=f"/{redis_database}").geturl()
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("CELERY_", "CACHE_"))},
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "DJANGO_DEBUG": "0",
            "DJANGO_SECRET_KEY": "test-" + uuid.uuid4().hex * 2,
            "KEY_ENCRYPTION_KEY": settings.KEY_ENCRYPTION_KEY,
            "PUBLIC_BASE_URL": f"https://localhost:{ports[name]}",
            "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
            "DJANGO_SECURE_SSL_REDIRECT": "0",
            "DATABASE_URL": _admin_url(database_url, database),
            "CELERY_BROKER_URL": redis,
            "CACHE_URL": redis,
            "CELERY_TASK_DEFAULT_QUEUE": f"instance-{name}-{uuid.uuid4().hex[:8]}",
            "FETCH_TEST_ALLOWED_ADDRESSES": LOOPBACK_ADDRESSES,
            "FETCH_TEST_CA_FILE": cert,
            "LOG_LEVEL": "INFO",
            **((env_for(name, ports) if env_for else None) or {}),
        }
        instances.append(Instance(name, ports[name], env["DATABASE_URL"], env))
    migrations = [subprocess.Popen([sys.executable, "manage.py", "migrate", "--noinput"],
                                   cwd=ROOT, env=i.env, stdout=subprocess.DEVNULL,
                                   stderr=subprocess.PIPE) for i in instances]
    for instance, migration in zip(instances, migrations, strict=True):
        _, errors = migration.communicate(timeout=600)
        if migration.returncode != 0:
            pytest.fail(f"migrating {instance.name} failed: {errors.decode()[-2000:]}",
                        pytrace=False)
    for instance, listener in zip(instances, listeners, strict=True):
        _start_processes(instance, listener, cert, key)
    for instance in instances:
        _wait_until_up(instance)
    return instances


def _start_processes(instance: Instance, listener: socket.socket, cert: str, key: str) -> None:
    var = ROOT / "var"
    var.mkdir(exist_ok=True)
    worker_log = var / f"instance-{instance.name}-worker.log"
    web_log = var / f"instance-{instance.name}-web.log"
    instance.logs += [worker_log, web_log]
    queue = instance.env["CELERY_TASK_DEFAULT_QUEUE"]
    instance.processes.append(subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "config", "worker", "--loglevel", "INFO",
         "--concurrency", "1", "--pool", "solo", "--hostname", f"{queue}@%h", "--queues", queue,
         "--without-gossip", "--without-mingle"],
        cwd=ROOT, env=instance.env, stdout=worker_log.open("w"), stderr=subprocess.STDOUT))
    instance.processes.append(subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "config.wsgi:application", "--bind",
         f"fd://{listener.fileno()}", "--workers", "2", "--timeout", "120",
         "--no-control-socket", "--certfile", cert, "--keyfile", key],
        cwd=ROOT, env=instance.env, stdout=web_log.open("w"), stderr=subprocess.STDOUT,
        pass_fds=[listener.fileno()]))
    listener.close()


def _wait_until_up(instance: Instance) -> None:
    deadline = time.monotonic() + 90
    while True:
        try:
            if instance.request("GET", "/health/", timeout=5).status < 500:
                return
        except OSError:
            pass
        if time.monotonic() > deadline or any(p.poll() is not None for p in instance.processes):
            instance.stop()
            pytest.fail(f"instance {instance.name} did not start:\n{instance.log()}",
                        pytrace=False)
        time.sleep(0.3)


@pytest.fixture
def instances():
    """instances(*names, env_for=...) → started Instances; stopped and their databases dropped
    at the test's end."""
    started: list[Instance] = []

    def start(*names: str, env_for=None) -> list[Instance]:
        started.extend(start_instances(names, env_for=env_for))
        return started[-len(names):]

    yield start
    for instance in started:
        instance.stop()
    database_url = os.environ.get("DATABASE_URL", "")
    for instance in started:
        _drop_database(database_url, urlsplit(instance.database_url).path.strip("/"))
