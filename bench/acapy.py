"""Uncached verify against ACA-Py 1.7.0 (another implementation, from PyPI) on the same machine,
in the same run, alternating: our POST /api/v1/verify/ (gunicorn with `--workers` sync workers,
by default as many as production starts here: deploy/concurrency.py; DJANGO_DEBUG=0,
PostgreSQL and Redis, the verdict cache off) on
`--credentials` distinct battery passports issued by a Celery worker (as bench/verify_load.py),
and ACA-Py's verify endpoints on `--credentials` distinct credentials ACA-Py itself signed, each
the passport of tests/vectors/acapy-1.7.0/ (UNTP-shaped claims) with its own id and serial, in
both its proofs:

- Ed25519Signature2020 (its default; JSON-LD, URDNA2015): POST /vc/credentials/verify, signed
  by POST /vc/credentials/issue;
- DataIntegrityProof eddsa-jcs-2022 (its fastest path): POST /vc/di/verify, signed by
  POST /vc/di/add-proof.

Each target is loaded by wrk (bench/_http.py) with `--concurrency` keep-alive connections for
`--seconds`, every request a different credential (cycled), `--rounds` times in a rotating
order so that the machine's noise falls on all of them; only answers that say verified count
(ours `"verified":true`, ACA-Py's top-level `"verified": true`; a wrong proof is a 400 or
`"verified": false` there). Figures are the median of the rounds. Also in the same run: our
endpoint verifying ACA-Py's eddsa-jcs-2022 credentials (the same bytes on both sides); each
server's CPU per verified answer over each load, HTTP handling included, read from /proc (ACA-Py
is one asyncio process, as it runs: one core at most, its SQLite wallet inside; ours is
gunicorn's master and workers plus the PostgreSQL backends of their connections; Redis, shared,
is not counted); and each side's CPU per verify in a single-process loop with no HTTP (ours:
the API's verifier, as bench/profile_verify.py times it; ACA-Py: set up as `aca-py start` sets
it up, calling what its two endpoints call). Our passport is a vc+jwt of about 7 KB (the
service's full UNTP passport, base64url), ACA-Py's a 3.3 KB JSON credential.

On a busy shared machine the servers get unequal shares of the CPU, and requests/s follow the
share more than the cost: the table's `cores` column (the server's CPU per second of load) shows
the share each got; ours also waits on PostgreSQL and Redis, which serve every other process too.
The CPU per verify is the steadier figure there.

    .venv/bin/python bench/acapy.py --seconds 20 --concurrency 16 --rounds 3

ACA-Py needs Python >= 3.13: `ACAPY_PYTHON`, else python3.13 (or newer) on PATH, else pyenv's.
It is installed once (`pip install acapy-agent==1.7.0`) into a venv in `DPP_BENCH_CACHE`
(default ~/.cache/dpp-bench)/acapy-1.7.0, outside the repository, and reused; it runs with an
admin API on loopback, no ledger, no transport, an Askar (SQLite) wallet in a temporary HOME,
an Ed25519 did:key made for the run. When ACA-Py cannot be had (no such Python, no network),
the last line says so (`"available": false`, `"reason"`) and the exit status is 0.

Its PostgreSQL database is `BENCH_DB` (default dpp_bench_acapy, after BENCH_DB_PREFIX; dropped
and made anew), its Redis database `BENCH_REDIS` (default db 11, emptied).

Target (issue #20): our uncached verify requests/s >= 4 x ACA-Py's fastest path. Last line: one
JSON object with ours_rps, acapy_ed25519_2020_rps, acapy_eddsa_jcs_rps, ratio, target,
meets_target, p99s, CPU per verify, each round's figures, wrong answers."""

from __future__ import annotations

import argparse
import copy
import glob
import json
import os
import secrets
import shutil
import socket
import statistics
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path

