"""Whole instances of the service in processes of their own, as another organisation would run
them: each with its own database (a SQLite file in the embedded mode, a PostgreSQL database of
its own in the real mode), KEY_ENCRYPTION_KEY and PUBLIC_BASE_URL, `manage.py` commands, and on
demand gunicorn (2 sync workers, optionally over TLS) and, in the real mode, a Celery worker
(and beat) on a Redis database of its own.

    primary = instances.make("primary")        # the fixture: migrated, not started
    primary.manage("demo")
    primary.start()                            # gunicorn (+ worker and beat when real)
    primary.request("GET", "/health/")
    a, b = instances("a", "b", env_for=...)    # started, at https://localhost:<port>, each
                                               # fetching from the others (chains of evidence)

Whatever the fixture made is stopped and its database dropped at the test's end, also when a
test or an instance's start fails. Every process an instance starts leads a process group of
its own, and stopping it ends the whole group: no worker's pool child, no gunicorn worker
outlives it."""

from __future__ import annotations

import http.client
import json
import os
import signal
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
from tests.support.environment import ON_POSTGRES, ROOT, _no_broker
from tests.support.server import Answer, exchange
from tests.support.tls import LOOPBACK, loopback_certificate

# Redis databases the instances' brokers use, one each, before the suite's own (counting up
# from the suite's could pass Redis's last, 15, which CI's broker is).
INSTANCE_REDIS_DATABASES = (7, 8)
LOOPBACK_ADDRESSES = "127.0.0.1,::1"  # `localhost` may resolve to either
STOP_SECONDS = 20


def _admin_url() -> str:
    """The suite's PostgreSQL server, as a URL to its `postgres` database."""
    db = settings.DATABASES["default"]
    auth = db["USER"] + (f":{db['PASSWORD']}" if db.get("PASSWORD") else "")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/postgres"


def _postgres(sql: str) -> None:
    import psycopg

    with psycopg.connect(_admin_url(), autocommit=True) as connection:
        connection.execute(sql)


def _die_with_the_tests() -> None:  # in the child, before exec
    os.setsid()  # a process group of its own: stop() ends the whole group
    try:
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except OSError:
        pass


