"""POST /api/v1/verify/ under load: gunicorn (as many sync workers as production runs here:
deploy/concurrency.py, 2 x CPUs + 1 unless WEB_CONCURRENCY says; DJANGO_DEBUG=0) on PostgreSQL
and Redis, `--passports` distinct passports issued by a Celery worker, verified by wrk from a
separate process for `--seconds` over keep-alive connections; once with the verdict cache as
deployed (the same credential again and again), next to the API root (no database: the trivial
endpoint) and /health/ (one database and one Redis round trip, the other benchmarks' baseline);
then with the cache off and every request a different passport (cycled: what a partner
verifying a batch costs), next to the API root again. The endpoints of each server are loaded
in `--turns` turns (bench/_http.py in_turns), so each ratio compares figures of the same
moments: the machine is shared. Only answers that say `"verified":true` count as verify
requests/s.

    .venv/bin/python bench/verify_load.py --seconds 20 --concurrency 16

Its PostgreSQL database is `BENCH_DB` (default dpp_bench_verify, dropped and made anew), its
Redis database `BENCH_REDIS` (default db 13, emptied).

The verify endpoint's rate limit stays on (counted in Redis), at a rate one client cannot
reach, so its cost is in the numbers. Targets: cached verify requests/s >= 0.5 x the trivial
endpoint's with p99 <= 50 ms (kept), uncached the same (issue #20).

Last line: one JSON object with verify_rps, trivial_rps, ratio (verify/trivial), verify_p50_ms,
verify_p99_ms, trivial_p50_ms, trivial_p99_ms, health_rps, ratio_health, uncached_verify_rps,
uncached_verify_p99_ms, uncached_ratio (against uncached_trivial_rps, the trivial endpoint
measured in turns with it), wrong answers, concurrency, seconds and whether the
targets are met."""

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

from _http import in_turns, load, serve  # noqa: E402
from _setup import PROXY_HEADERS, real_stack, start_workers, stop  # noqa: E402
from passports_fixture import issued_passports  # noqa: E402

from deploy.concurrency import web_workers  # noqa: E402

