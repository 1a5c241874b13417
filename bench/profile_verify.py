"""Where the uncached verify of a passport goes, in this process (no HTTP): `count` distinct
passports issued (eager tasks) into a fresh PostgreSQL database, then each verified once with
the API's verifier and the verdict cache off, under cProfile.

    .venv/bin/python bench/profile_verify.py [--count 300] [--top 40]

Prints ms of CPU per verification, the profile's top functions (cumulative; CPU time, not the
waits of a busy machine) and the queries of one verification. Production settings need a broker:
BENCH_REDIS (also the cache, as in production); tasks still run in this process."""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import pstats
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _setup import PG, REDIS, database_cpu, production_settings  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=300)
    parser.add_argument("--top", type=int, default=40)
    parser.add_argument("--sort", default="cumulative", help="pstats order: tottime, ...")
    parser.add_argument("--database", default=os.environ.get("BENCH_DB", "bench_speed_profile"))
    args = parser.parse_args()

    import subprocess

    database = args.database
    subprocess.run(["psql", PG + "/postgres", "-q", "-c", f"DROP DATABASE IF EXISTS {database}",
                    "-c", f"CREATE DATABASE {database}"], check=True, capture_output=True)
    os.environ.update(DATABASE_URL=f"{PG}/{database}", DJANGO_SETTINGS_MODULE="config.settings",
                      LOG_LEVEL="WARNING", API_VERDICT_CACHE_SECONDS="0",
                      # production requires a broker, and its cache is then this Redis too
                      CELERY_BROKER_URL=REDIS, **production_settings())
    import django

    django.setup()
    from config.celery import app

    app.conf.task_always_eager = True  # issue in this process: nothing else is measured
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from passports_fixture import issued_passports

    tokens = issued_passports(args.count)
    from passports.api.verifying import verify_json

    verify_json(tokens[0])  # warm: schemas compiled, contexts loaded
    timed = tokens[1:]

    def run_all() -> float:
        """ms of CPU per verification, with no content memo of an earlier run left."""
        from credentials import schemas

        getattr(schemas, "_MEMO", {}).clear()
        start = time.process_time()
        for token in timed:
            verify_json(token)
        return (time.process_time() - start) * 1000 / len(timed)

    database_before = database_cpu()
    plain = run_all()
    database = (database_cpu() - database_before) * 1000 / len(timed)
    profile = cProfile.Profile(time.process_time)  # CPU: not the waits for a busy machine
    profile.enable()
    profiled = run_all()
    profile.disable()
    stats = pstats.Stats(profile)
    stats.sort_stats(args.sort).print_stats(args.top)
    from django.db import connection, reset_queries
    from django.test.utils import CaptureQueriesContext

    reset_queries()
    with CaptureQueriesContext(connection) as queries:
        verify_json(timed[-1])
    for query in queries.captured_queries:
        print(query["sql"][:200])
    print(f"uncached verify: {plain:.2f} ms CPU per passport ({profiled:.2f} under cProfile), "
          f"PostgreSQL's own CPU {database:.2f} ms, {len(queries.captured_queries)} queries")
    print(json.dumps({"verify_cpu_ms": round(plain, 3), "database_cpu_ms": round(database, 3),
                      "queries": len(queries.captured_queries)}))


if __name__ == "__main__":
    main()
