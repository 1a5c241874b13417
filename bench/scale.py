"""Does the service slow down as passports pile up? The same three loads at 10,000 and at
1,000,000 passports in PostgreSQL, side by side: the public passport page (p99), an uncached
verify (p99; the verdict cache off, a different passport each request) and the cached
/status/ list fetch (requests/s), on gunicorn (2 workers per size, DJANGO_DEBUG=0) with Redis.

    .venv/bin/python bench/scale.py [--seconds 12] [--turns 4] [--small 10000] [--large 1000000]

`--real` passports (default 200) are signed by a Celery worker as the service signs them, and
the loads cycle through their pages and credentials. The rest are filler rows of the same
manufacturer, made by PostgreSQL itself (INSERT ... SELECT over generate_series: neither the
ORM nor COPY from Python, which spend minutes moving a gigabyte): a battery product each, with
the real attributes, an issued passport with a credential of `--jwt-bytes` (what the heap
holds; signing a million credentials measures issuance, not lookups) and its `issued` event.
After each load the tables are analysed, as autovacuum would by then. Target (issue #20): at
most 1.2x slower at the large count than at the small.

Like with like: the large database is a copy of the small one (CREATE DATABASE ... TEMPLATE:
the same keys, real passports and status lists) filled up to the large count, and both are
served at once, each by its own gunicorn; every load alternates between the two servers in
`--turns` slices, every other turn the large first (bench/_http.py `in_turns`), so a burst of
someone else's load on this shared machine falls on both sizes alike. (Measured one after the
other, minutes apart, the ratios moved by more than the size could explain: 0.55-0.81 for the
page, 1.05-1.43 for the verify, 0.9-1.48 for /status/, a different figure over 1.2 each run.)

Its PostgreSQL databases are `BENCH_DB` (default dpp_bench_scale) and `BENCH_DB`_large,
dropped and made anew, its Redis database `BENCH_REDIS` (default db 11, emptied).

Last line: one JSON object with each figure at both counts, their ratios and the target."""

from __future__ import annotations

import argparse
import json
import os
import socket
import time
import urllib.request

# A Redis database and a queue of its own: other benchmarks may run at the same time, and
# real_stack() empties the Redis database it is given.
os.environ.setdefault("BENCH_REDIS", "redis://127.0.0.1:6379/11")
os.environ["CELERY_TASK_DEFAULT_QUEUE"] = f"bench-scale-{os.getpid()}"

from _http import in_turns, load, serve  # noqa: E402
from _setup import PROXY_HEADERS, real_stack, start_workers, stop  # noqa: E402
from passports_fixture import issued_passports  # noqa: E402

TARGET_RATIO = 1.2
FILL_CHUNK = 100_000  # filler rows per INSERT ... SELECT


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def passport_count() -> int:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM passports_passport")
        return cursor.fetchone()[0]


