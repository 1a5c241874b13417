"""The public passport page under load: gunicorn (as many sync workers as production runs here:
deploy/concurrency.py) on PostgreSQL and Redis, the page of one issued passport loaded with wrk
for `--seconds`, next to /health/ in the same run.

    .venv/bin/python bench/public_page.py --seconds 20

The page verifies the passport (cached for a few seconds, see passports/views.py), so this
measures the resolver, the cache and the rendering. The open endpoints' rate limit stays on, at
a rate this one client cannot reach, so its cost is counted. Targets: page p99 <= 50 ms, page
requests/s >= 0.7 x /health/'s (issue #20).

Last line: one JSON object with page_rps, page_p50_ms, page_p99_ms, page_bytes, health_rps,
health_p99_ms, ratio (page/health requests per second) and the target check."""

from __future__ import annotations

import argparse
import json
import os
import socket
import urllib.request

# A Redis database and a queue of its own: other benchmarks may run at the same time, and
# real_stack() empties the Redis database it is given.
os.environ.setdefault("BENCH_REDIS", "redis://127.0.0.1:6379/12")
os.environ["CELERY_TASK_DEFAULT_QUEUE"] = f"bench-public-{os.getpid()}"

from _http import in_turns, load, serve  # noqa: E402
from _setup import PROXY_HEADERS, real_stack, start_workers, stop, wait_until  # noqa: E402

from deploy.concurrency import web_workers  # noqa: E402

TARGET_P99_MS = 50.0
WORKERS = web_workers()  # what config/gunicorn.py starts on this machine
TARGET_RATIO = 0.7  # page requests/s over /health/'s (issue #20)


def issued_passport():
    """One battery product of the demo manufacturer with its passport signed by a worker."""
    from passports.models import Passport, Product
    from passports.services.issuance import passport_request
    from tests.support.factories import battery_attributes
    from wallet.tenancy.services import organisation_create

    organisation = organisation_create(slug="acme", legal_name="Acme Batteries B.V.")
    product = Product.objects.create(
        organisation=organisation, gtin="09506000134352", serial="SN-0001",
        name="75 kWh EV battery pack", category="battery", country_of_production="NL",
        facility_name="Acme Plant Eindhoven",
        attributes=battery_attributes(batteryChemistry="NMC811", ratedCapacity=200,
                                      carbonFootprintPerFunctionalUnit=61.2))
    passport = passport_request(actor=_operator(), product=product)
    if not wait_until(lambda: Passport.objects.get(pk=passport.pk).state == "issued", 60):
        raise SystemExit("the passport was not issued within 60 s")
    return product


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def fetch(url: str, accept: str = "text/html") -> bytes:
    request = urllib.request.Request(url, headers={"Accept": accept, **PROXY_HEADERS})
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - loopback
        assert response.status == 200, response.status
        return response.read()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--turns", type=int, default=4,
                        help="each endpoint's seconds are split into this many turns")
    args = parser.parse_args()

    env = real_stack("dpp_bench_public")
    from django.conf import settings

    env["RATE_LIMIT_PUBLIC"] = "100000000/minute"  # counted, never reached by one client
    # A worker's first request imports the whole URLconf (seconds on a busy machine): do not let
    # gunicorn's default 30 s worker timeout kill it in the middle.
    env["GUNICORN_CMD_ARGS"] = "--timeout 120"
    worker = start_workers(env)
    try:
        product = issued_passport()
    finally:
        stop(worker)

    port = free_port()  # another benchmark may hold the usual one
    server = serve(env, port=port, workers=WORKERS)
    try:
        base = f"http://127.0.0.1:{port}"
        page_url = base + product.digital_link.removeprefix(settings.PUBLIC_BASE_URL)
        page = fetch(page_url)
        assert b"Verified" in page, "the page does not say Verified"
        verified = "Verified"  # every answer counted must say so
        # Warm every worker (the first verification compiles the schemas).
        load(page_url, seconds=2, concurrency=2 * WORKERS, headers={"Accept": "text/html"})
        load(base + "/health/", seconds=1, concurrency=2 * WORKERS)

        # In turns (bench/_http.py): the ratio compares figures of the same moments.
        results = in_turns({
            "page": {"url": page_url, "concurrency": args.concurrency,
                     "headers": {"Accept": "text/html", "Accept-Language": "en"},
                     "expect": verified},
            "health": {"url": base + "/health/", "concurrency": args.concurrency},
        }, seconds=args.seconds, turns=args.turns)
    finally:
        stop(server)

    print(f"{'endpoint':<10} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7} {'non-2xx':>8}")
    for name, result in results.items():
        print(f"{name:<10} {result['rps']:>9} {result['p50_ms']:>8} {result['p99_ms']:>8} "
              f"{result['errors']:>7} {result['non_2xx']:>8}")
    page_result, health = results["page"], results["health"]
    print(json.dumps({
        "page_rps": page_result["rps"], "page_p50_ms": page_result["p50_ms"],
        "page_p99_ms": page_result["p99_ms"], "page_bytes": len(page),
        "page_errors": page_result["errors"] + page_result["non_2xx"],
        "health_rps": health["rps"], "health_p50_ms": health["p50_ms"],
        "health_p99_ms": health["p99_ms"],
        "ratio": round(page_result["rps"] / health["rps"], 2) if health["rps"] else None,
        "target_p99_ms": TARGET_P99_MS, "meets_target": page_result["p99_ms"] <= TARGET_P99_MS,
        "target_ratio": TARGET_RATIO,
        "meets_ratio_target": bool(health["rps"] and page_result["rps"] / health["rps"]
                                   >= TARGET_RATIO),
        "seconds": args.seconds, "turns": args.turns, "concurrency": args.concurrency,
        "workers": WORKERS,
    }))


def _operator():
    """The service operator, imported once Django is set up (real_stack)."""
    from wallet.tenancy.authority import operator

    return operator()


if __name__ == "__main__":
    main()
