"""Faults end to end, on PostgreSQL + Redis + gunicorn + 2 worker processes + beat:

1. 3,000 passports; one worker SIGKILLed (with its pool) mid-batch.
2. 1,000 more; then every process (workers, beat, gunicorn) SIGKILLed while they are pending,
   and everything started again.
3. Redis made unreachable for the web process (a TCP proxy this bench owns sits between
   gunicorn and Redis; the real Redis is never stopped): connections refused, then
   black-holed (accepted, nothing forwarded), while passports are requested through the API.

    BENCH_REDIS=redis://127.0.0.1:6379/<n> .venv/bin/python bench/faults.py

Prints seconds_to_all_issued_after_kill (the slower of the two kills), duplicates, lost,
leaked_status_entries and max_request_seconds_while_broker_down; the last line is one JSON
object. Targets: 0 lost, 0 duplicates, 0 leaked, <= 30 s after a kill, <= 1 s per request."""

from __future__ import annotations

import argparse
import http.client
import json
import os
import select
import signal
import socket
import subprocess
import sys
import threading
import time
from urllib.parse import urlparse

# A Redis database and a queue of its own: another benchmark may run at the same time, and
# real_stack() empties the Redis database it is given.
os.environ.setdefault("BENCH_REDIS", "redis://127.0.0.1:6379/12")
os.environ["CELERY_TASK_DEFAULT_QUEUE"] = f"bench-faults-{os.getpid()}"

from _http import serve  # noqa: E402
from _setup import REDIS, ROOT, real_stack, wait_until  # noqa: E402
from issuance import battery_rows, to_csv  # noqa: E402

KILL_TARGET_SECONDS = 30
REQUEST_TARGET_SECONDS = 1.0
REQUEST_TIMEOUT = 30  # a request still hanging then counts as this long


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Proxy:
    """A TCP proxy on an ephemeral loopback port to `target`: `forward`, `refuse` (close every
    connection at once) or `blackhole` (accept, forward nothing: a dropped network)."""

    def __init__(self, target: tuple[str, int]):
        self.target = target
        self.mode = "forward"
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.pairs: list[tuple[socket.socket, socket.socket]] = []
        self.lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def set(self, mode: str) -> None:
        self.mode = mode
        if mode == "refuse":
            with self.lock:
                for pair in self.pairs:
                    for end in pair:
                        end.close()
                self.pairs.clear()

    def _accept(self) -> None:
        while True:
            client, _ = self.listener.accept()
            if self.mode == "refuse":
                client.close()
                continue
            try:
                upstream = socket.create_connection(self.target)
            except OSError:
                client.close()
                continue
            with self.lock:
                self.pairs.append((client, upstream))
            threading.Thread(target=self._pump, args=(client, upstream), daemon=True).start()

    def _pump(self, client: socket.socket, upstream: socket.socket) -> None:
        ends = {client: upstream, upstream: client}
        try:
            while True:
                if self.mode == "blackhole":  # hold the bytes: nothing arrives, nothing fails
                    time.sleep(0.05)
                    continue
                readable, _, _ = select.select(list(ends), [], [], 0.1)
                for end in readable:
                    data = end.recv(65536)
                    if not data:
                        return
                    ends[end].sendall(data)
        except (OSError, ValueError):  # ValueError: refuse() closed an end under select()
            return
        finally:
            for end in ends:
                end.close()