# A Redis database and a queue of its own: another benchmark may run at the same time, and
# real_stack() empties the Redis database it is given.
os.environ.setdefault("BENCH_REDIS", "redis://127.0.0.1:6379/11")
os.environ["CELERY_TASK_DEFAULT_QUEUE"] = f"bench-acapy-{os.getpid()}"

from _http import load, serve  # noqa: E402
from _setup import PROXY_HEADERS, ROOT, real_stack, start_workers, stop  # noqa: E402

from deploy.concurrency import web_workers  # noqa: E402

ACAPY_VERSION = "1.7.0"
TARGET_RATIO = 4.0
LOOP_CREDENTIALS = 300  # verified one after the other in one process, for its CPU per verify
CACHE = Path(os.environ.get("DPP_BENCH_CACHE", Path.home() / ".cache" / "dpp-bench"))
VENV = CACHE / f"acapy-{ACAPY_VERSION}"
INSTALLED = VENV / "installed"  # written once pip has finished: a half-made venv is made anew
# The passport ACA-Py signed for tests/vectors (UNTP-shaped claims under an inline @vocab:
# ACA-Py fetches no context it does not bundle); its proof is dropped and it is signed anew.
PASSPORT = ROOT / "tests" / "vectors" / "acapy-1.7.0" / "eddsa-jcs-2022-v2-passport.json"
ED25519_2020_CONTEXT = "https://w3id.org/security/suites/ed25519-2020/v1"

OURS_VERIFIED = '"verified":true'  # our API answers compact JSON
# ACA-Py's answers, at the top level (nested results may say verified of a part).
ACAPY_LD_VERIFIED = '{"verified": true, "document"'
ACAPY_DI_VERIFIED = '{"verificationResults": {"verified": true'


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def post_json(url: str, body: dict | bytes, timeout: float = 60) -> dict:
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method="POST",
                                     headers={"Content-Type": "application/json",
                                              **PROXY_HEADERS})
    with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 - loopback
        return json.loads(response.read())


# --- ACA-Py: found, installed once, started ---------------------------------------------------

def acapy_python() -> str | None:
    """A Python ACA-Py 1.7.0 runs on (>= 3.13), or None."""
    candidates = [os.environ.get("ACAPY_PYTHON"), shutil.which("python3.13"),
                  shutil.which("python3.14"),
                  *sorted(glob.glob(str(Path.home() / ".pyenv/versions/3.1[3-9]*/bin/python3")))]
    for candidate in filter(None, candidates):
        try:
            probe = subprocess.run([candidate, "-c", "import sys, venv, ssl, sqlite3; "
                                    "print(sys.version_info >= (3, 13))"],
                                   capture_output=True, text=True, timeout=60)
        except (subprocess.SubprocessError, OSError):
            continue  # e.g. an ACAPY_PYTHON that is not there
        if probe.returncode == 0 and probe.stdout.strip() == "True":
            return candidate
    return None


def acapy_install() -> tuple[Path | None, str]:
    """The venv's python with ACA-Py installed (made on the first run), or None and why not."""
    python = VENV / "bin" / "python"
    if INSTALLED.exists() and python.exists():
        return python, f"reused {VENV}"
    base = acapy_python()
    if base is None:
        return None, ("no Python >= 3.13 found (ACA-Py 1.7.0 requires it): set ACAPY_PYTHON, "
                      "or install python3.13")
    shutil.rmtree(VENV, ignore_errors=True)
    CACHE.mkdir(parents=True, exist_ok=True)
    print(f"installing acapy-agent=={ACAPY_VERSION} into {VENV} (once)", flush=True)
    try:
        subprocess.run([base, "-m", "venv", str(VENV)], check=True, capture_output=True,
                       timeout=300)
        pip = subprocess.run([str(python), "-m", "pip", "install", "--quiet",
                              f"acapy-agent=={ACAPY_VERSION}"],
                             capture_output=True, text=True, timeout=900)
    except (subprocess.SubprocessError, OSError) as error:
        shutil.rmtree(VENV, ignore_errors=True)
        return None, f"could not make the venv: {error}"
    if pip.returncode != 0:
        shutil.rmtree(VENV, ignore_errors=True)
        tail = (pip.stderr or pip.stdout).strip().splitlines()[-1:] or ["no output"]
        return None, f"pip install acapy-agent=={ACAPY_VERSION} failed: {tail[0]}"
    INSTALLED.write_text(f"acapy-agent=={ACAPY_VERSION} with {base}\n")
    return python, f"installed into {VENV}"