def fill(organisation, up_to: int, jwt_bytes: int) -> float:
    """Filler products, issued passports and their events until `up_to` passports exist,
    made by the database itself (INSERT ... SELECT over generate_series, in chunks: no row
    goes through Python, let alone the ORM); then VACUUM ANALYZE. Returns the seconds."""
    from django.db import connection
    from django.utils import timezone

    from passports.models import Product

    started = time.perf_counter()
    count = up_to - passport_count()
    if count <= 0:
        return 0.0
    template = Product.objects.filter(organisation=organisation).first()
    now = timezone.now()
    with connection.cursor() as cursor:
        # Filler rows, consistent by construction: no flush per chunk, and no foreign-key
        # trigger per row (the indexes and unique constraints are maintained as always).
        cursor.execute("SET synchronous_commit = off")
        cursor.execute("SET session_replication_role = replica")
        cursor.execute("SELECT COALESCE(max(id), 0) FROM passports_product")
        first_id = cursor.fetchone()[0] + 1
        for start in range(first_id, first_id + count, FILL_CHUNK):
            end = min(start + FILL_CHUNK, first_id + count) - 1
            cursor.execute(
                "INSERT INTO passports_product (id, organisation_id, gtin, lot, serial, name, "
                "description, category, category_version, facility_name, facility_id, "
                "country_of_production, production_date, attributes, created_at, updated_at) "
                "SELECT n, %s, '09506000134352', '', 'F' || lpad(n::text, 11, '0'), "
                "'75 kWh EV battery pack', '', 'battery', %s, 'Acme Plant Eindhoven', '', 'NL', "
                "NULL, %s::jsonb, %s, %s FROM generate_series(%s, %s) AS n",
                [organisation.pk, template.category_version,
                 json.dumps(template.attributes), now, now, start, end])
            cursor.execute(
                "INSERT INTO passports_passport (id, product_id, version, state, state_reason, "
                "jwt, embedded, status_list_id, status_index, superseded_by_id, attempts, "
                "issued_at, created_at, updated_at) "
                "SELECT gen_random_uuid(), n, 1, 'issued', '', repeat('e', %s), NULL, NULL, "
                "NULL, NULL, 1, %s, %s, %s FROM generate_series(%s, %s) AS n",
                [jwt_bytes, now, now, now, start, end])
            cursor.execute(
                "INSERT INTO passports_passportevent (passport_id, action, from_state, to_state, "
                "actor_id, reason, details, created_at) "
                "SELECT id, 'issued', 'pending', 'issued', NULL, '', '{}', %s "
                "FROM passports_passport WHERE product_id BETWEEN %s AND %s",
                [now, start, end])
        cursor.execute("SELECT setval(pg_get_serial_sequence('passports_product', 'id'), "
                       "(SELECT max(id) FROM passports_product))")
        cursor.execute("RESET session_replication_role")
        cursor.execute("RESET synchronous_commit")
    for table in ("passports_product", "passports_passport", "passports_passportevent"):
        with connection.cursor() as cursor:
            cursor.execute(f"VACUUM ANALYZE {table}")
    with connection.cursor() as cursor:
        # Write the loaded gigabytes back now: otherwise the checkpointer does it during the
        # measurements, and they measure the disk, not the lookups.
        cursor.execute("CHECKPOINT")
    return time.perf_counter() - started


def fetch(url: str, accept: str = "text/html") -> bytes:
    request = urllib.request.Request(url, headers={"Accept": accept, **PROXY_HEADERS})
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - loopback
        return response.read()


def clone(env: dict, name: str) -> dict:
    """A copy of the database `env` names, as `name` (dropped first), Django switched to it;
    returns the environment for its server. Nothing may be connected to the source."""
    import subprocess

    from _setup import PG
    from django.db import connection

    source = env["DATABASE_URL"].rsplit("/", 1)[1]
    name = os.environ.get("BENCH_DB_PREFIX", "") + name
    connection.close()
    subprocess.run(["psql", PG + "/postgres", "-q", "-c", f"DROP DATABASE IF EXISTS {name}",
                    "-c", f"CREATE DATABASE {name} TEMPLATE {source}"], check=True,
                   capture_output=True)
    connection.settings_dict["NAME"] = name
    return {**env, "DATABASE_URL": f"{PG}/{name}"}


