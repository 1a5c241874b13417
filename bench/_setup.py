"""Shared set-up for benchmarks that need the real stack: a fresh PostgreSQL database, Redis,
Django configured against them, and helpers to start Celery workers and gunicorn."""

from __future__ import annotations

import base64
import os
import secrets
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
PG = os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432")
REDIS = os.environ.get("BENCH_REDIS", "redis://127.0.0.1:6379/14")


def real_stack(database: str) -> dict:
    """Environment for a fresh PostgreSQL database `database` (after BENCH_DB_PREFIX, so that
    runs by several people on one server keep apart) and Redis; migrates it and sets up Django
    in this process. Returns the environment for child processes."""
    database = os.environ.get("BENCH_DB_PREFIX", "") + database
    subprocess.run(["psql", PG + "/postgres", "-q", "-c", f"DROP DATABASE IF EXISTS {database}",
                    "-c", f"CREATE DATABASE {database}"], check=True, capture_output=True)
    subprocess.run(["redis-cli", "-u", REDIS, "flushdb"], check=True, capture_output=True)
    env = {**os.environ, "DATABASE_URL": f"{PG}/{database}", "CELERY_BROKER_URL": REDIS,
           "DJANGO_SETTINGS_MODULE": "config.settings", "LOG_LEVEL": "WARNING",
           **production_settings()}
    os.environ.update(env)
    subprocess.run([sys.executable, "manage.py", "migrate", "-v", "0"], cwd=ROOT, env=env,
                   check=True)
    import django

    django.setup()
    return env


def production_settings() -> dict:
    """What production runs: DEBUG off, with its own (throw-away) secrets. The clients speak
    plain HTTP on loopback as a TLS-terminating proxy in front of gunicorn would: with
    X-Forwarded-Proto (PROXY_HEADERS), so the HTTPS redirect stays on as deployed."""
    return {"DJANGO_DEBUG": "0", "DJANGO_SECRET_KEY": secrets.token_urlsafe(48),
            "KEY_ENCRYPTION_KEY": base64.urlsafe_b64encode(secrets.token_bytes(32))
            .rstrip(b"=").decode(),
            "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
            # production requires a real public origin (it is inside every DID)
            "PUBLIC_BASE_URL": os.environ.get("PUBLIC_BASE_URL", "https://dpp-bench.localhost")}


# Headers every benchmark client sends: those of the TLS-terminating proxy (see above).
PROXY_HEADERS = {"X-Forwarded-Proto": "https"}


def start_workers(env: dict, concurrency: int = 2) -> subprocess.Popen:
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "config", "worker", "--loglevel", "WARNING",
         "--concurrency", str(concurrency), "--without-gossip", "--without-mingle",
         "--prefetch-multiplier", "1"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
        stderr=open(ROOT / "var" / "bench-worker.log", "w"))  # noqa: SIM115
    from config.celery import app

    # A control ping (over the broker): production keeps no task results to wait on.
    if not wait_until(lambda: app.control.ping(timeout=1.0), timeout=60):
        stop(worker)
        raise RuntimeError("the celery worker did not answer in 60 s")
    return worker


def stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()


def wait_until(predicate, timeout: float, interval: float = 0.05) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return False


def issued_passports(organisation, serial_prefix: str, count: int,
                     entries: list | None = None) -> list:
    """`count` products of `organisation` (serials `<serial_prefix>0000000`, ...), each with an
    issued passport whose JWT is a placeholder: what a status change reads, without signing
    `count` credentials first. `entries` ((status list, index) pairs, one per passport) puts
    each passport on its status list entry."""
    from django.utils import timezone

    from passports.models import Passport, Product

    products = Product.objects.bulk_create(
        [Product(organisation=organisation, gtin="09506000134352", serial=f"{serial_prefix}{n:07d}",
                 name="Battery pack", category="generic") for n in range(count)],
        batch_size=2000)
    now = timezone.now()
    placed = entries if entries is not None else [(None, None)] * count
    return Passport.objects.bulk_create(
        [Passport(product=product, version=1, state=Passport.State.ISSUED, issued_at=now,
                  jwt="bench-placeholder", status_list=status_list, status_index=index)
         for product, (status_list, index) in zip(products, placed, strict=True)],
        batch_size=2000)


def database_cpu() -> float:
    """Seconds of CPU the PostgreSQL backend of this process's connection has used (from
    /proc: the server runs on this machine), so a profile can add the database's share."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime, stime
