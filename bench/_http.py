"""HTTP benchmarks: serve the app with gunicorn and load it with wrk (Debian package `wrk`)
from a separate process, on loopback only, for a bounded time."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from _setup import ROOT

WRK_REPORT = """
done = function(summary, latency, requests)
  io.write(string.format('{"requests": %d, "seconds": %f, "p50_us": %d, "p99_us": %d, '
    .. '"errors": %d, "non2xx": %d}\\n',
    summary.requests, summary.duration / 1e6, latency:percentile(50), latency:percentile(99),
    summary.errors.connect + summary.errors.read + summary.errors.write
      + summary.errors.timeout, summary.errors.status))
end
"""


def serve(env: dict, *, port: int = 8799, workers: int = 2, **popen) -> subprocess.Popen:
    """gunicorn with `workers` sync workers on 127.0.0.1:`port`; returns once /health/ answers.
    `popen`: more arguments for subprocess.Popen (e.g. start_new_session)."""
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "config.wsgi:application", "--bind",
         f"127.0.0.1:{port}", "--workers", str(workers), "--log-level", "warning"],
        cwd=ROOT, env={**env, "LOG_LEVEL": "WARNING"}, stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL, **popen)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/health/", timeout=2)  # noqa: S310
            return process
        except OSError:
            time.sleep(0.2)
    process.kill()
    raise RuntimeError("gunicorn did not start")


def load(url: str, *, seconds: int = 20, concurrency: int = 16, method: str = "GET",
         body: bytes | None = None, headers: dict | None = None) -> dict:
    """requests/s and latency percentiles (ms) of `url` under `concurrency` connections."""
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is needed: apt-get install wrk")
    script = WRK_REPORT
    if method != "GET" or body:
        script = (f"wrk.method = {json.dumps(method)}\n"
                  f"wrk.body = {json.dumps((body or b'').decode())}\n") + script
    for name, value in (headers or {}).items():
        script = f"wrk.headers[{json.dumps(name)}] = {json.dumps(value)}\n" + script
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as handle:
        handle.write(script)
    threads = 2 if concurrency >= 2 else 1
    result = subprocess.run(
        ["wrk", "-t", str(threads), "-c", str(concurrency), "-d", f"{seconds}s",
         "--timeout", "5s", "-s", handle.name, url],
        capture_output=True, text=True, timeout=seconds + 60, check=True)
    Path(handle.name).unlink()
    report = json.loads(re.findall(r"^\{.*\}$", result.stdout, re.M)[-1])
    return {"rps": round(report["requests"] / report["seconds"], 1),
            "p50_ms": round(report["p50_us"] / 1000, 2),
            "p99_ms": round(report["p99_us"] / 1000, 2),
            "requests": report["requests"], "errors": report["errors"],
            "non_2xx": report["non2xx"], "concurrency": concurrency, "seconds": seconds}