def measure(envs: dict[str, dict], pages: list[str], bodies: list[bytes], status_path: str,
            seconds: int, turns: int, concurrency: int) -> dict:
    """Each figure at every size, the sizes' servers loaded in turns."""
    servers, bases = {}, {}
    try:
        for label, env in envs.items():
            port = free_port()
            servers[label] = serve(env, port=port, workers=2)
            bases[label] = f"http://127.0.0.1:{port}"
        page_headers = {"Accept": "text/html", "Accept-Language": "en"}
        post = {"Content-Type": "application/json"}
        plans = {"page": {}, "verify": {}, "status": {}}
        for label, base in bases.items():
            if b"Verified" not in fetch(base + pages[0]):
                raise SystemExit(f"{label}: the passport page does not say Verified")
            plans["page"][label] = {"url": base, "concurrency": concurrency,
                                    "headers": page_headers, "paths": pages, "expect": "Verified"}
            plans["verify"][label] = {"url": f"{base}/api/v1/verify/", "method": "POST",
                                      "concurrency": concurrency, "headers": post,
                                      "bodies": bodies, "expect": '"verified":true'}
            plans["status"][label] = {"url": base + status_path, "concurrency": concurrency}
            # Warm both workers (the first verification compiles the schemas, imports views).
            for plan in plans.values():
                load(**{**plan[label], "concurrency": 4, "expect": None}, seconds=2)
        results = {label: {} for label in envs}
        for figure, plan in plans.items():
            measured = in_turns(plan, seconds=seconds, turns=turns, balanced=True)
            for label, result in measured.items():
                results[label][figure] = result
        return results
    finally:
        for server in servers.values():
            stop(server)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=int, default=12, help="per load and size")
    parser.add_argument("--turns", type=int, default=4, help="slices per load and size")
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--small", type=int, default=10_000)
    parser.add_argument("--large", type=int, default=1_000_000)
    parser.add_argument("--real", type=int, default=200, help="signed passports to load")
    parser.add_argument("--jwt-bytes", type=int, default=1500)
    args = parser.parse_args()

    database = os.environ.get("BENCH_DB", "dpp_bench_scale")
    env = real_stack(database)
    env["RATE_LIMIT_VERIFY"] = env["RATE_LIMIT_PUBLIC"] = "100000000/minute"  # never reached
    env["API_VERDICT_CACHE_SECONDS"] = "0"  # verify: every request verifies
    env["GUNICORN_CMD_ARGS"] = "--timeout 120"
    worker = start_workers(env)
    try:
        tokens = issued_passports(args.real)
    finally:
        stop(worker)
    from django.conf import settings

    from credentials.models import StatusList
    from passports.models import Product

    products = list(Product.objects.order_by("serial"))
    organisation = products[0].organisation
    pages = [product.digital_link.removeprefix(settings.PUBLIC_BASE_URL) for product in products]
    bodies = [json.dumps({"credential": token}).encode() for token in tokens]
    status_path = f"/status/{StatusList.objects.values_list('pk', flat=True).first()}"

    load_seconds = {"small": round(fill(organisation, args.small, args.jwt_bytes), 1)}
    counts = {"small": passport_count()}
    envs = {"small": env, "large": clone(env, f"{database}_large")}
    load_seconds["large"] = round(fill(organisation, args.large, args.jwt_bytes), 1)
    counts["large"] = passport_count()
    results = measure(envs, pages, bodies, status_path, args.seconds, args.turns,
                      args.concurrency)
    for label, count in counts.items():
        results[label]["passports"] = count

    small, large = results["small"], results["large"]
    figures = {
        "page_p99_ms": (small["page"]["p99_ms"], large["page"]["p99_ms"]),
        "verify_p99_ms": (small["verify"]["p99_ms"], large["verify"]["p99_ms"]),
        "status_rps": (small["status"]["rps"], large["status"]["rps"]),
    }
    # How many times slower the large database is: latencies large/small, throughput small/large.
    ratios = {
        "page_p99": _ratio(*figures["page_p99_ms"]),
        "verify_p99": _ratio(*figures["verify_p99_ms"]),
        "status_rps": _ratio(*reversed(figures["status_rps"])),
    }
    print(f"passports: {small['passports']:,} (filled in {load_seconds['small']} s) and "
          f"{large['passports']:,} (filled in {load_seconds['large']} s more); "
          f"{args.seconds} s per load and size in {args.turns} turns, concurrency "
          f"{args.concurrency}, gunicorn 2 workers per size")
    print(f"{'figure':<28} {'at ' + format(small['passports'], ','):>14} "
          f"{'at ' + format(large['passports'], ','):>14} {'x slower':>9}")
    for (name, (at_small, at_large)), ratio in zip(figures.items(), ratios.values(),
                                                   strict=True):
        print(f"{name:<28} {at_small:>14} {at_large:>14} {ratio:>9}")
    wrong = {label: {name: result[name]["wrong"] + result[name]["errors"]
                     for name in ("page", "verify", "status")}
             for label, result in results.items()}
    print(json.dumps({
        "passports": {"small": small["passports"], "large": large["passports"]},
        **{name: {"small": pair[0], "large": pair[1]} for name, pair in figures.items()},
        "page_rps": {"small": small["page"]["rps"], "large": large["page"]["rps"]},
        "verify_rps": {"small": small["verify"]["rps"], "large": large["verify"]["rps"]},
        "ratio": ratios, "worst_ratio": max(ratios.values()), "target_ratio": TARGET_RATIO,
        "meets_target": max(ratios.values()) <= TARGET_RATIO,
        "wrong": wrong, "fill_seconds": load_seconds, "seconds": args.seconds, "turns": args.turns,
        "concurrency": args.concurrency, "real_passports": len(tokens),
        "filler_jwt_bytes": args.jwt_bytes, "load_average_1m": round(os.getloadavg()[0], 2),
    }))


def _ratio(first: float, second: float) -> float | None:
    return round(second / first, 2) if first else None


if __name__ == "__main__":
    main()
