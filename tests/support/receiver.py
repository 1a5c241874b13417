"""A real local webhook receiver: HTTPS on 127.0.0.1 (an ephemeral port) with a certificate of
a test CA, recording every request (headers, body, when it arrived) and answering with the
status it is told to (200 by default). With a `gate` (a threading.Event) it holds each answer
until the gate opens: a slow endpoint, or one that is mid-request when its sender dies.
`down_url()` names a port nobody listens on.

`tls_files()` makes the certificate once per test session under var/test-receiver/; the test
Celery worker trusts it through WEBHOOK_TEST_CA_FILE, and reaches 127.0.0.1 through
WEBHOOK_TEST_ALLOWED_ADDRESSES (`WORKER_ENV`, given to the worker by tests/conftest.py)."""

from __future__ import annotations

import socket
import threading
import time
from dataclasses import dataclass, field
from functools import cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from tests.support.environment import ROOT
from tests.support.tls import LOOPBACK, loopback_certificate, server_context

RETRY_SCHEDULE = "1,2"  # the test worker's: two retries, 1 s then 2 s after the tries before


@cache
def tls_files() -> tuple[str, str]:
    """(certificate, key): a self-signed certificate for 127.0.0.1 that is its own CA."""
    directory = ROOT / "var" / "test-receiver"
    directory.mkdir(parents=True, exist_ok=True)
    return loopback_certificate(directory, "receiver", "Test webhook receiver")


def worker_env() -> dict[str, str]:
    return {"WEBHOOK_TEST_ALLOWED_ADDRESSES": LOOPBACK, "WEBHOOK_TEST_CA_FILE": tls_files()[0],
            "WEBHOOK_RETRY_SCHEDULE": RETRY_SCHEDULE}


def allow_loopback(settings) -> None:
    """The test-only allowance in this process (eager tasks), as the test worker has it."""
    settings.WEBHOOK_TEST_ALLOWED_ADDRESSES = [LOOPBACK]
    settings.WEBHOOK_TEST_CA_FILE = tls_files()[0]
    settings.WEBHOOK_RETRY_SCHEDULE = [float(v) for v in RETRY_SCHEDULE.split(",")]


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    at: float = field(default_factory=time.time)


class Receiver:
    def __init__(self):
        self.requests: list[Received] = []
        self.status = 200
        self.gate: threading.Event | None = None
        self.arrived = threading.Condition()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as real receivers
            wbufsize = 64 * 1024  # the answer's head and body in one write (no Nagle wait)

            def do_POST(self):  # noqa: N802 - http.server's name
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                with receiver.arrived:
                    receiver.requests.append(Received(self.path, dict(self.headers), body))
                    receiver.arrived.notify_all()
                if receiver.gate is not None:
                    receiver.gate.wait(60)
                self.send_response(receiver.status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer((LOOPBACK, 0), Handler)
        self.server.daemon_threads = True
        self.server.socket = server_context(*tls_files()).wrap_socket(self.server.socket,
                                                                       server_side=True)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"https://{LOOPBACK}:{self.port}/hooks"

    def wait_for(self, count: int, timeout: float = 30.0) -> list[Received]:
        """The requests, once there are `count` (a generous bound against hangs only)."""
        with self.arrived:
            self.arrived.wait_for(lambda: len(self.requests) >= count, timeout)
        return list(self.requests)

    def stop(self) -> None:
        if self.gate is not None:
            self.gate.set()
        self.server.shutdown()
        self.server.server_close()


def down_url() -> str:
    """An https URL on 127.0.0.1 where nothing listens (the port was just freed)."""
    with socket.create_server((LOOPBACK, 0)) as sock:
        port = sock.getsockname()[1]
    return f"https://{LOOPBACK}:{port}/hooks"