def acapy_arguments(wallet: str) -> list[str]:
    """`aca-py start`'s options here: no ledger, no transport, an Askar wallet `wallet` (SQLite,
    under HOME), made on first use."""
    return ["--no-ledger", "--no-transport", "--wallet-type", "askar", "--wallet-name", wallet,
            "--wallet-key", secrets.token_urlsafe(24), "--auto-provision", "--log-level",
            "warning"]


def acapy_start(python: Path, home: str) -> tuple[subprocess.Popen, str]:
    """ACA-Py with an admin API on loopback (no ledger, no transport, an Askar wallet under
    `home`); returns the process and the admin API's base URL once it is ready."""
    port = free_port()
    agent = subprocess.Popen(
        [str(python), "-m", "acapy_agent", "start", "--admin", "127.0.0.1", str(port),
         "--admin-insecure-mode", *acapy_arguments("bench")],
        env={**os.environ, "HOME": home}, stdout=open(Path(home) / "agent.log", "w"),  # noqa: SIM115
        stderr=subprocess.STDOUT, start_new_session=True)
    admin = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if agent.poll() is not None:
            raise RuntimeError("ACA-Py stopped: " + (Path(home) / "agent.log").read_text()[-600:])
        try:
            urllib.request.urlopen(admin + "/status/ready", timeout=2)  # noqa: S310 - loopback
            return agent, admin
        except OSError:
            time.sleep(0.5)
    stop(agent)
    raise RuntimeError("ACA-Py did not answer /status/ready in 120 s")


def acapy_credentials(admin: str, count: int) -> dict[str, list[dict]]:
    """`count` distinct passports (their own id and serial) signed by ACA-Py with a new Ed25519
    did:key, in each of its two proofs."""
    did = post_json(admin + "/wallet/did/create",
                    {"method": "key", "options": {"key_type": "ed25519"}})["result"]["did"]
    method = f"{did}#{did.removeprefix('did:key:')}"
    passport = json.loads(PASSPORT.read_text())
    passport.pop("proof")
    signed: dict[str, list[dict]] = {"ed25519_2020": [], "eddsa_jcs": []}
    for number in range(count):
        document = copy.deepcopy(passport)
        document["issuer"] = did
        document["id"] = f"urn:uuid:{secrets.token_hex(4)}-0000-4000-8000-{number:012d}"
        document["credentialSubject"]["id"] = (
            f"https://id.gs1.org/01/09506000134352/21/ACME-BAT-{number:07d}")
        linked = {**document, "@context": [document["@context"][0], ED25519_2020_CONTEXT,
                                           *document["@context"][1:]]}
        signed["ed25519_2020"].append(post_json(admin + "/vc/credentials/issue", {
            "credential": linked, "options": {"proofType": "Ed25519Signature2020"}},
        )["verifiableCredential"])
        signed["eddsa_jcs"].append(post_json(admin + "/vc/di/add-proof", {
            "document": document,
            "options": {"type": "DataIntegrityProof", "cryptosuite": "eddsa-jcs-2022",
                        "proofPurpose": "assertionMethod", "verificationMethod": method}},
        )["securedDocument"])
    return signed


# --- CPU of a server's processes, from /proc ---------------------------------------------------

TICKS = os.sysconf("SC_CLK_TCK")


def _stat(pid: int) -> list[str] | None:
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return text[text.rindex(")") + 2:].split()  # after "pid (comm) "; fields from state on


