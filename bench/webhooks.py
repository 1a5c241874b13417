"""Webhooks end to end, on PostgreSQL + Redis + 2 Celery worker processes (DJANGO_DEBUG=0) and a
local HTTPS receiver in a process of its own: 10,000 passport revocations, each told to the
manufacturer's subscribed endpoint; how many deliveries per second arrive, the delay from the
revocation's commit to its delivery's arrival (p50, p99, max), and the CPU time each side spent
per delivery (the workers, the receiver, the revoking process; from /proc), which the load of a
shared machine changes far less than the rates.

    BENCH_REDIS=redis://127.0.0.1:6379/<your db> .venv/bin/python bench/webhooks.py [--batch 1]

Set-up (not timed): an organisation, 10,000 issued passports (bulk_create, placeholder
credentials and no status entries: this measures the webhooks, bench/revocation.py the lists),
one subscription to `passport.revoked` at the receiver (https on 127.0.0.1 with a test CA's
certificate: WEBHOOK_TEST_ALLOWED_ADDRESSES and WEBHOOK_TEST_CA_FILE, as in the tests).

Timed: revocations through `passports_change_status` (what the admin and the API call),
`--batch` passports per transaction (1: one API call each, the default; 500: an admin action on
a page of selections), in this process, as fast as the service takes them; the workers send
while they go. Only deliveries that arrive once, with a signature that verifies (Standard
Webhooks, the receivers' recipe in docs/webhooks.md) and for a revoked passport, count. The
delay of each is its arrival at the receiver minus its Delivery's `committed_at` (stamped by the
after-commit hook). Last line: one JSON object, `p99_delay_s` against `target` 2 s."""

from __future__ import annotations

import argparse
import base64
import json
import multiprocessing
import os
import secrets
import statistics
import tempfile
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from _setup import ROOT, issued_passports, real_stack, start_workers, stop, wait_until

REVOKE = 10_000
TARGET_P99_S = 2.0


def receive(pipe, stop_event, record_path: str, cert: str, key: str) -> None:
    """The receiver (a process of its own): verifies each request as it arrives (the recipe of
    docs/webhooks.md, with the secret it is sent once the subscription exists), answers 204
    (400 to one that does not verify), and writes what arrived to `record_path` when told to
    stop."""
    from standardwebhooks.webhooks import Webhook, WebhookVerificationError

    from tests.support.tls import server_context

    got = []
    webhook = []

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self):  # noqa: N802
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            at = time.time()
            try:
                message = webhook[0].verify(body, self.headers)
            except WebhookVerificationError:
                message = None
            got.append((at, self.headers.get("webhook-id"), message))
            self.send_response(204 if message else 400)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    server.socket = server_context(cert, key).wrap_socket(server.socket, server_side=True)
    server.timeout = 0.2
    pipe.send(server.server_address[1])
    webhook.append(Webhook(pipe.recv()))
    while not stop_event.is_set():
        server.handle_request()
    with open(record_path, "w") as out:
        for at, event_id, message in list(got):
            out.write(json.dumps({"at": at, "id": event_id, "message": message}) + "\n")


def set_up(url: str, count: int):
    from wallet.tenancy.authority import operator
    from wallet.tenancy.services import organisation_create
    from webhooks.services import subscription_create

    organisation = organisation_create(slug="acme", legal_name="Acme Batteries B.V.")
    passports = issued_passports(organisation, "W", count)
    _subscription, secret = subscription_create(
        actor=operator(), organisation=organisation, url=url,
        event_types=["passport.revoked"])
    return passports, secret


def revoke_all(passports: list, batch: int) -> float:
    from passports.services.status import passports_change_status
    from wallet.tenancy.authority import operator

    started = time.perf_counter()
    for start in range(0, len(passports), batch):
        passports_change_status(passports=passports[start:start + batch], action="revoke",
                                reason="recall (benchmark)", actor=operator())
    return time.perf_counter() - started


