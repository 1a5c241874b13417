"""Run every benchmark, one after the other (they share the 2 cores: never in parallel), and
print each one's figures; the last line is one JSON object with all of them.

    make bench        # or: .venv/bin/python bench/run_all.py [--quick]

Needs the local PostgreSQL and Redis, and wrk (apt-get install wrk) for the HTTP benchmarks."""

import argparse
import json
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
BENCHES = {
    "suites": ["suites.py"],
    "issuance": ["issuance.py", "--count", "10000"],
    "resign": ["resign.py", "--count", "10000"],
    "revocation": ["revocation.py"],
    "verify_load": ["verify_load.py"],
    "public_page": ["public_page.py"],
    "faults": ["faults.py"],
    "acapy": ["acapy.py"],
    "backup": ["backup.py", "--count", "2000"],
    "webhooks": ["webhooks.py", "--batch", "500"],
    "evidence": ["evidence.py"],
    "scale": ["scale.py"],
}
QUICK = {"suites": ["--seconds", "0.5"], "issuance": ["--count", "2000"],
         "resign": ["--count", "1000"],
         "verify_load": ["--seconds", "5"], "public_page": ["--seconds", "5"],
         "revocation": ["--load-seconds", "3"],
         "faults": ["--count", "600", "--pending", "200", "--outage-requests", "4"],
         "acapy": ["--seconds", "5", "--rounds", "1", "--credentials", "200"],
         "backup": ["--count", "300"],
         "webhooks": ["--count", "2000"], "evidence": ["--requests", "5"],
         "scale": ["--seconds", "2", "--large", "100000", "--real", "50"]}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="short runs, for a smoke test")
    parser.add_argument("only", nargs="*", help="names of benchmarks to run (default: all)")
    args = parser.parse_args()
    results = {}
    for name, command in BENCHES.items():
        if args.only and name not in args.only:
            continue
        command = command + (QUICK.get(name, []) if args.quick else [])
        if args.quick and name in ("issuance", "resign"):
            command = [command[0], *QUICK[name]]
        print(f"=== {name}: {' '.join(command)}", flush=True)
        run = subprocess.run([sys.executable, str(HERE / command[0]), *command[1:]],
                             capture_output=True, text=True)
        lines = run.stdout.strip().splitlines()
        print("\n".join(lines[-12:]), flush=True)
        try:
            results[name] = json.loads(lines[-1]) if run.returncode == 0 else \
                {"error": run.stderr.strip().splitlines()[-1:]}
        except (IndexError, ValueError):
            results[name] = {"error": "no JSON line", "returncode": run.returncode}
    print_table(results)
    print(json.dumps(results))


def _get(results: dict, bench: str, *path):
    value = results.get(bench, {})
    for key in path:
        value = value.get(key) if isinstance(value, dict) else None
    return value


