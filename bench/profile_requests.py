"""Where the requests users feel go, in this process (Django's WSGI handler with every
middleware, as gunicorn calls it, minus the HTTP parsing): `count` passports issued (eager
tasks) into a fresh PostgreSQL database; then `count` requests each of the public page of one
of them (as a first-time visitor asks: no If-None-Match), POST /api/v1/verify/ with the verdict
cache off and a different passport each time, /health/ and the API root (the trivial endpoint).

    .venv/bin/python bench/profile_requests.py [--count 1000] [--top 40] [--profile verify]

Prints ms of CPU per request of each endpoint and of its PostgreSQL backend (the ratios the
HTTP benchmarks' targets are about, without the noise of a shared machine) and the cProfile of
the one named by --profile. The page is rendered by its first request and then served from the
process's page cache while the rows it depends on are unchanged (passports/views.py), as
production serves it."""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import pstats
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _setup import PG, PROXY_HEADERS, REDIS, database_cpu, production_settings  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--profile", default="verify",
                        choices=["page", "verify", "health", "trivial"])
    parser.add_argument("--top", type=int, default=40)
    parser.add_argument("--sort", default="cumulative", help="pstats order: tottime, ...")
    parser.add_argument("--database", default=os.environ.get("BENCH_DB", "bench_page_profile"))
    args = parser.parse_args()

    database = args.database
    subprocess.run(["psql", PG + "/postgres", "-q", "-c", f"DROP DATABASE IF EXISTS {database}",
                    "-c", f"CREATE DATABASE {database}"], check=True, capture_output=True)
    subprocess.run(["redis-cli", "-u", REDIS, "flushdb"], check=True, capture_output=True)
    os.environ.update(DATABASE_URL=f"{PG}/{database}", DJANGO_SETTINGS_MODULE="config.settings",
                      LOG_LEVEL="WARNING", RATE_LIMIT_PUBLIC="100000000/minute",
                      RATE_LIMIT_VERIFY="100000000/minute", API_VERDICT_CACHE_SECONDS="0",
                      CELERY_BROKER_URL=REDIS, **production_settings())
    import django

    django.setup()
    from config.celery import app

    app.conf.task_always_eager = True  # issue in this process: nothing else is measured
    from django.conf import settings
    from django.core.management import call_command
    from django.test import Client

    call_command("migrate", verbosity=0)
    from passports_fixture import issued_passports

    from passports.models import Product

    tokens = issued_passports(args.count)
    bodies = [json.dumps({"credential": token}) for token in tokens]
    product = Product.objects.order_by("serial").first()
    headers = {"HTTP_" + name.upper().replace("-", "_"): value
               for name, value in PROXY_HEADERS.items()}
    client = Client(HTTP_HOST="127.0.0.1", HTTP_ACCEPT_LANGUAGE="en", **headers)
    page = product.digital_link.removeprefix(settings.PUBLIC_BASE_URL)
    first = client.get(page, HTTP_ACCEPT="text/html")
    if first.status_code != 200 or b"Verified" not in first.content:
        raise SystemExit(f"the page does not say Verified ({first.status_code})")

    def get(path, **extra):
        return lambda number: client.get(path, **extra)

    def verify(number):
        response = client.post("/api/v1/verify/", bodies[number], content_type="application/json")
        if b'"verified":true' not in response.content:
            raise SystemExit(f"a passport did not verify: {response.content[:300]}")
        return response

    requests = {"page": get(page, HTTP_ACCEPT="text/html"), "verify": verify,
                "health": get("/health/"), "trivial": get("/api/v1/")}
    verify(0)  # warm: schemas compiled, contexts loaded

    database = {}

    def per_request(name: str) -> float:
        """ms of CPU per request (each answer checked: 200); the database's in `database`."""
        backend = database_cpu()
        start = time.process_time()
        for number in range(args.count):
            if requests[name](number).status_code != 200:
                raise SystemExit(f"{name} did not answer 200")
        figure = (time.process_time() - start) * 1000 / args.count
        database[name] = (database_cpu() - backend) * 1000 / args.count
        return figure

    figures = {name: per_request(name) for name in requests}
    measured_database = dict(database)
    profile = cProfile.Profile(time.process_time)  # CPU: not the waits for a busy machine
    profile.enable()
    per_request(args.profile)
    profile.disable()
    pstats.Stats(profile).sort_stats(args.sort).print_stats(args.top)
    print("ms CPU per request: " + ", ".join(f"{name} {value:.3f}"
                                             for name, value in figures.items())
          + f"; page bytes {len(first.content)}")
    print("ms of PostgreSQL's CPU per request: " + ", ".join(
        f"{name} {value:.3f}" for name, value in measured_database.items()))
    print(json.dumps({f"{name}_cpu_ms": round(value, 3) for name, value in figures.items()}
                     | {f"{name}_database_cpu_ms": round(value, 3)
                        for name, value in measured_database.items()}
                     | {"uncached_ratio": round(figures["trivial"] / figures["verify"], 2),
                        "page_ratio": round(figures["health"] / figures["page"], 2)}))


if __name__ == "__main__":
    main()