TARGET_RATIO = 0.5
TARGET_P99_MS = 50.0
WORKERS = web_workers()  # what config/gunicorn.py starts on this machine


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def post_json(url: str, body: bytes) -> dict:
    request = urllib.request.Request(url, data=body, method="POST",
                                     headers={"Content-Type": "application/json",
                                              **PROXY_HEADERS})
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - loopback
        return json.loads(response.read())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--passports", type=int, default=1000,
                        help="distinct passports the uncached run cycles through")
    parser.add_argument("--turns", type=int, default=4,
                        help="each endpoint's seconds are split into this many turns")
    args = parser.parse_args()

    env = real_stack(os.environ.get("BENCH_DB", "dpp_bench_verify"))
    env["RATE_LIMIT_VERIFY"] = "100000000/minute"  # counted, never reached by one client
    # A worker's first request imports the URLconf, which takes seconds: longer than
    # gunicorn's default 30 s on a busy machine.
    env["GUNICORN_CMD_ARGS"] = os.environ.get("GUNICORN_CMD_ARGS", "--timeout 120")
    worker = start_workers(env)
    try:
        tokens = issued_passports(args.passports)
    finally:
        stop(worker)

    bodies = [json.dumps({"credential": token}).encode() for token in tokens]
    post = {"Content-Type": "application/json"}
    verified = '"verified":true'  # the compact JSON the API answers with
    results = {}
    # First as deployed (the verdict of a credential verified again within
    # API_VERDICT_CACHE_SECONDS is reused while its passport keeps its state), with the two
    # comparison endpoints; then with the verdict cache off and a different passport each time,
    # with the trivial endpoint again. Each server's endpoints are loaded in turns (in_turns),
    # so a ratio compares figures of the same moments of a shared machine.
    for label, extra in (("verify", {}), ("verify_uncached", {"API_VERDICT_CACHE_SECONDS": "0"})):
        port = free_port()
        server = serve({**env, **extra}, port=port, workers=WORKERS)
        try:
            base = f"http://127.0.0.1:{port}"
            verify_url = f"{base}/api/v1/verify/"
            verdict = post_json(verify_url, bodies[0])
            if not verdict["verified"]:
                raise SystemExit(f"the passport does not verify: {verdict['errors']}")
            send = {"body": bodies[0]} if label == "verify" else {"bodies": bodies}
            verify_plan = {"url": verify_url, "concurrency": args.concurrency, "method": "POST",
                           "headers": post, "expect": verified, **send}
            trivial_plan = {"url": base + "/api/v1/", "concurrency": args.concurrency}
            # Warm every worker: a process's first verification loads and compiles schemas.
            load(**{**verify_plan, "concurrency": 2 * WORKERS}, seconds=3)
            load(**{**trivial_plan, "concurrency": 2 * WORKERS}, seconds=1)
            if label == "verify":
                plans = {"verify": verify_plan, "trivial": trivial_plan,
                         "health": {"url": base + "/health/", "concurrency": args.concurrency}}
            else:
                plans = {"verify_uncached": verify_plan, "trivial_uncached_run": trivial_plan}
            results.update(in_turns(plans, seconds=args.seconds, turns=args.turns))
        finally:
            stop(server)

    print(f"{'endpoint':<16} {'ok req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'wrong':>7} "
          f"{'errors':>7}   (gunicorn {WORKERS} sync workers, DEBUG off, keep-alive, concurrency "
          f"{args.concurrency}, {args.seconds} s each in {args.turns} turns; uncached: "
          f"{len(bodies)} passports)")
    for name, result in results.items():
        print(f"{name:<16} {result['rps']:>9} {result['p50_ms']:>8} {result['p99_ms']:>8} "
              f"{result['wrong']:>7} {result['errors']:>7}")
    verify, trivial, health = results["verify"], results["trivial"], results["health"]
    uncached, trivial_beside = results["verify_uncached"], results["trivial_uncached_run"]
    ratio = round(verify["rps"] / trivial["rps"], 2) if trivial["rps"] else None
    ratio_health = round(verify["rps"] / health["rps"], 2) if health["rps"] else None
    uncached_ratio = (round(uncached["rps"] / trivial_beside["rps"], 2) if trivial_beside["rps"]
                      else None)
    print(f"ratio verify/trivial: {ratio}, verify p99 {verify['p99_ms']} ms; uncached "
          f"verify/trivial: {uncached_ratio} (target >= {TARGET_RATIO}), uncached p99 "
          f"{uncached['p99_ms']} ms (target <= {TARGET_P99_MS} ms)")
    print(json.dumps({
        "verify_rps": verify["rps"], "trivial_rps": trivial["rps"], "ratio": ratio,
        "verify_p50_ms": verify["p50_ms"], "verify_p99_ms": verify["p99_ms"],
        "trivial_p50_ms": trivial["p50_ms"], "trivial_p99_ms": trivial["p99_ms"],
        "health_rps": health["rps"], "health_p99_ms": health["p99_ms"],
        "ratio_health": ratio_health,
        "uncached_verify_rps": uncached["rps"], "uncached_verify_p50_ms": uncached["p50_ms"],
        "uncached_verify_p99_ms": uncached["p99_ms"], "uncached_ratio": uncached_ratio,
        "uncached_trivial_rps": trivial_beside["rps"],
        "uncached_passports": len(bodies),
        "verify_wrong": verify["wrong"] + uncached["wrong"],
        "trivial_wrong": trivial["wrong"] + health["wrong"] + trivial_beside["wrong"],
        "concurrency": args.concurrency, "seconds": args.seconds, "turns": args.turns,
        "workers": WORKERS,
        "target_ratio": TARGET_RATIO, "target_p99_ms": TARGET_P99_MS,
        "meets_target": bool(ratio is not None and ratio >= TARGET_RATIO
                             and verify["p99_ms"] <= TARGET_P99_MS),
        "uncached_meets_target": bool(uncached_ratio is not None
                                      and uncached_ratio >= TARGET_RATIO
                                      and uncached["p99_ms"] <= TARGET_P99_MS),
    }))


if __name__ == "__main__":
    main()