def cpu_seconds(pid: int) -> float:
    """User and system CPU seconds of process `pid` and its live children (Linux /proc)."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for stat in _stats():
        fields = stat.rsplit(")", 1)[1].split()
        ppid, utime, stime = int(fields[1]), int(fields[11]), int(fields[12])
        if int(stat.split(" ", 1)[0]) == pid or ppid == pid:
            total += (utime + stime) / tick
    return total


def _stats():
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as stat:
                    yield stat.read()
            except OSError:
                continue


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--batch", type=int, default=1,
                        help="passports revoked per transaction (1 = one API call each)")
    parser.add_argument("--count", type=int, default=REVOKE, help="revocations (a trial run)")
    args = parser.parse_args()
    count = args.count

    os.environ["CELERY_TASK_DEFAULT_QUEUE"] = f"bench-webhooks-{os.getpid()}"
    os.environ.setdefault("KEY_ENCRYPTION_KEY",
                          base64.urlsafe_b64encode(secrets.token_bytes(32)).decode())
    import sys

    sys.path.insert(0, str(ROOT))
    from tests.support.tls import loopback_certificate  # Django-free: settings come later

    (ROOT / "var").mkdir(exist_ok=True)
    cert, key = loopback_certificate(ROOT / "var", "bench-webhooks-receiver",
                                     "Benchmark webhook receiver")
    os.environ["WEBHOOK_TEST_ALLOWED_ADDRESSES"] = "127.0.0.1"
    os.environ["WEBHOOK_TEST_CA_FILE"] = cert

    fork = multiprocessing.get_context("fork")  # before Django opens any connection
    pipe, receiver_pipe = fork.Pipe()
    stop_receiver = fork.Event()
    record = tempfile.NamedTemporaryFile(suffix=".jsonl", delete=False).name  # noqa: SIM115
    receiver = fork.Process(target=receive, args=(receiver_pipe, stop_receiver, record, cert, key),
                            daemon=True)
    receiver.start()
    url = f"https://127.0.0.1:{pipe.recv()}/hooks"

    env = real_stack("dpp_bench_webhooks")
    passports, secret = set_up(url, count)
    pipe.send(secret)
    # The workers run as production does: DEBUG off, its secrets set.
    worker_env = {**env, "DJANGO_DEBUG": "0",
                  "DJANGO_SECRET_KEY": secrets.token_urlsafe(64),
                  "PUBLIC_BASE_URL": env.get("PUBLIC_BASE_URL", "http://localhost:8000")}
    worker = start_workers(worker_env, concurrency=2)
    from webhooks.models import Delivery

    try:
        cpu_before = {"workers": cpu_seconds(worker.pid), "receiver": cpu_seconds(receiver.pid),
                      "revoking": time.process_time()}
        started = time.perf_counter()
        revoke_seconds = revoke_all(passports, args.batch)
        cpu_revoking = time.process_time() - cpu_before["revoking"]
        done = wait_until(lambda: not Delivery.objects.filter(state="pending").exists()
                          and Delivery.objects.count() >= count, timeout=600, interval=0.2)
        total_seconds = time.perf_counter() - started
        cpu = {"workers": cpu_seconds(worker.pid) - cpu_before["workers"],
               "receiver": cpu_seconds(receiver.pid) - cpu_before["receiver"],
               "revoking": cpu_revoking}
    finally:
        stop(worker)
        stop_receiver.set()
        receiver.join(30)

    committed = {event_id: at.timestamp() for event_id, at in
                 Delivery.objects.values_list("event_id", "committed_at")}
    revoked = {str(p.pk) for p in passports}
    delays, seen, bad = [], set(), 0
    first_commit = min(committed.values()) if committed else 0.0
    last_arrival = first_commit
    with open(record) as lines:
        for line in lines:
            item = json.loads(line)
            message, event_id = item["message"], item["id"]
            if (message is None or event_id in seen or event_id not in committed
                    or message["data"]["passport"] not in revoked):
                bad += 1
                continue
            seen.add(event_id)
            delays.append(item["at"] - committed[event_id])
            last_arrival = max(last_arrival, item["at"])
    os.unlink(record)
    failed = Delivery.objects.filter(state="failed").count()
    span = max(last_arrival - first_commit, 1e-9)
    rate = len(delays) / span
    p50, p99 = percentile(delays, 0.5), percentile(delays, 0.99)
    print(f"revoked {count:,} passports, {args.batch} per transaction, in "
          f"{revoke_seconds:.2f} s ({count / revoke_seconds:.0f}/s); "
          f"{len(delays):,} signed deliveries verified at the receiver "
          f"({'complete' if done and len(delays) == count else 'INCOMPLETE'}; "
          f"{bad} wrong or duplicate, {failed} failed) in {total_seconds:.2f} s")
    print(f"deliveries: {rate:.0f}/s from the first commit to the last arrival; delay from "
          f"commit to delivery p50 {p50 * 1000:.0f} ms, p99 {p99 * 1000:.0f} ms, "
          f"max {max(delays) * 1000:.0f} ms")
    cpu_ms = {name: round(seconds * 1000 / count, 3) for name, seconds in cpu.items()}
    print("CPU per delivery (ms): " + ", ".join(f"{name} {ms}" for name, ms in cpu_ms.items())
          + f"; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    print(json.dumps({
        "deliveries_per_second": round(rate, 1), "p50_delay_s": round(p50, 3),
        "p99_delay_s": round(p99, 3), "max_delay_s": round(max(delays), 3),
        "target": TARGET_P99_S, "ratio": round(p99 / TARGET_P99_S, 3),
        "delivered": len(delays), "revocations": count, "batch": args.batch,
        "revoke_seconds": round(revoke_seconds, 2),
        "revocations_per_second": round(count / revoke_seconds, 1),
        "wrong_or_duplicate": bad, "failed": failed,
        "complete": bool(done and len(delays) == count),
        "mean_delay_s": round(statistics.fmean(delays), 3),
        "load_average_1m": round(os.getloadavg()[0], 2),
        "cpu_ms_per_delivery": cpu_ms,
        "setup": "10,000 passports bulk_create (issued, placeholder credential, no status "
                 "entry); revocations via passports_change_status; 2 Celery workers "
                 "(DJANGO_DEBUG=0); receiver: https on 127.0.0.1 in its own process",
    }))


if __name__ == "__main__":
    main()