def processes(root: int) -> set[int]:
    """Process `root` and its children (gunicorn's workers)."""
    found = {root}
    for entry in os.listdir("/proc"):
        if entry.isdigit() and (fields := _stat(int(entry))) and int(fields[1]) == root:
            found.add(int(entry))  # fields[1]: the parent's pid
    return found


def database_backends() -> set[int]:
    """The PostgreSQL backends serving this benchmark's database (gunicorn's persistent
    connections), but this process's own: their CPU is part of our verify's; ACA-Py's wallet
    (SQLite) runs inside its own process."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                       "AND pid <> pg_backend_pid()")
        return {pid for (pid,) in cursor.fetchall()}


def cpu_seconds(pids: set[int]) -> dict[int, float]:
    """User + system CPU of each process so far."""
    spent = {}
    for pid in pids:
        if fields := _stat(pid):
            spent[pid] = (int(fields[11]) + int(fields[12])) / TICKS  # utime, stime
    return spent


def measured(url: str, server_pids, **options) -> dict:
    """One wrk load (bench/_http.py) and the server's CPU per correct answer over it; a process
    that appeared during the load (`server_pids()` afterwards) counts all its CPU."""
    before = cpu_seconds(server_pids())
    result = load(url, method="POST", headers={"Content-Type": "application/json"}, **options)
    after = cpu_seconds(server_pids())
    spent = sum(seconds - before.get(pid, 0.0) for pid, seconds in after.items())
    result["server_cpu_ms_per_verify"] = (
        round(spent * 1000 / result["correct"], 2) if result["correct"] else None)
    return result


def ours_cpu_loop(credentials: list) -> float:
    """ms of CPU per uncached verify by our API's verifier in this process (no HTTP): the first
    credential warms it (schemas compiled, contexts loaded), the others are timed."""
    from passports.api.verifying import verify_json

    verdict = json.loads(verify_json(credentials[0]))
    if not verdict["verified"]:
        raise SystemExit(f"our verifier rejects the credential: {verdict['errors']}")
    start = time.process_time()
    for credential in credentials[1:]:
        verify_json(credential)
    return round((time.process_time() - start) * 1000 / (len(credentials) - 1), 2)


# Run by ACA-Py's own Python: the agent set up as `aca-py start` sets it up (same arguments, no
# admin server), then each credential verified by what its two verify endpoints call, timed in
# CPU; the first of each kind warms it. Prints one JSON line.
ACAPY_LOOP = """
import asyncio, json, sys, time
from acapy_agent.commands.start import init_argument_parser
from acapy_agent.config import argparse
from acapy_agent.config.default_context import DefaultContextBuilder
from acapy_agent.core.conductor import Conductor
from acapy_agent.vc.data_integrity.manager import DataIntegrityManager
from acapy_agent.vc.vc_ld.manager import VcLdpManager
from acapy_agent.vc.vc_ld.models.credential import VerifiableCredential

async def main(path, argv):
    parser = argparse.create_argument_parser(prog="aca-py")
    settings = init_argument_parser(parser)(parser.parse_args(argv))
    conductor = Conductor(DefaultContextBuilder(settings))
    await conductor.setup()
    profile = conductor.root_profile

    async def linked_data(credential):  # POST /vc/credentials/verify
        credential = VerifiableCredential.deserialize(credential)
        return (await VcLdpManager(profile).verify_credential(credential)).verified

    async def data_integrity(document):  # POST /vc/di/verify
        async with profile.session() as session:
            return (await DataIntegrityManager(session).verify_proof(document)).verified

    signed, figures = json.loads(open(path).read()), {}
    for name, verify in (("ed25519_2020", linked_data), ("eddsa_jcs", data_integrity)):
        first, *timed = signed[name]
        if not await verify(first):
            raise SystemExit(name + ": the first credential does not verify")
        start = time.process_time()
        verified = sum([bool(await verify(credential)) for credential in timed])
        figures[name] = {"ms": round((time.process_time() - start) * 1000 / len(timed), 2),
                         "verified": verified, "of": len(timed)}
    print(json.dumps(figures))

