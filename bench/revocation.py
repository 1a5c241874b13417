"""Revocation end to end, on PostgreSQL + Redis + 2 Celery worker processes + gunicorn (2 workers):
with 1,000,000 allocated status entries, revoke 10,000 random passports and measure the time
until every revocation is visible in the lists served at /status/<uuid>; then the requests/s
of a cached status-list fetch next to /health/, in the same run.

    .venv/bin/python bench/revocation.py [--batch 500]

Set-up (not timed as part of the result): the 1,000,000 entries are allocated through the
allocation service (`credentials.status_registry.allocate`, 8 lists of 131,072 for one
organisation); only the 10,000 passports to revoke exist as rows, made with bulk_create in the
issued state with a placeholder instead of a signed credential (signing a million credentials
measures issuance, not revocation; the lists themselves are really signed and verified).

Timed: revocations through the service the admin action and the API use
(`passports_change_status`), `--batch` passports per transaction (500: an admin action on a
page of selections; 1: one API call per passport), from the first revocation until every bit is
set in the lists fetched over HTTP from gunicorn.

Last line: one JSON object with seconds_until_visible, status_rps, health_rps and details.
Target (issue #20): every revocation visible within 3 s."""

from __future__ import annotations

import argparse
import json
import os
import random
import socket
import tempfile
import time
import urllib.request

from _http import load, serve
from _setup import PROXY_HEADERS, issued_passports, real_stack, start_workers, stop

ENTRIES = 1_000_000
REVOKE = 10_000
TARGET_SECONDS = 3  # issue #20


# gunicorn settings (through GUNICORN_CMD_ARGS): import the app and every view once in the
# master, before the workers fork, so they answer at once; on a busy machine two workers that
# each import the URLconf on their first request can miss _http.serve's start-up deadline.
GUNICORN_WARM = """
preload_app = True


def when_ready(server):
    from django.db import connections
    from django.urls import get_resolver

    get_resolver().url_patterns
    connections.close_all()  # nothing shared across the fork
"""