def _end(process: subprocess.Popen) -> None:
    """Ask `process` to stop (SIGTERM: a worker finishes its task, gunicorn its requests), kill
    it after STOP_SECONDS, then kill whatever is left of its process group."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=STOP_SECONDS)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass  # the group is gone with its leader


@dataclass
class Instance:
    name: str
    directory: Path
    database_url: str
    port: int
    tls: tuple[str, str] | None
    env: dict[str, str]
    host: str = LOOPBACK
    redis_database: int | None = None
    processes: list = field(default_factory=list)
    _listener: socket.socket | None = None
    _logs: list = field(default_factory=list)

    @classmethod
    def make(cls, directory: Path, name: str, *, tls: bool | tuple[str, str] = False,
             redis_database: int | None = None, env: dict | None = None,
             port: int | None = None, host: str = LOOPBACK, migrate: bool = True) -> Instance:
        """A migrated, empty instance (or, without `migrate`, an empty database) whose port is
        taken now. `tls`: True for a certificate of its own, or a shared (certificate, key).
        With a `redis_database` (and a Redis broker configured) its tasks go through Celery and
        it runs as production does (DJANGO_DEBUG=0); without, tasks run in-process (DEBUG).
        Prefer the `instances` fixture, which drops what it made whatever happens."""
        directory = Path(directory) / name
        directory.mkdir(parents=True, exist_ok=True)
        listener = socket.create_server((LOOPBACK, port or 0))  # the port is ours from now
        port = listener.getsockname()[1]
        if ON_POSTGRES:
            database = f"{settings.DATABASES['default']['NAME']}_{name}_{uuid.uuid4().hex[:6]}"
            _postgres(f'CREATE DATABASE "{database}"')
            database_url = _admin_url().rsplit("/", 1)[0] + f"/{database}"
        else:
            database_url = f"sqlite:///{directory / 'db.sqlite3'}"
        if tls is True:
            tls = loopback_certificate(directory, "tls", f"Test instance {name}",
                                       dns_names=("localhost",))
        scheme = "https" if tls else "http"
        base = {k: v for k, v in os.environ.items()
                if not k.startswith(("CELERY_", "CACHE_", "DATABASE_", "DJANGO_", "WEBHOOK_",
                                     "REPLICATION_", "BACKUP_", "PUBLIC_", "KEY_", "FETCH_"))}
        child_env = {**base, "DJANGO_SETTINGS_MODULE": "config.settings",
                     "DJANGO_SECRET_KEY": "test-" + uuid.uuid4().hex * 2,
                     "KEY_ENCRYPTION_KEY": new_encryption_key_text(),
                     "PUBLIC_BASE_URL": f"{scheme}://{host}:{port}",
                     "DJANGO_ALLOWED_HOSTS": f"{LOOPBACK},localhost",
                     "DJANGO_SECURE_SSL_REDIRECT": "0", "DJANGO_SECURE_HSTS_SECONDS": "0",
                     "DATABASE_URL": database_url, "VAR_DIR": str(directory),
                     "LOG_LEVEL": "INFO", **(env or {})}
        broker = settings.CELERY_BROKER_URL
        if broker and broker.startswith("redis") and redis_database is not None:
            url = urlsplit(broker)._replace(path=f"/{redis_database}").geturl()
            child_env |= {"CELERY_BROKER_URL": url, "CACHE_URL": url,
                          "CELERY_TASK_DEFAULT_QUEUE": f"instance-{name}-{uuid.uuid4().hex[:6]}"}
        else:
            redis_database = None
        child_env["DJANGO_DEBUG"] = "0" if "CELERY_BROKER_URL" in child_env else "1"
        instance = cls(name, directory, database_url, port, tls or None, child_env, host,
                       redis_database, _listener=listener)
        if migrate:
            migrate_all([instance])
        return instance

    @property
    def base_url(self) -> str:
        return self.env["PUBLIC_BASE_URL"]

    @property
    def real(self) -> bool:
        """Whether its tasks go through a broker to a worker (else: in-process)."""
        return "CELERY_BROKER_URL" in self.env

    # --- commands in its environment -----------------------------------------------------------

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

    def setup(self, spec: dict) -> dict:
        """Organisations, products and API keys made in its database
        (tests.support.instance_setup): what it made."""
        done = subprocess.run([sys.executable, "-m", "tests.support.instance_setup",
                               json.dumps(spec)], cwd=ROOT, env=self.env, capture_output=True,
                              text=True, timeout=300, check=False)
        if done.returncode != 0:
            pytest.fail(f"setting up {self.name} failed:\n{done.stderr[-3000:]}", pytrace=False)
        return json.loads(done.stdout.strip().splitlines()[-1])

    def execute(self, sql: str, params=()) -> None:
        """A statement on the instance's own PostgreSQL database (e.g. to tamper with what it
        serves)."""
        import psycopg

        with psycopg.connect(self.database_url, autocommit=True) as connection:
            connection.execute(sql, params)

    # --- its processes -------------------------------------------------------------------------

    def _spawn(self, label: str, command: list[str], **popen) -> None:
        log = open(self.directory / f"{label}.log", "a")  # noqa: SIM115 - closed by stop()
        self._logs.append(log)
        self.processes.append(subprocess.Popen(
            command, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT,
            preexec_fn=_die_with_the_tests, **popen))  # noqa: PLW1509 - setsid and prctl only

    def start(self, *, beat: bool = True, seconds: float = 90) -> Instance:
        """gunicorn on its port (TLS when made with it); in the real mode a worker and (with
        `beat`) beat. Fails the test, with every process of the instance stopped, when it does
        not answer /health/ within `seconds`."""
        try:
            self._start(beat)
            deadline = time.monotonic() + seconds
            while True:
                try:
                    if self.request("GET", "/health/", timeout=5).status < 500:
                        return self
                except OSError:
                    pass
                if any(p.poll() is not None for p in self.processes) \
                        or time.monotonic() > deadline:
                    break
                time.sleep(0.2)
        except BaseException:
            self.stop()
            raise
        logs = self.logs()
        self.stop()
        pytest.fail(f"{self.name} did not start, see {self.directory}/*.log:\n{logs}",
                    pytrace=False)

    def _start(self, beat: bool) -> None:
        listener = self._listener or socket.create_server((LOOPBACK, self.port))
        self._listener = None
        command = [sys.executable, "-m", "gunicorn", "config.wsgi:application", "--bind",
                   f"fd://{listener.fileno()}", "--workers", "2", "--timeout", "120",
                   "--no-control-socket"]
        if self.tls:
            command += ["--certfile", self.tls[0], "--keyfile", self.tls[1]]
        try:
            self._spawn("gunicorn", command, pass_fds=[listener.fileno()])
        finally:
            listener.close()
        if self.real:
            queue = self.env["CELERY_TASK_DEFAULT_QUEUE"]
            self._spawn("worker", [sys.executable, "-m", "celery", "-A", "config", "worker",
                                   "--loglevel", "INFO", "--concurrency", "1", "--pool",
                                   "prefork", "--hostname", f"{queue}@%h", "--queues", queue,
                                   "--without-gossip", "--without-mingle"])
            if beat:
                self._spawn("beat", [sys.executable, "-m", "celery", "-A", "config", "beat",
                                     "--loglevel", "INFO", "--schedule",
                                     str(self.directory / "beat-schedule")])

    def stop(self) -> None:
        """Stop every process it started (each with its process group), and free its port."""
        for process in self.processes:
            if process.poll() is None:
                process.terminate()
        for process in self.processes:
            _end(process)
        self.processes.clear()
        for log in self._logs:
            log.close()
        self._logs.clear()
        if self._listener is not None:
            self._listener.close()
            self._listener = None

    def drop(self) -> None:
        """Stop it and remove its database."""
        self.stop()
        if ON_POSTGRES:
            _postgres(f'DROP DATABASE IF EXISTS "{urlsplit(self.database_url).path[1:]}" '
                      f"WITH (FORCE)")
        else:
            (self.directory / "db.sqlite3").unlink(missing_ok=True)

    def logs(self) -> str:
        return "\n".join(f"--- {path.name}\n{path.read_text(errors='replace')[-5000:]}"
                         for path in sorted(self.directory.glob("*.log")))

    # --- HTTP ----------------------------------------------------------------------------------

    def request(self, method: str, path: str, *, body: bytes | dict | None = None,
                headers: dict | None = None, key: str | None = None,
                timeout: float = 60) -> Answer:
        """One request on a fresh connection (a dict `body` as JSON; `key`: an API key);
        `timeout` only keeps a broken test from hanging."""
        headers = dict(headers or {})
        if key:
            headers["Authorization"] = f"Token {key}"
        if self.tls:
            context = ssl.create_default_context(cafile=self.tls[0])
            connection = http.client.HTTPSConnection(self.host, self.port, timeout=timeout,
                                                     context=context)
        else:
            connection = http.client.HTTPConnection(self.host, self.port, timeout=timeout)
        return exchange(connection, method, path, body=body, headers=headers)

    def api(self, method: str, path: str, key: str, body: dict | None = None,
            **headers) -> Answer:
        return self.request(method, path, body=body, key=key, headers=headers)

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


def migrate_all(instances: list[Instance]) -> None:
    """`migrate` in each instance's database, in parallel."""
    migrations = [subprocess.Popen([sys.executable, "manage.py", "migrate", "--noinput"],
                                   cwd=ROOT, env=i.env, stdout=subprocess.DEVNULL,
                                   stderr=subprocess.PIPE) for i in instances]
    failed = []
    for instance, migration in zip(instances, migrations, strict=True):
        _, errors = migration.communicate(timeout=600)
        if migration.returncode != 0:
            failed.append(f"{instance.name}: {errors.decode()[-2000:]}")
    if failed:
        pytest.fail("migrating failed:\n" + "\n".join(failed), pytrace=False)