asyncio.run(main(sys.argv[1], sys.argv[2:]))
"""


def acapy_cpu_loop(python: Path, home: str, signed: dict[str, list[dict]]) -> dict:
    """ms of CPU per verify in ACA-Py's own process (no HTTP), per proof; {} if it failed."""
    path = Path(home) / "signed.json"
    path.write_text(json.dumps(signed))
    run = subprocess.run(
        [str(python), "-c", ACAPY_LOOP, str(path), *acapy_arguments("loop")],
        env={**os.environ, "HOME": home}, capture_output=True, text=True, timeout=900)
    lines = run.stdout.strip().splitlines()
    if run.returncode != 0 or not lines:
        print(f"ACA-Py's single-process loop failed: {run.stderr.strip()[-400:]}")
        return {}
    figures = json.loads(lines[-1])
    if any(item["verified"] != item["of"] for item in figures.values()):
        print(f"ACA-Py's single-process loop: not every credential verified: {figures}")
        return {}
    return {name: item["ms"] for name, item in figures.items()}


def unavailable(reason: str, args) -> None:
    print(f"ACA-Py {ACAPY_VERSION} is not available, nothing compared: {reason}")
    print(json.dumps({"available": False, "reason": reason, "acapy_version": ACAPY_VERSION,
                      "target": TARGET_RATIO, "ratio": None, "meets_target": None,
                      "concurrency": args.concurrency, "seconds": args.seconds}))


