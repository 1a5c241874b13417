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
    "revocation": ["revocation.py"],
    "verify_load": ["verify_load.py"],
    "public_page": ["public_page.py"],
    "faults": ["faults.py"],
}
QUICK = {"suites": ["--seconds", "0.5"], "issuance": ["--count", "2000"],
         "verify_load": ["--seconds", "5"], "public_page": ["--seconds", "5"],
         "revocation": ["--load-seconds", "3"],
         "faults": ["--count", "600", "--pending", "200", "--outage-requests", "4"]}


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
        if args.quick and name == "issuance":
            command = ["issuance.py", "--count", "2000"]
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
    print(json.dumps(results))


if __name__ == "__main__":
    main()