class Instances:
    """What the `instances` fixture gives: instances made in `directory`, each on a Redis
    database of its own in the real mode, all dropped by `close()`."""

    def __init__(self, directory: Path):
        self.directory = directory
        self.made: list[Instance] = []
        broker = settings.CELERY_BROKER_URL or ""
        own = int(urlsplit(broker).path.strip("/") or 0) if broker.startswith("redis") else None
        # The fixed spare databases first; then the suite's own (each instance has a queue of
        # its own there).
        self._redis = [n for n in INSTANCE_REDIS_DATABASES if n != own] + (
            [own] if own is not None else [])

    def make(self, name: str, **options) -> Instance:
        """Instance.make, on the next free Redis database when the suite has a Redis broker
        (the instance's tasks then go through its own worker)."""
        if self._redis and "redis_database" not in options:
            options["redis_database"] = self._redis.pop(0)
        migrate = options.pop("migrate", True)
        instance = Instance.make(self.directory, name, migrate=False, **options)
        self.made.append(instance)  # dropped at the end, whatever happens next
        if migrate:
            migrate_all([instance])
        return instance

    def __call__(self, *names: str, env_for=None) -> list[Instance]:
        """Started instances named `names`, at `https://localhost:<port>` (their DIDs
        `did:web:localhost%3A<port>:...`) with one test certificate for localhost, reaching
        each other through the guarded fetch (FETCH_TEST_ALLOWED_ADDRESSES names the loopback
        addresses and FETCH_TEST_CA_FILE the test certificate, in their environment only).
        Needs PostgreSQL and Redis: each has its own worker. `env_for(name, ports)` adds to an
        instance's environment (e.g. the anchors it trusts, which name the others' ports)."""
        if not ON_POSTGRES or not (settings.CELERY_BROKER_URL or "").startswith("redis"):
            _no_broker("two instances need PostgreSQL (DATABASE_URL) and Redis "
                       "(CELERY_BROKER_URL)")
        if len(names) > len(self._redis):
            raise ValueError(f"{len(names)} instances, {len(self._redis)} Redis databases left")
        cert = loopback_certificate(self.directory, "localhost", "Test service instances",
                                    dns_names=("localhost",))
        made = [self.make(name, tls=cert, host="localhost", migrate=False, env={
            "FETCH_TEST_ALLOWED_ADDRESSES": LOOPBACK_ADDRESSES, "FETCH_TEST_CA_FILE": cert[0]})
            for name in names]
        ports = {instance.name: instance.port for instance in made}
        for instance in made:
            instance.env |= (env_for(instance.name, ports) if env_for else None) or {}
        migrate_all(made)
        return [instance.start(beat=False) for instance in made]

    def close(self) -> None:
        for instance in self.made:
            instance.stop()
        for instance in self.made:
            instance.drop()


@pytest.fixture
def instances(tmp_path):
    """Instances (see Instances): `instances.make(name, ...)` one made and migrated,
    `instances(*names, env_for=...)` linked ones started; all stopped and their databases
    dropped at the test's end."""
    made = Instances(tmp_path)
    try:
        yield made
    finally:
        made.close()
