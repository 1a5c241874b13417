"""POST /api/v1/verify/ under load: gunicorn (2 sync workers) on PostgreSQL and Redis, a real
passport issued by a Celery worker, verified by wrk from a separate process for `--seconds`;
once with the verdict cache as deployed and once with it off (every request verifies in full);
then, in the same run and at the same concurrency, the API root (no database: the trivial
endpoint) and /health/ (one database and one Redis round trip, the other benchmarks' baseline)
for comparison.

    .venv/bin/python bench/verify_load.py --seconds 20 --concurrency 16

Its PostgreSQL database is `BENCH_DB` (default dpp_bench_verify, dropped and made anew), its
Redis database `BENCH_REDIS` (default db 13, emptied).

The verify endpoint's rate limit stays on (counted in Redis), at a rate one client cannot
reach, so its cost is in the numbers. Targets: verify requests/s >= 0.5 x the trivial
endpoint's, verify p99 <= 50 ms.

Last line: one JSON object with verify_rps, trivial_rps, ratio (verify/trivial), verify_p50_ms,
verify_p99_ms, trivial_p50_ms, trivial_p99_ms, health_rps, ratio_health, uncached_verify_rps,
uncached_verify_p99_ms, uncached_ratio, concurrency, seconds and whether the targets are met."""

from __future__ import annotations

import argparse
import json
import os
import socket
import urllib.request

# A Redis database and a queue of its own: another benchmark may run at the same time, and
# real_stack() empties the Redis database it is given.
os.environ.setdefault("BENCH_REDIS", "redis://127.0.0.1:6379/13")
os.environ["CELERY_TASK_DEFAULT_QUEUE"] = f"bench-verify-{os.getpid()}"

from _http import load, serve  # noqa: E402
from _setup import real_stack, start_workers, stop, wait_until  # noqa: E402

from wallet.tenancy.authority import operator

TARGET_RATIO = 0.5
TARGET_P99_MS = 50.0


def issued_passport():
    """A battery passport of a manufacturer, requested here and signed by a Celery worker."""
    from passports import categories
    from passports.models import Passport, Product
    from passports.services.issuance import passport_request
    from tests.support.attributes import sample_value
    from wallet.tenancy.services import organisation_create

    organisation = organisation_create(slug="acme", legal_name="Acme Batteries B.V.")
    battery = categories.get("battery")
    product = Product.objects.create(
        organisation=organisation, gtin="09506000134352", serial="SN-0001",
        name="75 kWh EV battery pack", category="battery", category_version=battery.version,
        country_of_production="NL", facility_name="Acme Plant Eindhoven",
        attributes=categories.clean_attributes(
            battery, {item.key: sample_value(item) for item in battery.attributes}))
    passport = passport_request(actor=operator(), product=product)
    if not wait_until(lambda: Passport.objects.get(pk=passport.pk).state == "issued", 60):
        raise SystemExit("the passport was not issued within 60 s")
    return Passport.objects.get(pk=passport.pk)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def post_json(url: str, body: bytes) -> dict:
    request = urllib.request.Request(url, data=body, method="POST",
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - loopback
        return json.loads(response.read())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--concurrency", type=int, default=16)
    args = parser.parse_args()

    env = real_stack(os.environ.get("BENCH_DB", "dpp_bench_verify"))
    env["RATE_LIMIT_VERIFY"] = "100000000/minute"  # counted, never reached by one client
    # A worker's first request imports the URLconf, which takes seconds (jsonschema's format
    # checkers build a grammar): longer than gunicorn's default 30 s on a busy machine.
    env["GUNICORN_CMD_ARGS"] = os.environ.get("GUNICORN_CMD_ARGS", "--timeout 120")
    worker = start_workers(env)
    try:
        passport = issued_passport()
    finally:
        stop(worker)

    body = json.dumps({"credential": passport.jwt}).encode()
    # gunicorn's sync workers close every connection; saying so up front keeps wrk from
    # attempting keep-alive, which costs a POST several milliseconds more than a GET here.
    close = {"Connection": "close"}
    post = {**close, "Content-Type": "application/json"}
    results = {}
    # First as deployed (the verdict of a credential verified again within
    # API_VERDICT_CACHE_SECONDS is reused while its passport keeps its state), with the two
    # comparison endpoints; then with the verdict cache off: every request verifies in full.
    for label, extra in (("verify", {}), ("verify_uncached", {"API_VERDICT_CACHE_SECONDS": "0"})):
        port = free_port()
        server = serve({**env, **extra}, port=port, workers=2)
        try:
            base = f"http://127.0.0.1:{port}"
            verify_url = f"{base}/api/v1/verify/"
            verdict = post_json(verify_url, body)
            if not verdict["verified"]:
                raise SystemExit(f"the passport does not verify: {verdict['errors']}")
            # Warm both workers: a process's first verification loads and compiles schemas.
            load(verify_url, seconds=3, concurrency=4, method="POST", body=body, headers=post)
            results[label] = load(verify_url, seconds=args.seconds,
                                  concurrency=args.concurrency, method="POST", body=body,
                                  headers=post)
            if label == "verify":
                for name, path in (("trivial", "/api/v1/"), ("health", "/health/")):
                    load(base + path, seconds=1, concurrency=4, headers=close)
                    results[name] = load(base + path, seconds=args.seconds,
                                         concurrency=args.concurrency, headers=close)
        finally:
            stop(server)

    print(f"{'endpoint':<16} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7} "
          f"{'non-2xx':>8}   (gunicorn 2 workers, concurrency {args.concurrency}, "
          f"{args.seconds} s each)")
    for name, result in results.items():
        print(f"{name:<16} {result['rps']:>9} {result['p50_ms']:>8} {result['p99_ms']:>8} "
              f"{result['errors']:>7} {result['non_2xx']:>8}")
    verify, trivial, health = results["verify"], results["trivial"], results["health"]
    uncached = results["verify_uncached"]
    ratio = round(verify["rps"] / trivial["rps"], 2) if trivial["rps"] else None
    ratio_health = round(verify["rps"] / health["rps"], 2) if health["rps"] else None
    print(f"ratio verify/trivial: {ratio} (target >= {TARGET_RATIO}), verify/health: "
          f"{ratio_health}; verify p99 {verify['p99_ms']} ms (target <= {TARGET_P99_MS} ms)")
    print(json.dumps({
        "verify_rps": verify["rps"], "trivial_rps": trivial["rps"], "ratio": ratio,
        "verify_p50_ms": verify["p50_ms"], "verify_p99_ms": verify["p99_ms"],
        "trivial_p50_ms": trivial["p50_ms"], "trivial_p99_ms": trivial["p99_ms"],
        "health_rps": health["rps"], "health_p99_ms": health["p99_ms"],
        "ratio_health": ratio_health,
        "uncached_verify_rps": uncached["rps"], "uncached_verify_p99_ms": uncached["p99_ms"],
        "uncached_ratio": round(uncached["rps"] / trivial["rps"], 2) if trivial["rps"] else None,
        "verify_errors": verify["errors"] + verify["non_2xx"] + uncached["errors"]
        + uncached["non_2xx"],
        "trivial_errors": trivial["errors"] + trivial["non_2xx"],
        "concurrency": args.concurrency, "seconds": args.seconds, "workers": 2,
        "meets_target": bool(ratio is not None and ratio >= TARGET_RATIO
                             and verify["p99_ms"] <= TARGET_P99_MS),
    }))


if __name__ == "__main__":
    main()