def _free_port() -> int:
    """Other benchmarks may serve on _http's default port at the same time."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


PORT = _free_port()


def fetch_list(list_id: str) -> str:
    request = urllib.request.Request(f"http://127.0.0.1:{PORT}/status/{list_id}",
                                     headers=PROXY_HEADERS)
    with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310 - loopback
        return response.read().decode()


def bits_of(jwt: str):
    from credentials.signing import decode_jwt_parts
    from credentials.status_list import Bitstring

    return Bitstring.decode(decode_jwt_parts(jwt)[1]["credentialSubject"]["encodedList"])


def set_up(rng: random.Random) -> tuple[list, dict, float]:
    """1,000,000 allocated entries; 10,000 issued passports on random ones among them."""
    from credentials.status_registry import LIST_SIZE, allocate, status_list_publish
    from wallet.tenancy.services import organisation_create

    organisation = organisation_create(slug="acme", legal_name="Acme Batteries B.V.")
    started = time.perf_counter()
    entries = []
    while len(entries) < ENTRIES:
        entries += allocate(organisation.did, count=min(LIST_SIZE, ENTRIES - len(entries)))
    allocation_seconds = time.perf_counter() - started
    chosen = rng.sample(entries, REVOKE)
    passports = issued_passports(organisation, "R", REVOKE, entries=chosen)
    expected: dict[str, set[int]] = {}
    for status_list, index in chosen:
        expected.setdefault(str(status_list.pk), set()).add(index)
    for list_id in {str(status_list.pk) for status_list, _ in entries}:
        status_list_publish(list_id)  # every list published once before the clock starts
    return passports, expected, allocation_seconds


def revoke_all(passports: list, batch: int) -> float:
    from passports.services.status import passports_change_status

    started = time.perf_counter()
    for start in range(0, len(passports), batch):
        passports_change_status(passports=passports[start:start + batch], action="revoke",
                                reason="recall (benchmark)",
                                actor=_operator())
    return time.perf_counter() - started


def wait_visible(expected: dict[str, set[int]], timeout: float = 120) -> tuple[bool, int]:
    """Poll the served lists until every expected bit is set; (all visible, polls)."""
    pending = dict(expected)
    polls = 0
    deadline = time.monotonic() + timeout
    while pending and time.monotonic() < deadline:
        polls += 1
        for list_id in list(pending):
            bits = bits_of(fetch_list(list_id))
            if all(bits.get(index) for index in pending[list_id]):
                del pending[list_id]
        if pending:
            time.sleep(0.05)
    return not pending, polls


def verify_proofs(list_ids) -> bool:
    from credentials.did_web import DidResolver
    from credentials.status_fetcher import read_status_list
    from credentials.status_registry import status_list_url

    for list_id in list_ids:
        read_status_list(fetch_list(list_id), "bitstring", url=status_list_url(list_id),
                         keys=DidResolver(allow_remote=False))
    return True


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--batch", type=int, default=500,
                        help="passports revoked per transaction (1 = one API call each)")
    parser.add_argument("--load-seconds", type=int, default=10)
    args = parser.parse_args()

    # A queue of our own: other benchmarks may run workers on the same Redis at the same time.
    os.environ["CELERY_TASK_DEFAULT_QUEUE"] = f"bench-revocation-{os.getpid()}"
    env = real_stack("dpp_bench_revocation")
    rng = random.Random(5)
    passports, expected, allocation_seconds = set_up(rng)
    from credentials.models import StatusList

    lists = StatusList.objects.count()
    allocated = sum(StatusList.objects.values_list("allocated", flat=True))
    signatures_before = sum(StatusList.objects.values_list("published_version", flat=True))
    with tempfile.NamedTemporaryFile("w", suffix=".py", delete=False) as config:
        config.write(GUNICORN_WARM)
    try:
        server = serve({**env, "GUNICORN_CMD_ARGS": f"--config {config.name}"}, port=PORT)
    finally:
        os.unlink(config.name)
    worker = None
    try:
        worker = start_workers(env, concurrency=2)
        started = time.perf_counter()
        revoke_seconds = revoke_all(passports, args.batch)
        visible, polls = wait_visible(expected)
        seconds_until_visible = time.perf_counter() - started
        proofs = verify_proofs(expected)
        signatures = (sum(StatusList.objects.values_list("published_version", flat=True))
                      - signatures_before)
        some_list = next(iter(expected))
        status = load(f"http://127.0.0.1:{PORT}/status/{some_list}",
                      seconds=args.load_seconds, concurrency=16)
        health = load(f"http://127.0.0.1:{PORT}/health/", seconds=args.load_seconds,
                      concurrency=16)
    finally:
        stop(server)
        if worker is not None:
            stop(worker)

    print(f"set-up: {allocated:,} entries allocated in {lists} lists in "
          f"{allocation_seconds:.1f} s (allocation service); {REVOKE:,} issued passports on "
          f"random entries (bulk_create, placeholder credentials)")
    print(f"revoked {REVOKE:,} passports in batches of {args.batch} in {revoke_seconds:.2f} s; "
          f"all visible in the served lists after {seconds_until_visible:.2f} s "
          f"({'complete' if visible else 'INCOMPLETE'}; {signatures} list signatures, "
          f"proofs verified: {proofs})")
    print(f"cached /status/ fetch: {status['rps']:.0f} req/s (p99 {status['p99_ms']} ms); "
          f"/health/: {health['rps']:.0f} req/s (p99 {health['p99_ms']} ms)")
    print(json.dumps({
        "seconds_until_visible": round(seconds_until_visible, 2),
        "status_rps": status["rps"], "health_rps": health["rps"],
        "status_to_health": round(status["rps"] / health["rps"], 2),
        "revoked": REVOKE, "batch": args.batch, "revoke_seconds": round(revoke_seconds, 2),
        "lag_after_last_revocation_s": round(seconds_until_visible - revoke_seconds, 2),
        "load_average_1m": round(os.getloadavg()[0], 2),  # other work on the same cores
        "allocated_entries": allocated, "lists": lists, "complete": visible,
        "list_signatures": signatures, "proofs_verified": proofs, "polls": polls,
        "target_seconds": TARGET_SECONDS,
        "meets_target": visible and seconds_until_visible <= TARGET_SECONDS,
        "status_errors": status["errors"] + status["non_2xx"],
        "health_errors": health["errors"] + health["non_2xx"],
        "setup": "1,000,000 entries via status_registry.allocate; 10,000 passports bulk_create "
                 "(issued, placeholder credential); revocations via passports_change_status",
    }))


def _operator():
    """The service operator, imported once Django is set up (real_stack)."""
    from wallet.tenancy.authority import operator

    return operator()


if __name__ == "__main__":
    main()
