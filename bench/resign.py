"""Re-signing after a key compromise (issue #26): issue N battery passports through Redis,
PostgreSQL and 2 worker processes, declare the organisation's key compromised, and measure how
fast the same workers re-sign every passport with the new key, against the issuance rate of the
same run. Every passport's proof is then verified (the vc+jwt suite, its key resolved from the
organisation's DID document as any verifier does); only those that verify under a new key count.
tests/passports/test_key_compromise.py checks the full verdict of every re-signed passport.

    BENCH_DB_PREFIX=dpp_bench_keys_ .venv/bin/python bench/resign.py --count 10000

Last line: one JSON object with count, issued_per_s, resigned_per_s, ratio (re-signing over
issuance) and target (1.0: re-signing at least as fast as issuing)."""

from __future__ import annotations

import argparse
import json
import time

from _setup import real_stack, start_workers, stop, wait_until
from issuance import battery_rows, to_csv


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=10_000)
    args = parser.parse_args()

    env = real_stack("dpp_bench_resign")
    from django.utils import timezone

    from credentials.did_web import DidResolver
    from credentials.suites import get_suite
    from passports.models import Passport, PassportEvent
    from passports.services.bulk_import import products_import
    from passports.services.keys import keys_compromise
    from wallet.tenancy.authority import operator
    from wallet.tenancy.services import organisation_create

    organisation = organisation_create(slug="acme", legal_name="Acme Batteries B.V.")
    data = to_csv(battery_rows(args.count))
    issued = Passport.objects.filter(state=Passport.State.ISSUED)
    resigned = PassportEvent.objects.filter(action="resigned")
    worker = start_workers(env, concurrency=2)
    try:
        started = time.perf_counter()
        products_import(organisation=organisation, data=data, format="csv", issue=True,
                        actor=operator())
        all_issued = wait_until(lambda: issued.count() >= args.count, timeout=900,
                                interval=0.25)
        issue_seconds = time.perf_counter() - started

        started = time.perf_counter()
        outcome = keys_compromise(organisation=organisation, since=timezone.now(),
                                  reason="benchmark: key stolen", actor=operator())
        all_resigned = wait_until(lambda: resigned.count() >= args.count, timeout=900,
                                  interval=0.25)
        resign_seconds = time.perf_counter() - started
    finally:
        stop(worker)

    new_keys, suite, resolver = set(outcome.new_keys), get_suite("vc+jwt"), DidResolver()
    verified = 0
    for jwt in Passport.objects.values_list("jwt", flat=True).iterator():
        result = suite.verify(jwt, resolver)
        verified += result.ok and result.verification_method in new_keys
    count = issued.count()
    issued_rate = count / issue_seconds
    resigned_rate = verified / resign_seconds
    print(f"issued {count} passports in {issue_seconds:.1f} s: {issued_rate:.0f}/s "
          f"(complete: {all_issued})")
    print(f"re-signed {resigned.count()} in {resign_seconds:.1f} s, {verified} verify under the "
          f"new key: {resigned_rate:.0f}/s (complete: {all_resigned})")
    print(json.dumps({"count": count, "issue_seconds": round(issue_seconds, 2),
                      "resign_seconds": round(resign_seconds, 2), "verified": verified,
                      "issued_per_s": round(issued_rate, 1),
                      "resigned_per_s": round(resigned_rate, 1),
                      "ratio": round(resigned_rate / issued_rate, 3), "target": 1.0,
                      "workers": 2}))


if __name__ == "__main__":
    main()
