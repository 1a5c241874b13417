"""Where bulk issuance's CPU goes, in this process (no worker, no queue wait): `count` battery
products imported from the CSV bench/issuance.py writes, then their passports signed chunk by
chunk (`passports_sign`, SIGN_CHUNK each) as a worker would.

    .venv/bin/python bench/profile_issuance.py [--count 2000] [--top 30] [--sort tottime]

Prints, for the import and for signing: ms of CPU per row / per passport in this process and in
its PostgreSQL backend (read from /proc: the database's own work, on the same CPUs), each
step's share of the import, and a CPU-time cProfile of each (not the waits of a busy machine).
Needs PostgreSQL and Redis (BENCH_PG, BENCH_REDIS, BENCH_DB_PREFIX as the other benchmarks)."""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _setup import database_cpu as backend_cpu  # noqa: E402
from _setup import real_stack  # noqa: E402


class Measured:
    """CPU of this process and of its database backend over a block, optionally profiled."""

    def __init__(self, profile: cProfile.Profile | None = None):
        self.profile = profile

    def __enter__(self):
        self.database = backend_cpu()
        self.process = time.process_time()
        if self.profile:
            self.profile.enable()
        return self

    def __exit__(self, *exc):
        if self.profile:
            self.profile.disable()
        self.process = time.process_time() - self.process
        self.database = backend_cpu() - self.database


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=2000)
    parser.add_argument("--top", type=int, default=30)
    parser.add_argument("--sort", default="tottime", help="pstats order: cumulative, ...")
    parser.add_argument("--no-profile", action="store_true", help="CPU figures only")
    args = parser.parse_args()

    real_stack("dpp_bench_profile_issuance")
    from issuance import _operator, battery_rows, to_csv

    from passports.models import Passport
    from passports.services import bulk_import
    from passports.services.issuance import SIGN_CHUNK, passports_sign
    from wallet.tenancy.services import organisation_create

    organisation = organisation_create(slug="acme", legal_name="Acme Batteries B.V.")
    actor = _operator()
    data = to_csv(battery_rows(args.count))
    # Warm: category files read, schemas and suites loaded, one passport signed.
    warm = organisation_create(slug="warm", legal_name="Warm-up B.V.")
    warm_rows = [{**row, "serial": f"WARM{n}"} for n, row in enumerate(battery_rows(3))]
    created = bulk_import.products_import(organisation=warm, data=to_csv(warm_rows),
                                          format="csv", issue=True, actor=actor)
    passports_sign([p.pk for p in Passport.objects.filter(product__in=created)])

    # The import, step by step (the steps products_import runs), then whole.
    steps = {}
    with Measured() as measured:
        rows = bulk_import._read_rows(data, "csv")
    steps["read CSV"] = measured
    with Measured() as measured:
        bulk_import._validate(organisation, rows)
    steps["validate"] = measured
    import_profile = None if args.no_profile else cProfile.Profile(time.process_time)
    with Measured(import_profile) as whole:
        products_import = bulk_import.products_import
        created = products_import(organisation=organisation, data=data, format="csv",
                                  issue=True, actor=actor)
    steps["whole import (incl. both above, store, request)"] = whole
    print(f"\nimport of {args.count} rows: ms of CPU (this process + PostgreSQL backend)")
    for name, step in steps.items():
        print(f"  {name:52s} {step.process * 1000:8.1f} + {step.database * 1000:7.1f}"
              f"   = {(step.process + step.database) * 1e6 / args.count:6.1f} us/row")

    ids = [p.pk for p in Passport.objects.filter(product__in=created).order_by("pk")]
    sign_profile = None if args.no_profile else cProfile.Profile(time.process_time)
    with Measured(sign_profile) as signing:
        for start in range(0, len(ids), SIGN_CHUNK):
            passports_sign(ids[start:start + SIGN_CHUNK])
    issued = Passport.objects.filter(pk__in=ids, state=Passport.State.ISSUED).count()
    print(f"\nsigning {issued} passports in chunks of {SIGN_CHUNK}: "
          f"{signing.process * 1e6 / issued:.0f} + {signing.database * 1e6 / issued:.0f} "
          f"us of CPU per passport (this process + PostgreSQL backend)")
    load = os.getloadavg()
    print(f"load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    for title, profile in (("import", import_profile), ("signing", sign_profile)):
        if profile:
            print(f"\n==== {title}: CPU profile ({args.sort})")
            pstats.Stats(profile).sort_stats(args.sort).print_stats(args.top)


if __name__ == "__main__":
    main()
