"""Backups (issue #26, docs/backup.md), on the real stack with N signed battery passports:

- an encrypted archive (`manage.py backup_archive`) next to a plain `pg_dump -Fc` of the same
  database, measured side by side: what sealing costs;
- restoring it (`manage.py restore_archive`: pg_restore, migrate, every key unwrapped, every
  passport verified) into a fresh database;
- a back-up provider catching up from nothing: a second instance (its own database, gunicorn
  over TLS, DEBUG off) receiving every DID document, status list and passport as the primary's
  push does (`backup_provider push`), and the provider then serving one of them.

    .venv/bin/python bench/backup.py --count 2000

Last line: one JSON object with the figures (`archive_over_pg_dump` is the ratio, and
`archive_work_over_pg_dump` the same without the command's Django start-up)."""

from __future__ import annotations

import argparse
import http.client
import json
import os
import socket
import ssl
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _setup import PG, ROOT, real_stack, start_workers, stop
from passports_fixture import issued_passports


def timed(command: list[str], env: dict) -> float:
    started = time.perf_counter()
    subprocess.run(command, cwd=ROOT, env=env, check=True, capture_output=True)
    return time.perf_counter() - started


def fresh_database(name: str) -> str:
    name = os.environ.get("BENCH_DB_PREFIX", "") + name
    subprocess.run(["psql", PG + "/postgres", "-q", "-c", f"DROP DATABASE IF EXISTS {name}",
                    "-c", f"CREATE DATABASE {name}"], check=True, capture_output=True)
    return f"{PG}/{name}"


def provider_instance(env: dict, directory: Path):
    """A second instance on its own database, gunicorn over TLS on a free port."""
    from tests.support.tls import loopback_certificate

    cert, key = loopback_certificate(directory, "provider", "Bench back-up provider")
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    provider_env = {**env, "DATABASE_URL": fresh_database("bench_backup_provider"),
                    "PUBLIC_BASE_URL": f"https://127.0.0.1:{port}",
                    "CELERY_TASK_DEFAULT_QUEUE": "bench-backup-provider"}
    subprocess.run([sys.executable, "manage.py", "migrate", "-v", "0"], cwd=ROOT,
                   env=provider_env, check=True)
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "config.wsgi:application", "--bind",
         f"fd://{listener.fileno()}", "--workers", "2", "--no-control-socket", "--certfile",
         cert, "--keyfile", key], cwd=ROOT, env=provider_env, pass_fds=[listener.fileno()],
        stdout=subprocess.DEVNULL, stderr=open(ROOT / "var" / "bench-provider.log", "w"))  # noqa: SIM115
    listener.close()
    return server, provider_env, cert


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=2000)
    count = parser.parse_args().count
    env = real_stack("bench_backup")
    worker = start_workers(env)
    server = None
    try:
        jwts = issued_passports(count)
        assert len(jwts) == count
        work = Path(tempfile.mkdtemp(prefix="bench-backup-"))
        key = {"BACKUP_ARCHIVE_KEY": env["KEY_ENCRYPTION_KEY"][::-1]}  # any 32 random bytes
        database = env["DATABASE_URL"].rsplit("/", 1)[1]
        # What any manage.py command costs before it starts working (Django set-up), so the
        # archive is compared with pg_dump on the work alone as well.
        startup = min(timed([sys.executable, "manage.py", "shell", "-c", "pass"], env)
                      for _ in range(3))
        pg_dump = timed(["pg_dump", "--dbname", env["DATABASE_URL"], "--format=custom",
                         "--file", str(work / "plain.pgdump")], env)
        archive = timed([sys.executable, "manage.py", "backup_archive",
                         str(work / "service.archive")], {**env, **key})
        sizes = {name: (work / name).stat().st_size for name in ("plain.pgdump",
                                                                  "service.archive")}
        restored_env = {**env, **key, "DATABASE_URL": fresh_database("bench_backup_restored")}
        started = time.perf_counter()
        done = subprocess.run([sys.executable, "manage.py", "restore_archive",
                               str(work / "service.archive")], cwd=ROOT, env=restored_env,
                              check=True, capture_output=True, text=True)
        restore = time.perf_counter() - started
        assert f"{count} of " in done.stdout and "restore complete" in done.stdout, done.stdout

        server, provider_env, cert = provider_instance(env, work)
        primary_env = {**env, "WEBHOOK_TEST_ALLOWED_ADDRESSES": "127.0.0.1",
                       "WEBHOOK_TEST_CA_FILE": cert}
        credential = subprocess.run(
            [sys.executable, "manage.py", "replication_source", "add", env["PUBLIC_BASE_URL"],
             "--name", "bench primary"], cwd=ROOT, env=provider_env, check=True,
            capture_output=True, text=True).stdout.strip().splitlines()[-1]
        # `add` queues a push: with no worker and a broker out of reach it stays unsent, so the
        # timed push below (what the task runs) is the one that sends everything.
        stop(worker)
        worker = None
        subprocess.run([sys.executable, "manage.py", "backup_provider", "add",
                        provider_env["PUBLIC_BASE_URL"], "--name", "bench provider"], cwd=ROOT,
                       env={**primary_env, "BACKUP_PROVIDER_CREDENTIAL": credential,
                            "CELERY_BROKER_URL": "redis://127.0.0.1:1/0"},
                       check=True, capture_output=True)
        started = time.perf_counter()
        pushed = subprocess.run([sys.executable, "manage.py", "backup_provider", "push"],
                                cwd=ROOT, env=primary_env, check=True, capture_output=True,
                                text=True).stdout
        catch_up = time.perf_counter() - started
        documents = int(pushed.split(": ", 1)[1].split(" ", 1)[0])
        assert documents >= count, pushed
        from passports.models import Passport

        sample = Passport.objects.exclude(jwt="").order_by("?").first()
        connection = http.client.HTTPSConnection(
            "127.0.0.1", int(provider_env["PUBLIC_BASE_URL"].rsplit(":", 1)[1]),
            context=ssl.create_default_context(cafile=cert))
        connection.request("GET", f"/passports/{sample.pk}",
                           headers={"Accept": "application/vc+jwt"})
        served = connection.getresponse().read().decode() == sample.jwt
        assert served
    finally:
        if worker is not None:
            stop(worker)
        if server is not None:
            stop(server)
    figures = {
        "count": count, "pg_dump_seconds": round(pg_dump, 2),
        "archive_seconds": round(archive, 2),
        "command_startup_seconds": round(startup, 2),
        "archive_over_pg_dump": round(archive / pg_dump, 2),
        "archive_work_over_pg_dump": round(max(archive - startup, 0) / pg_dump, 2),
        "archive_bytes": sizes["service.archive"], "pg_dump_bytes": sizes["plain.pgdump"],
        "restore_seconds": round(restore, 2),
        "restored_passports_verified_per_s": round(count / restore, 1),
        "provider_catch_up_seconds": round(catch_up, 2), "documents_pushed": documents,
        "documents_per_s": round(documents / catch_up, 1), "provider_serves_copy": served,
        "database": database,
    }
    print(f"{'what':<40}{'value':>14}")
    for name, value in figures.items():
        print(f"{name:<40}{value!s:>14}")
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
