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

from _setup import PROXY_HEADERS, ROOT

from deploy.concurrency import web_threads

# Counts, per wrk thread, the answers that are right (status 200 and, when the benchmark names
# one, a marker in the body such as `"verified":true`), and cycles through a file of request
# bodies (one a line) when given one; the summary sums the threads.
WRK_SCRIPT = """
local threads, created = {}, 0
function setup(thread)
  thread:set("thread_number", created)
  created = created + 1
  table.insert(threads, thread)
end

good, bodies, paths, position = 0, nil, nil, 0
function init(args)
  if BODIES ~= nil then
    bodies = {}
    for line in io.lines(BODIES) do table.insert(bodies, line) end
    position = math.floor(thread_number * #bodies / THREADS)
  end
  if PATHS ~= nil then
    paths = {}
    for line in io.lines(PATHS) do table.insert(paths, line) end
    position = math.floor(thread_number * #paths / THREADS)
  end
end

function request()
  if paths ~= nil then
    position = position % #paths + 1
    return wrk.format(nil, paths[position])
  end
  if bodies == nil then return wrk.request() end
  position = position % #bodies + 1
  return wrk.format(nil, nil, nil, bodies[position])
end

function response(status, headers, body)
  if status == 200 and (EXPECT == nil or string.find(body, EXPECT, 1, true)) then
    good = good + 1
  end
end

done = function(summary, latency, requests)
  local correct = 0
  for _, thread in ipairs(threads) do correct = correct + thread:get("good") end
  local quantiles = {}  -- every 0.1 %: runs measured in turns are merged from these
  for step = 1, 1000 do quantiles[step] = string.format("%d", latency:percentile(step / 10)) end
  io.write(string.format('{"requests": %d, "correct": %d, "seconds": %f, "p50_us": %d, '
    .. '"p99_us": %d, "errors": %d, "non2xx": %d, "quantiles_us": [%s]}\\n',
    summary.requests, correct, summary.duration / 1e6, latency:percentile(50),
    latency:percentile(99), summary.errors.connect + summary.errors.read
      + summary.errors.write + summary.errors.timeout, summary.errors.status,
    table.concat(quantiles, ",")))
end
"""


def serve(env: dict, *, port: int = 8799, workers: int = 2, **popen) -> subprocess.Popen:
    """gunicorn with `workers` workers on 127.0.0.1:`port` (each with WEB_THREADS threads, as
    config/gunicorn.py runs them); returns once /health/ answers.
    `popen`: more arguments for subprocess.Popen (e.g. start_new_session)."""
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "config.wsgi:application", "--bind",
         f"127.0.0.1:{port}", "--workers", str(workers), "--threads", str(web_threads()),
         "--log-level", "warning",
         "--no-control-socket"],  # gunicorn 27's default socket path is shared by all
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
         body: bytes | None = None, bodies: list[bytes] | None = None,
         headers: dict | None = None, expect: str | None = None,
         paths: list[str] | None = None) -> dict:
    """Correct answers per second and latency percentiles (ms) of `url` under `concurrency`
    keep-alive connections (as real clients hold them; a server that closes one gets a new
    one). `bodies`: cycled through, one per request; `paths` (of GET requests on `url`'s
    server) likewise. `expect`: a text every correct answer's
    body contains; an answer without it (or not 200) counts as wrong, not as a request/s."""
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is needed: apt-get install wrk")
    threads = 2 if concurrency >= 2 else 1
    script = f"THREADS = {threads}\n" + (f"EXPECT = {json.dumps(expect)}\n" if expect else "")
    if method != "GET" or body or bodies:
        script += (f"wrk.method = {json.dumps(method)}\n"
                   f"wrk.body = {json.dumps((body or b'').decode())}\n")
    for name, value in (PROXY_HEADERS | (headers or {})).items():
        script += f"wrk.headers[{json.dumps(name)}] = {json.dumps(value)}\n"
    with tempfile.TemporaryDirectory() as folder:
        if bodies:
            if any(b"\n" in item for item in bodies):
                raise ValueError("bodies are sent one a line: no newlines inside them")
            (Path(folder) / "bodies").write_bytes(b"\n".join(bodies) + b"\n")
            script += f"BODIES = {json.dumps(str(Path(folder) / 'bodies'))}\n"
        if paths:
            (Path(folder) / "paths").write_text("\n".join(paths) + "\n")
            script += f"PATHS = {json.dumps(str(Path(folder) / 'paths'))}\n"
        (Path(folder) / "load.lua").write_text(script + WRK_SCRIPT)
        result = subprocess.run(
            ["wrk", "-t", str(threads), "-c", str(concurrency), "-d", f"{seconds}s",
             "--timeout", "5s", "-s", str(Path(folder) / "load.lua"), url],
            capture_output=True, text=True, timeout=seconds + 60, check=True)
    report = json.loads(re.findall(r"^\{.*\}$", result.stdout, re.M)[-1])
    return {"rps": round(report["correct"] / report["seconds"], 1),
            "p50_ms": round(report["p50_us"] / 1000, 2),
            "p99_ms": round(report["p99_us"] / 1000, 2),
            "requests": report["requests"], "correct": report["correct"],
            "wrong": report["requests"] - report["correct"], "errors": report["errors"],
            "non_2xx": report["non2xx"], "concurrency": concurrency, "seconds": seconds,
            "quantiles_us": report["quantiles_us"], "duration": report["seconds"]}


def in_turns(plans: dict[str, dict], *, seconds: int, turns: int = 4,
             balanced: bool = False) -> dict[str, dict]:
    """Each plan (a name: load()'s keyword arguments) loaded for seconds/turns at a time, the
    plans in turn, `turns` times over, into one result per plan: on a shared machine a burst of
    someone else's load then falls on every plan alike, and a ratio of two is fair. Requests/s:
    the correct answers over the summed duration; percentiles from the turns' merged latency
    quantiles (each turn's 1,000 weighted by its request count). `balanced`: every other turn
    in the reverse order (A B, B A, ...), so that no plan always goes first after a pause or
    right after another's load."""
    runs = {name: [] for name in plans}
    for turn in range(turns):
        order = list(plans.items())
        if balanced and turn % 2:
            order.reverse()
        for name, plan in order:
            runs[name].append(load(**plan, seconds=max(1, round(seconds / turns))))
    return {name: _merged(results) for name, results in runs.items()}


def _merged(results: list[dict]) -> dict:
    duration = sum(result["duration"] for result in results)
    correct = sum(result["correct"] for result in results)
    weighted = sorted((latency, result["requests"] / 1000) for result in results
                      for latency in result["quantiles_us"])
    total = sum(weight for _, weight in weighted)

    def percentile(share: float) -> float:
        reached = 0.0
        for latency, weight in weighted:
            reached += weight
            if reached >= share * total:
                return round(latency / 1000, 2)
        return round(weighted[-1][0] / 1000, 2) if weighted else 0.0

    summed = {key: sum(result[key] for result in results)
              for key in ("requests", "correct", "wrong", "errors", "non_2xx")}
    return {**summed, "rps": round(correct / duration, 1) if duration else 0.0,
            "p50_ms": percentile(0.50), "p99_ms": percentile(0.99),
            "concurrency": results[0]["concurrency"], "seconds": round(duration, 1),
            "turns": len(results)}