# The figures of issue #20, in its order: (label, how to read it from the results, target,
# whether it is met). Each reads one benchmark's JSON line; None: not measured in this run.
def table(results: dict) -> list[tuple[str, str, str, bool | None]]:
    v = lambda *path: _get(results, "verify_load", *path)  # noqa: E731
    p = lambda *path: _get(results, "public_page", *path)  # noqa: E731
    s = lambda *path: _get(results, "suites", *path)  # noqa: E731
    i = lambda *path: _get(results, "issuance", *path)  # noqa: E731
    r = lambda *path: _get(results, "revocation", *path)  # noqa: E731
    a = lambda *path: _get(results, "acapy", *path)  # noqa: E731
    k = lambda *path: _get(results, "resign", *path)  # noqa: E731
    g = lambda *path: _get(results, "scale", *path)  # noqa: E731
    w = lambda *path: _get(results, "webhooks", *path)  # noqa: E731
    e = lambda *path: _get(results, "evidence", *path)  # noqa: E731

    def at_least(value, target):
        return None if value is None else value >= target

    def at_most(value, target):
        return None if value is None else value <= target

    def both(*checks):
        return None if None in checks else all(checks)

    rows = [
        ("verify, verdict cache on / trivial",
         f"{v('verify_rps')} / {v('trivial_rps')} req/s = {v('ratio')}, "
         f"p99 {v('verify_p99_ms')} ms",
         "keep (0.66, p99 49 ms)", None),
        ("verify, cache off / trivial",
         f"{v('uncached_verify_rps')} / {v('uncached_trivial_rps')} = {v('uncached_ratio')}, p99 "
         f"{v('uncached_verify_p99_ms')} ms", ">= 0.5, p99 <= 50 ms",
         both(at_least(v("uncached_ratio"), 0.5), at_most(v("uncached_verify_p99_ms"), 50))),
        ("QR page / health",
         f"{p('page_rps')} / {p('health_rps')} = {p('ratio')}, p99 {p('page_p99_ms')} ms",
         ">= 0.7, p99 <= 50 ms",
         both(at_least(p("ratio"), 0.7), at_most(p("page_p99_ms"), 50))),
        ("eddsa-rdfc-2022 sign, engine / plain pyld",
         f"{s('ratio_rdfc_vs_plain_pyld')}", ">= 10",
         at_least(s("ratio_rdfc_vs_plain_pyld"), 10)),
        ("eddsa-jcs-2022 sign", f"{s('jcs_sign_per_s')}/s (JCS alone "
         f"{s('ops_per_s', 'JCS (RFC 8785) of the passport alone')}/s)", ">= 1,000/s",
         at_least(s("jcs_sign_per_s"), 1000)),
        ("vc+jwt sign / raw Ed25519", f"{s('ratio_jwt_vs_raw')}", ">= 0.8",
         at_least(s("ratio_jwt_vs_raw"), 0.8)),
        ("10,000 products CSV -> issued passports, 2 workers",
         f"{i('seconds')} s (import {i('import_seconds')} s), count {i('count')}",
         "<= 10 s (import <= 1 s)",
         both(at_most(i("seconds"), 10), at_most(i("import_seconds"), 1))),
        ("10,000 revocations visible at 1M entries", f"{r('seconds_until_visible')} s",
         "<= 3 s", at_most(r("seconds_until_visible"), 3)),
        (f"{g('passports', 'large') or 1_000_000:,} vs {g('passports', 'small') or 10_000:,} "
         f"passports: page, verify p99, /status/",
         f"x{g('ratio', 'page_p99')}, x{g('ratio', 'verify_p99')}, x{g('ratio', 'status_rps')} "
         f"slower (p99 {g('page_p99_ms', 'large')} / {g('verify_p99_ms', 'large')} ms)",
         "<= 1.2x", at_most(g("worst_ratio"), 1.2)),
        ("re-signing after a key compromise / issuance (#26)",
         f"{k('resigned_per_s')} / {k('issued_per_s')} passports/s = {k('ratio')}, "
         f"{k('verified')} of {k('count')} verify", ">= 1.0",
         both(at_least(k("ratio"), 1.0), k("verified") == k("count") if k("count") else None)),
        ("webhooks: revocation -> delivery p99, 500 per txn",
         f"{w('p99_delay_s')} s, {w('deliveries_per_second')}/s, {w('delivered')} of "
         f"{w('revocations')} delivered", "<= 2 s", at_most(w("p99_delay_s"), 2)),
        ("verdict with 100 linked credentials, warm (cold)",
         f"{e('links_100_warm')} ms ({e('links_100_cold')} ms)", "<= 50 ms warm",
         e("target_met")),
        ("uncached verify vs ACA-Py 1.7.0", acapy_measured(results.get("acapy", {})),
         ">= 4x its fastest path", a("meets_target")),
    ]
    return rows


def acapy_measured(acapy: dict) -> str:
    if acapy.get("available") is False:
        return f"not measured: {acapy.get('reason')}"
    if acapy.get("ratio") is None:
        return f"not measured: {acapy.get('error') or 'no ACA-Py figures'}"
    cpu = acapy.get("server_cpu_ms_per_verify", {})
    return (f"{acapy['ours_rps']} / max(Ed25519Signature2020 {acapy['acapy_ed25519_2020_rps']}, "
            f"eddsa-jcs-2022 {acapy['acapy_eddsa_jcs_rps']}) req/s = {acapy['ratio']}x; CPU "
            f"per verify {cpu.get('ours')} / {cpu.get('acapy_eddsa_jcs')} ms")


def print_table(results: dict) -> None:
    print("\n=== issue #20, every figure from this run")
    print(f"{'figure':<52} {'measured':<58} {'target':<24} met")
    for label, measured, target, met in table(results):
        mark = {True: "yes", False: "NO", None: "-"}[met]
        print(f"{label:<52} {measured:<58} {target:<24} {mark}")


if __name__ == "__main__":
    main()
