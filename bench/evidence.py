"""Verdict time of a passport with 1, 10 and 100 linked credentials (chains of evidence,
docs/evidence.md), cold and warm: POST /api/v1/verify/ to gunicorn (2 sync workers,
DJANGO_DEBUG=0) on PostgreSQL and Redis, from one keep-alive client, side by side against two
servers of one database: one as deployed (linked credentials' bytes and verdicts cached for
EVIDENCE_CACHE_SECONDS, warmed by one request first) and one with that cache off
(EVIDENCE_CACHE_SECONDS=0: every link read and verified anew: cold). A passport without links
is the baseline. The links are a lab's conformity credential and cell passports of another
organisation on the same service (read from the database, as the service reads its own).
Only answers whose evidence tree is verified with the expected number of links count.

    .venv/bin/python bench/evidence.py --requests 30

The verify endpoint's rate limit stays on, at a rate one client cannot reach.
Its PostgreSQL database is `BENCH_DB` (default dpp_bench_evidence, dropped and made anew), its
Redis database `BENCH_REDIS` (default db 6, emptied). Target: 100 links warm <= 50 ms.

Last line: one JSON object with the median (and p90) milliseconds per case, the warm/cold
ratio for 100 links and whether the target is met."""

from __future__ import annotations

import argparse
import http.client
import json
import os
import socket
import statistics
import time

os.environ.setdefault("BENCH_REDIS", "redis://127.0.0.1:6379/6")
os.environ["CELERY_TASK_DEFAULT_QUEUE"] = f"bench-evidence-{os.getpid()}"

from _http import serve  # noqa: E402
from _setup import PROXY_HEADERS, real_stack, stop  # noqa: E402

LINKS = (0, 1, 10, 100)
TARGET_WARM_100_MS = 50.0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def fixture() -> dict[int, str]:
    """Passports (compact JWTs) with 0, 1, 10 and 100 links, signed here."""
    from passports.models import Passport
    from passports.services.evidence import evidence_link_add, evidence_request, evidence_sign
    from passports.services.issuance import passport_request, passports_sign
    from tests.support.evidence import carbon_footprint_subject, world
    from tests.support.factories import GTINS
    from tests.support.public import make_product
    from wallet.tenancy.authority import operator

    parties = world()
    cells = [make_product(parties.cells, gtin=GTINS[1], serial=f"CELL-{n:03d}",
                          name="NMC811 cell") for n in range(max(LINKS) - 1)]
    requested = [passport_request(product=cell, actor=operator()) for cell in cells]
    passports_sign([p.pk for p in requested])
    cell_urls = [p.credential_url for p in requested]
    jwts = {}
    for count in LINKS:
        battery = make_product(parties.batteries, serial=f"SN-{count:04d}",
                               name="75 kWh battery pack")
        if count:
            dcc = evidence_request(organisation=parties.lab, kind="conformity",
                                   actor=operator(),
                                   subject=carbon_footprint_subject(battery, parties.batteries))
            evidence_sign([dcc.pk])
            dcc.refresh_from_db()
            for url in [dcc.credential_url, *cell_urls[:count - 1]]:
                evidence_link_add(product=battery, url=url, actor=operator())
        passport = passport_request(product=battery, actor=operator())
        passports_sign([passport.pk])
        jwts[count] = Passport.objects.get(pk=passport.pk).jwt
    return jwts


def timed(port: int, jwt: str, count: int, requests: int) -> tuple[list[float], int]:
    """(milliseconds of each correct answer, wrong answers) over one keep-alive connection."""
    body = json.dumps({"credential": jwt}).encode()
    headers = {"Content-Type": "application/json", **PROXY_HEADERS}
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    times, wrong = [], 0
    try:
        for _ in range(requests):
            start = time.perf_counter()
            connection.request("POST", "/api/v1/verify/", body=body, headers=headers)
            response = connection.getresponse()
            data = response.read()
            elapsed = (time.perf_counter() - start) * 1000
            verdict = json.loads(data) if response.status == 200 else {}
            tree = verdict.get("evidence") or {"verified": True, "count": 0}
            if verdict.get("verified") and tree["verified"] and tree["count"] == count:
                times.append(elapsed)
            else:
                wrong += 1
    finally:
        connection.close()
    return times, wrong


def summary(times: list[float]) -> dict:
    if not times:
        return {"median_ms": None, "p90_ms": None}
    ordered = sorted(times)
    return {"median_ms": round(statistics.median(ordered), 2),
            "p90_ms": round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.9))], 2)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=30, help="timed requests per case")
    args = parser.parse_args()
    env = real_stack(os.environ.get("BENCH_DB", "dpp_bench_evidence"))
    env["RATE_LIMIT_VERIFY"] = "100000000/minute"  # counted, never reached by one client
    jwts = fixture()
    ports = {"warm": free_port(), "cold": free_port()}
    servers = {"warm": serve(env, port=ports["warm"])}
    results: dict = {}
    wrong = 0
    try:
        servers["cold"] = serve({**env, "EVIDENCE_CACHE_SECONDS": "0"}, port=ports["cold"])
        for count in LINKS:
            for mode in ("cold", "warm"):
                # One untimed request per server worker first: imports, connections and, on
                # the warm server, the cache (2 workers: a few so both are warmed).
                timed(ports[mode], jwts[count], count, 4)
                times, bad = timed(ports[mode], jwts[count], count, args.requests)
                wrong += bad
                results[f"links_{count}_{mode}"] = summary(times)
                print(f"{count:>3} links {mode}: {results[f'links_{count}_{mode}']}"
                      f" ({len(times)} correct, {bad} wrong)", flush=True)
    finally:
        for server in servers.values():
            stop(server)
    warm_100 = results["links_100_warm"]["median_ms"]
    cold_100 = results["links_100_cold"]["median_ms"]
    figures = {key: value["median_ms"] for key, value in results.items()}
    figures.update({f"{key}_p90": value["p90_ms"] for key, value in results.items()})
    print(json.dumps({
        **figures, "wrong": wrong, "requests_per_case": args.requests,
        "ratio": round(cold_100 / warm_100, 2) if warm_100 and cold_100 else None,
        "ratio_of": "100 links cold / warm (median)",
        "target": f"100 links warm <= {TARGET_WARM_100_MS} ms",
        "target_met": bool(warm_100 is not None and warm_100 <= TARGET_WARM_100_MS),
    }))


if __name__ == "__main__":
    main()