class Stack:
    """The processes production runs, each in its own process group (SIGKILL takes its pool)."""

    def __init__(self, env: dict, web_env: dict):
        self.env, self.web_env = env, web_env
        self.workers: list[subprocess.Popen] = []
        self.beat = self.web = None
        self.port = free_port()
        self.logs = open(ROOT / "var" / "bench-faults.log", "a")  # noqa: SIM115

    def start(self) -> None:
        self.workers = [self._celery("worker", "--concurrency", "1", "--hostname",
                                     f"bench-faults-{n}@%h", "--without-gossip",
                                     "--without-mingle") for n in (1, 2)]
        self.beat = self._celery("beat", "--schedule",
                                 str(ROOT / "var" / "bench-faults-beat-schedule"))
        self.web = serve(self.web_env, port=self.port, start_new_session=True)

    def _celery(self, *args) -> subprocess.Popen:
        return subprocess.Popen([sys.executable, "-m", "celery", "-A", "config", *args,
                                 "--loglevel", "WARNING"], cwd=ROOT, env=self.env,
                                stdout=self.logs, stderr=self.logs, start_new_session=True)

    @staticmethod
    def kill(process) -> None:
        if process is not None and process.poll() is None:
            try:
                os.killpg(process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            process.wait()

    def kill_all(self) -> None:
        for process in [*self.workers, self.beat, self.web]:
            self.kill(process)


def issued_count(ids) -> int:
    from passports.models import Passport

    return Passport.objects.filter(pk__in=ids).exclude(state=Passport.State.PENDING).count()


def request_passports(products) -> list[str]:
    from passports.services.issuance import passports_request
    from wallet.tenancy.authority import operator

    ids = []
    for start in range(0, len(products), 500):
        ids += [str(p.pk) for p in passports_request(products=products[start:start + 500],
                                                           actor=operator())]
    return ids


def wait_issued(ids, timeout: float) -> bool:
    return wait_until(lambda: issued_count(ids) == len(ids), timeout=timeout, interval=0.2)


def requests_while_broker_down(stack: Stack, key: str, products, mode: str) -> tuple[list, list]:
    """POST a passport request for each of `products` (one keep-alive connection) with the
    broker `mode`; returns (seconds per request, ids of the passports created)."""
    connection = http.client.HTTPConnection("127.0.0.1", stack.port, timeout=REQUEST_TIMEOUT)
    headers = {"Authorization": f"Token {key}", "Content-Type": "application/json"}
    seconds, ids = [], []
    for product in products:
        started = time.perf_counter()
        try:
            connection.request("POST", "/api/v1/passports/",
                               json.dumps({"product": product.pk}), headers)
            response = connection.getresponse()
            body = response.read()
        except OSError as exc:  # a timeout: the request hung on the broker
            print(f"  {mode}: POST failed ({type(exc).__name__})", flush=True)
            connection.close()
            response = None
        seconds.append(time.perf_counter() - started)
        if response is not None and response.status == 202:
            ids.append(json.loads(body)["id"])
        elif response is not None:
            print(f"  {mode}: {response.status} {body[:200]!r}", flush=True)
        # Also a read, which must not need the broker at all.
        started = time.perf_counter()
        try:
            connection.request("GET", f"/api/v1/passports/?product={product.pk}",
                               headers=headers)
            connection.getresponse().read()
        except OSError as exc:
            print(f"  {mode}: GET failed ({type(exc).__name__})", flush=True)
            connection.close()
        seconds.append(time.perf_counter() - started)
    connection.close()
    return seconds, ids


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=3000)
    parser.add_argument("--pending", type=int, default=1000)
    parser.add_argument("--outage-requests", type=int, default=3,
                        help="passport requests per kind of outage (refused, black-holed)")
    args = parser.parse_args()

    redis = urlparse(REDIS)
    env = real_stack("dpp_bench_faults")
    # The processes run as production does; the key-wrapping key is the one this process
    # (DEBUG, for the set-up) made the organisation's keys with.
    from django.conf import settings

    env.update(DJANGO_DEBUG="0", DJANGO_SECURE_SSL_REDIRECT="0",
               DJANGO_SECRET_KEY=os.environ.get("DJANGO_SECRET_KEY", "bench-" + "x" * 60),
               KEY_ENCRYPTION_KEY=settings.KEY_ENCRYPTION_KEY,
               DJANGO_ALLOWED_HOSTS="127.0.0.1,localhost",
               GUNICORN_CMD_ARGS=os.environ.get("GUNICORN_CMD_ARGS", "--timeout 120"))
    proxy = Proxy((redis.hostname, redis.port or 6379))
    proxied = f"redis://127.0.0.1:{proxy.port}{redis.path}"
    web_env = {**env, "CELERY_BROKER_URL": proxied, "CACHE_URL": proxied}

    from passports.models import Passport, PassportEvent, Product
    from passports.services.bulk_import import products_import
    from tests.support.factories import api_key
    from wallet.tenancy.authority import operator
    from wallet.tenancy.services import organisation_create

    organisation = organisation_create(slug="acme", legal_name="Acme Batteries B.V.")
    total = args.count + args.pending + 2 * args.outage_requests
    products = products_import(actor=operator(), organisation=organisation,
                               data=to_csv(battery_rows(total)), format="csv", issue=False)
    products = list(Product.objects.filter(pk__in=[p.pk for p in products]).order_by("pk"))
    batch, pending = products[:args.count], products[args.count:args.count + args.pending]
    outage = products[args.count + args.pending:]
    _token, key = api_key(organisation, ["passports:read", "passports:issue"], name="bench")
    stack = Stack(env, web_env)
    figures: dict = {}
    try:
        stack.start()
        from config.celery import app

        # A control ping (over the broker): production keeps no task results to wait on.
        if not wait_until(lambda: app.control.ping(timeout=1.0), timeout=60):
            raise RuntimeError("no celery worker answered in 60 s")

        # 1. One worker SIGKILLed mid-batch.
        ids = request_passports(batch)
        wait_until(lambda: issued_count(ids) >= len(ids) // 3, timeout=300, interval=0.05)
        stack.kill(stack.workers[0])
        killed_at = time.perf_counter()
        left = len(ids) - issued_count(ids)
        done = wait_issued(ids, timeout=300)
        after_worker_kill = time.perf_counter() - killed_at
        print(f"1. worker killed with {left} of {len(ids)} left; all "
              f"issued {after_worker_kill:.1f} s later (complete: {done})", flush=True)
        all_ids = list(ids)

        # 2. Everything SIGKILLed with passports pending, then started again.
        stack.kill_all()
        stack.start()
        ids = request_passports(pending)
        wait_until(lambda: issued_count(ids) >= 1, timeout=120, interval=0.01)
        left = len(ids) - issued_count(ids)
        stack.kill_all()
        killed_at = time.perf_counter()
        stack.start()
        done = wait_issued(ids, timeout=300)
        after_total_kill = time.perf_counter() - killed_at
        print(f"2. everything killed with {left} pending; all issued {after_total_kill:.1f} s "
              f"later (restart included; complete: {done})", flush=True)
        all_ids += ids

        # 3. The broker unreachable for the web process.
        worst, answered = 0.0, 0
        half = len(outage) // 2
        for mode, chunk in (("refuse", outage[:half]), ("blackhole", outage[half:])):
            proxy.set(mode)
            seconds, created = requests_while_broker_down(stack, key, chunk, mode)
            proxy.set("forward")
            worst = max(worst, *seconds)
            answered += len(created)
            print(f"3. broker {mode}: {len(created)} of {len(chunk)} requests answered 202, "
                  f"slowest request {max(seconds):.2f} s", flush=True)
        # Every passport the requests stored, answered or not, must be issued.
        outage_ids = [str(pk) for pk in Passport.objects.filter(product__in=outage)
                      .values_list("pk", flat=True)]
        done = wait_issued(outage_ids, timeout=180)
        print(f"   passports requested during the outage issued afterwards: {done}", flush=True)
        all_ids += outage_ids

        issued_events = PassportEvent.objects.filter(action="issued", passport__in=all_ids)
        duplicates = issued_events.count() - issued_events.values("passport").distinct().count()
        lost = Passport.objects.filter(pk__in=all_ids).exclude(
            state__in=[Passport.State.ISSUED, Passport.State.SUPERSEDED]).count()
        from credentials.models import StatusList
        from openid4vci.models import CredentialOffer
        from passports.models import IssuedStatusEntry
        from wallet.tenancy.legal_models import WalletCredential

        # Every entry allocated is held by something: the passports, and the credentials the
        # set-up issued (the API key maker's mandate credential, for one).
        allocated = sum(StatusList.objects.values_list("allocated", flat=True))
        held = sum(model.objects.filter(status_list__isnull=False).count()
                   for model in (Passport, WalletCredential, CredentialOffer, IssuedStatusEntry))
        leaked = allocated - held
        figures = {
            "seconds_to_all_issued_after_kill": round(max(after_worker_kill,
                                                          after_total_kill), 1),
            "seconds_after_worker_kill": round(after_worker_kill, 1),
            "seconds_after_everything_killed": round(after_total_kill, 1),
            "duplicates": duplicates, "lost": lost, "leaked_status_entries": leaked,
            "max_request_seconds_while_broker_down": round(worst, 2),
            "requests_unanswered_while_broker_down": len(outage) - answered,
            "passports": len(all_ids), "target_seconds_after_kill": KILL_TARGET_SECONDS,
            "target_request_seconds": REQUEST_TARGET_SECONDS,
        }
    finally:
        stack.kill_all()
    for name, value in figures.items():
        print(f"{name}: {value}")
    print(json.dumps(figures))


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))  # run the clean-up in main()
    main()