def compare(args, env: dict, python: Path, home: str, tokens: list[str]):
    """ACA-Py started, its credentials signed, gunicorn started; the alternating rounds of
    loads, then each side's CPU per verify in one process. None if ACA-Py would not start."""
    agent = server = None
    try:
        try:
            agent, admin = acapy_start(python, home)
        except RuntimeError as error:
            unavailable(str(error), args)
            return None
        started = time.monotonic()
        signed = acapy_credentials(admin, args.credentials)
        signing_seconds = time.monotonic() - started
        port = free_port()
        server = serve(env, port=port, workers=args.workers, start_new_session=True)
        ours_url = f"http://127.0.0.1:{port}/api/v1/verify/"
        ours_pids = lambda: processes(server.pid) | database_backends()  # noqa: E731
        acapy_pids = lambda: {agent.pid}  # noqa: E731
        targets = {
            "ours": (ours_url, ours_pids, OURS_VERIFIED,
                     [json.dumps({"credential": token}).encode() for token in tokens]),
            "acapy_ed25519_2020": (admin + "/vc/credentials/verify", acapy_pids,
                                   ACAPY_LD_VERIFIED,
                                   [json.dumps({"verifiableCredential": vc}).encode()
                                    for vc in signed["ed25519_2020"]]),
            "acapy_eddsa_jcs": (admin + "/vc/di/verify", acapy_pids, ACAPY_DI_VERIFIED,
                                [json.dumps({"securedDocument": doc}).encode()
                                 for doc in signed["eddsa_jcs"]]),
            # The same bytes as ACA-Py's fastest path, on our endpoint.
            "ours_on_acapy_eddsa_jcs": (ours_url, ours_pids, OURS_VERIFIED,
                                        [json.dumps({"credential": doc}).encode()
                                         for doc in signed["eddsa_jcs"]]),
        }
        for name, (url, _, expect, bodies) in targets.items():
            answer = json.dumps(post_json(url, bodies[0]), separators=(",", ":"))
            if expect.replace(" ", "") not in answer:
                raise SystemExit(f"{name}: the first credential does not verify: {answer[:400]}")
            # Warm: a process's first verifications load and compile schemas and contexts.
            load(url, seconds=3, concurrency=4, method="POST", expect=expect, bodies=bodies,
                 headers={"Content-Type": "application/json"})

        rounds = []
        names = list(targets)
        for number in range(args.rounds):
            order = names[number % len(names):] + names[:number % len(names)]
            figures = {}
            for name in order:
                url, pids, expect, bodies = targets[name]
                figures[name] = measured(url, pids, seconds=args.seconds,
                                         concurrency=args.concurrency, expect=expect,
                                         bodies=bodies)
            rounds.append(figures)
            print(f"round {number + 1}: " + ", ".join(
                f"{name} {figures[name]['rps']} req/s" for name in names), flush=True)
    finally:
        for process in (server, agent):
            if process is not None:
                stop(process)
    # CPU in a single-process loop (no HTTP), after the loads: each side alone on the machine.
    loop = LOOP_CREDENTIALS
    cpu_loop = {"ours": ours_cpu_loop(tokens[:loop]),
                "ours_on_acapy_eddsa_jcs": ours_cpu_loop(signed["eddsa_jcs"][:loop]),
                **{f"acapy_{name}": ms for name, ms in acapy_cpu_loop(
                    python, home, {name: items[:loop] for name, items in signed.items()},
                ).items()}}
    return rounds, signed, signing_seconds, cpu_loop


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=int, default=20, help="of each load")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=3, help="alternating loads of each")
    parser.add_argument("--credentials", type=int, default=500,
                        help="distinct credentials each load cycles through")
    parser.add_argument("--workers", type=int, default=web_workers(),
                        help="gunicorn sync workers (default: what production starts here, "
                             "deploy/concurrency.py)")
    args = parser.parse_args()
    if args.rounds < 1 or args.credentials < 2:
        parser.error("at least one round and two credentials")
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is needed: apt-get install wrk")

    python, how = acapy_install()
    if python is None:
        unavailable(how, args)
        return
    print(f"ACA-Py {ACAPY_VERSION}: {how}", flush=True)

    os.environ["API_VERDICT_CACHE_SECONDS"] = "0"  # uncached: here and in gunicorn
    env = real_stack(os.environ.get("BENCH_DB", "dpp_bench_acapy"))
    env["RATE_LIMIT_VERIFY"] = "100000000/minute"  # counted, never reached by one client
    env["GUNICORN_CMD_ARGS"] = os.environ.get("GUNICORN_CMD_ARGS", "--timeout 120")
    from passports_fixture import issued_passports

    worker = start_workers(env)
    try:
        tokens = issued_passports(args.credentials)
    finally:
        stop(worker)

    home = tempfile.mkdtemp(prefix="dpp-bench-acapy-")
    try:
        compared = compare(args, env, python, home, tokens)
    finally:
        shutil.rmtree(home, ignore_errors=True)
    if compared is None:
        return
    rounds, signed, signing_seconds, cpu_loop = compared
    names = list(rounds[0])

    def median(name: str, key: str):
        values = [figures[name][key] for figures in rounds if figures[name][key] is not None]
        return round(statistics.median(values), 2) if values else None

    # cores: the server's CPU per second of load. Far below what the server could use, on a
    # busy machine, means its requests waited (for the CPU, or for PostgreSQL and Redis).
    print(f"\n{'target':<26} {'ok req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'CPU ms':>7} "
          f"{'cores':>6} {'wrong':>6}   (median of {args.rounds} rounds; concurrency "
          f"{args.concurrency}, {args.seconds} s each; {args.credentials} distinct credentials "
          f"each; CPU ms: the server's per verified answer)")
    summary = {}
    for name in names:
        summary[name] = {key: median(name, key) for key in
                         ("rps", "p50_ms", "p99_ms", "server_cpu_ms_per_verify")}
        wrong = sum(figures[name]["wrong"] for figures in rounds)
        summary[name]["wrong"] = wrong
        cpu_ms = summary[name]["server_cpu_ms_per_verify"]
        summary[name]["cores"] = round(summary[name]["rps"] * cpu_ms / 1000, 2) if cpu_ms else None
        print(f"{name:<26} {summary[name]['rps']:>9} {summary[name]['p50_ms']:>8} "
              f"{summary[name]['p99_ms']:>8} {cpu_ms!s:>7} {summary[name]['cores']!s:>6} "
              f"{wrong:>6}")
    ours = summary["ours"]["rps"]
    fastest = max(summary["acapy_ed25519_2020"]["rps"], summary["acapy_eddsa_jcs"]["rps"])
    ratio = round(ours / fastest, 2) if fastest else None
    ratio_2020 = (round(ours / summary["acapy_ed25519_2020"]["rps"], 2)
                  if summary["acapy_ed25519_2020"]["rps"] else None)
    ratio_jcs = (round(ours / summary["acapy_eddsa_jcs"]["rps"], 2)
                 if summary["acapy_eddsa_jcs"]["rps"] else None)
    cpu = {name: summary[name]["server_cpu_ms_per_verify"] for name in names}
    # CPU per verify is what the machine's noise moves least: the same ratio, in CPU.
    cheapest = min(filter(None, (cpu["acapy_ed25519_2020"], cpu["acapy_eddsa_jcs"])), default=None)
    cpu_ratio = round(cheapest / cpu["ours"], 2) if cheapest and cpu["ours"] else None
    print("CPU per verify in one process, no HTTP (ms): " + ", ".join(
        f"{name} {cpu_loop.get(name)}" for name in names))
    print(f"server CPU per verified answer, HTTP included: ACA-Py's cheapest / ours = {cpu_ratio}")
    print(f"ratio ours / ACA-Py's fastest path: {ratio} (target >= {TARGET_RATIO}); / "
          f"Ed25519Signature2020 {ratio_2020}, / eddsa-jcs-2022 {ratio_jcs}")
    print(json.dumps({
        "available": True, "acapy_version": ACAPY_VERSION,
        "ours_rps": ours, "ours_p99_ms": summary["ours"]["p99_ms"],
        "acapy_ed25519_2020_rps": summary["acapy_ed25519_2020"]["rps"],
        "acapy_ed25519_2020_p99_ms": summary["acapy_ed25519_2020"]["p99_ms"],
        "acapy_eddsa_jcs_rps": summary["acapy_eddsa_jcs"]["rps"],
        "acapy_eddsa_jcs_p99_ms": summary["acapy_eddsa_jcs"]["p99_ms"],
        "ours_on_acapy_eddsa_jcs_rps": summary["ours_on_acapy_eddsa_jcs"]["rps"],
        "ours_on_acapy_eddsa_jcs_p99_ms": summary["ours_on_acapy_eddsa_jcs"]["p99_ms"],
        "ratio": ratio, "ratio_ed25519_2020": ratio_2020, "ratio_eddsa_jcs": ratio_jcs,
        "target": TARGET_RATIO, "meets_target": bool(ratio is not None and ratio >= TARGET_RATIO),
        "server_cpu_ms_per_verify": cpu, "cpu_ratio": cpu_ratio,
        "server_cores": {name: summary[name]["cores"] for name in names},
        "cpu_ms_per_verify_in_process": {name: cpu_loop.get(name) for name in names},
        "wrong": {name: summary[name]["wrong"] for name in names},
        "rounds": [{name: {key: figures[name][key] for key in
                           ("rps", "p99_ms", "server_cpu_ms_per_verify", "wrong", "errors")}
                    for name in names} for figures in rounds],
        "credentials": args.credentials, "acapy_signing_seconds": round(signing_seconds, 1),
        "passport_bytes": {"ours_vc_jwt": round(statistics.mean(len(t) for t in tokens)),
                           "acapy_eddsa_jcs": round(statistics.mean(
                               len(json.dumps(d)) for d in signed["eddsa_jcs"]))},
        "concurrency": args.concurrency, "seconds": args.seconds, "rounds_run": args.rounds,
        "ours_workers": args.workers, "acapy_processes": 1,
    }))


if __name__ == "__main__":
    main()
