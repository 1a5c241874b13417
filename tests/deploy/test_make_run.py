"""`PORT=<port> make run`: the demo's DIDs, QR codes and links name the address the development
server listens on, and so does every URL it prints. Runs the real make target (development
server on a fresh SQLite database in a temporary VAR_DIR) on a free port."""

import base64
import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from passports.views import QR_DEFAULT_MM, qr_print
from tests.deploy.http import free_port, get
from tests.support.environment import ROOT

BATTERY = "/01/09506000134352/21/ACME-BAT-0001"


def _get(port: int, path: str, accept: str = "*/*") -> tuple[int, bytes]:
    status, _, body = get(port, path, host=f"localhost:{port}", Accept=accept)
    return status, body


@pytest.fixture
def make_run(tmp_path):
    port = free_port()
    env = {k: v for k, v in os.environ.items()
           if k not in ("DATABASE_URL", "CELERY_BROKER_URL", "CACHE_URL", "PUBLIC_BASE_URL",
                        "DJANGO_DEBUG", "MAKEFLAGS", "MAKELEVEL")}
    env["VAR_DIR"] = str(tmp_path)
    log = open(tmp_path / "make-run.log", "w+")  # noqa: SIM115 - closed below
    # This interpreter's environment, taken as installed (no pip run from the test).
    process = subprocess.Popen(
        ["make", "--no-print-directory", "-o", ".venv/.installed",
         f"BIN={Path(sys.executable).parent}", "run", f"PORT={port}"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 240
        while True:
            if process.poll() is not None:
                log.seek(0)
                pytest.fail(f"make run exited ({process.returncode}):\n{log.read()}")
            try:
                if _get(port, "/health/")[0] == 200:
                    break
            except OSError:
                if time.monotonic() > deadline:
                    pytest.fail("make run did not serve in 240 s")
                time.sleep(0.5)
        log.seek(0)
        yield port, log.read()
    finally:
        os.killpg(process.pid, signal.SIGTERM)  # make, runserver and its reloader child
        process.wait(timeout=30)
        log.close()


def test_port_sets_the_address_in_dids_qr_codes_links_and_printed_urls(make_run):
    port, output = make_run
    origin = f"http://localhost:{port}"

    # What `make run` prints before the development server's own banner.
    ours = output.split("Demo data ready")[1].split("QR page:")
    printed = re.findall(r"https?://[^\s)]+", ours[0] + ours[1].splitlines()[0])
    assert len(printed) >= 7  # three passports' links, admin, health, API docs, QR page
    assert all(url.startswith(origin + "/") for url in printed), printed

    status, jwt = _get(port, BATTERY, accept="application/vc+jwt")
    assert status == 200
    payload = json.loads(base64.urlsafe_b64decode(jwt.split(b".")[1] + b"==="))
    issuer = payload["issuer"]["id"] if isinstance(payload["issuer"], dict) else payload["issuer"]
    assert issuer == f"did:web:localhost%3A{port}:orgs:acme"
    status, did_document = _get(port, "/orgs/acme/did.json")
    assert json.loads(did_document)["id"] == issuer

    status, svg = _get(port, "/qr" + BATTERY + "?format=svg")
    assert status == 200
    assert svg == qr_print(origin + BATTERY, "svg", QR_DEFAULT_MM)
    assert svg != qr_print("http://localhost:8000" + BATTERY, "svg", QR_DEFAULT_MM)

    status, linkset = _get(port, BATTERY + "?linkType=linkset")
    assert status == 200
    targets = re.findall(r'"href":\s*"([^"]+)"', linkset.decode())
    assert targets and all(t.startswith((origin + "/", "did:web:localhost%3A" + str(port)))
                           for t in targets), targets
