"""`make conformance`: the W3C's own test suites (VC Data Model 2.0, Data Integrity EdDSA,
Bitstring Status List) run against this service's VC-API, offline.

What it does, all on loopback:
1. copies the suites out of ../shared/conformance/w3c (read-only there) into var/conformance and
   installs each from the package registry (`npm install --install-links`, cache in
   var/conformance/npm-cache; skipped when already installed);
2. makes a fresh SQLite database with one organisation and an API key that may issue;
3. starts the service (gunicorn on a unix socket) behind a TLS proxy on an ephemeral loopback
   port, its self-signed certificate trusted through NODE_EXTRA_CA_CERTS (the VCDM 2.0 suite
   only treats `https://` endpoints like registered implementations);
4. writes each suite's localConfig.cjs and runs it with mocha, then prints `N passed, M failed`
   per suite (and the failed tests' titles with --verbose). Exit status 0 when it ran.

Usage: .venv/bin/python scripts/conformance.py [--suite NAME ...] [--verbose]
Exit status: 0 when every failed test is one docs/conformance.md lists (KNOWN_FAILURES), 1
otherwise, so CI notices a regression.
"""

from __future__ import annotations

import argparse
import datetime
import ipaddress
import json
import os
import shutil
import socket
import ssl
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SOURCE = Path(os.environ.get("CONFORMANCE_SOURCE", ROOT.parent / "shared" / "conformance" / "w3c"))
if not SOURCE.exists():  # a worktree under /work/wt/<name>: shared/ is two levels up
    SOURCE = ROOT.parent.parent / "shared" / "conformance" / "w3c"
WORK = ROOT / "var" / "conformance"
LIBRARIES = ["vc-test-suite-implementations", "data-integrity-test-suite-assertion"]
SUITES = {
    "vc-data-model-2.0": ("vc-data-model-2.0-test-suite", ["vc2.0"]),
    "vc-di-eddsa": ("vc-di-eddsa-test-suite", ["eddsa-rdfc-2022", "eddsa-jcs-2022"]),
    "vc-bitstring-status-list": ("vc-bitstring-status-list-test-suite",
                                 ["BitstringStatusList", "Revocation", "Suspension"]),
}
# The tests docs/conformance.md explains (suite defects, deliberate choices): suite -> the start
# of each test's title as the runner reports it.
KNOWN_FAILURES = {
    "vc-data-model-2.0": [
        # suite defect: shouldHaveEnvelopedProof calls `credential.should.exist()`
        "Basic Conformance DPP service A conforming document MUST be secured by at least one",
        "Basic Conformance DPP service A conforming issuer implementation MUST secure the",
        # deliberate: nothing is fetched, so a related resource's digest is not recomputed
        "Advanced Concepts DPP service If the digest provided by the issuer does not match",
    ],
}


def copy_and_install(folders: list[str]) -> None:
    WORK.mkdir(parents=True, exist_ok=True)
    for name in LIBRARIES + folders:
        target = WORK / name
        if not target.exists():
            shutil.copytree(SOURCE / name, target)
            for path in [target, *target.rglob("*")]:
                path.chmod(path.stat().st_mode | 0o200)
    for name in folders:
        if (WORK / name / "node_modules" / ".package-lock.json").exists():
            continue
        print(f"installing {name} (npm) ...", flush=True)
        subprocess.run(["npm", "install", "--install-links", "--omit=dev", "--no-audit",
                        "--no-fund", "--cache", str(WORK / "npm-cache")],
                       cwd=WORK / name, check=True, stdout=subprocess.DEVNULL)


def certificate() -> tuple[Path, Path]:
    """A self-signed certificate for localhost and 127.0.0.1."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    cert_path, key_path = WORK / "tls-cert.pem", WORK / "tls-key.pem"
    if cert_path.exists() and key_path.exists():
        return cert_path, key_path
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=365))
            .add_extension(x509.SubjectAlternativeName([
                x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


class TlsProxy:
    """TLS on an ephemeral loopback port, forwarded byte for byte to a unix socket."""

    def __init__(self, cert: Path, key: Path, upstream: Path):
        self.context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.context.load_cert_chain(cert, key)
        self.upstream = upstream
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]

    def serve(self) -> None:
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            client, _ = self.listener.accept()
            threading.Thread(target=self._connect, args=(client,), daemon=True).start()

    def _connect(self, client: socket.socket) -> None:
        try:
            secure = self.context.wrap_socket(client, server_side=True)
            upstream = socket.socket(socket.AF_UNIX)
            upstream.connect(str(self.upstream))
        except OSError:
            client.close()
            return
        threading.Thread(target=_pipe, args=(upstream, secure), daemon=True).start()
        _pipe(secure, upstream)

def _pipe(source: socket.socket, target: socket.socket) -> None:
    try:
        while data := source.recv(65536):
            target.sendall(data)
    except OSError:
        pass
    finally:
        for end in (source, target):
            try:
                end.close()
            except OSError:
                pass


def prepare_service(env: dict) -> tuple[dict, str]:
    """A fresh database with one organisation; ({"did:web": its DID, "did:key": the did:key of
    its signing key}, an API key that may issue). The suites resolve did:key only."""
    database = WORK / "service.sqlite3"
    database.unlink(missing_ok=True)
    os.environ.update(env)
    subprocess.run([sys.executable, "manage.py", "migrate", "-v", "0"], cwd=ROOT, env=env,
                   check=True)
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from credentials import dids, signing
    from tests.support.factories import api_key, organisation

    org = organisation("conformance", "Conformance Test B.V.")
    _, key = api_key(org)
    signing.ensure_key(org.did)
    did_key = dids.did_key_for(signing.signer_for(org.did).public_key())
    return {"did:web": org.did, "did:key": did_key}, key


def local_config(suite: str, base: str, issuer_ids: dict, token: str,
                 vcdm_cryptosuite: str | None = None) -> str:
    _, tags = SUITES[suite]
    # The VCDM suite never resolves the issuer; the others verify proofs with did:key only.
    issuer_id = issuer_ids["did:web" if suite == "vc-data-model-2.0" else "did:key"]
    auth = {"Authorization": f"Token {token}"}
    issuers = [{"id": issuer_id, "endpoint": f"{base}/credentials/issue", "tags": tags,
                "headers": auth, "supports": {"vc": ["1.1", "2.0"]}}]
    if suite == "vc-di-eddsa":  # one issuer per cryptosuite, chosen through the VC-API options
        issuers = [{**issuers[0], "tags": [tag],
                    "options": {"cryptosuite": tag}} for tag in tags]
    if suite == "vc-data-model-2.0" and vcdm_cryptosuite:  # an embedded proof instead
        issuers[0]["options"] = {"cryptosuite": vcdm_cryptosuite}
    if suite == "vc-bitstring-status-list":
        issuers[0]["options"] = {"cryptosuite": "eddsa-rdfc-2022", "credentialStatus": [
            {"type": "BitstringStatusListEntry", "statusPurpose": purpose}
            for purpose in ("revocation", "suspension")]}
    verifier = {"id": issuer_id, "endpoint": f"{base}/credentials/verify", "tags": tags,
                "supports": {"vc": ["1.1", "2.0"]}}
    implementation = {
        "name": "DPP service", "implementation": "DPP service (this repository)",
        "issuers": issuers, "verifiers": [verifier],
        "vpVerifiers": [{**verifier, "endpoint": f"{base}/presentations/verify"}],
    }
    return ("module.exports = " + json.dumps(
        {"settings": {"enableInteropTests": False, "testAllImplementations": False},
         "implementations": [implementation]}, indent=2) + ";\n")


def run_suite(suite: str, base: str, issuer_ids: dict, token: str, cert: Path,
              vcdm_cryptosuite: str | None = None) -> list[dict]:
    folder = WORK / SUITES[suite][0]
    (folder / "localConfig.cjs").write_text(
        local_config(suite, base, issuer_ids, token, vcdm_cryptosuite))
    results = WORK / f"{suite}.results.jsonl"
    env = {**os.environ, "NODE_EXTRA_CA_CERTS": str(cert), "CONFORMANCE_RESULTS": str(results)}
    mocha = folder / "node_modules" / "mocha" / "bin" / "mocha.js"
    subprocess.run(["node", str(mocha), "tests/", "--timeout", "15000", "--preserve-symlinks",
                    "--reporter", str(ROOT / "scripts" / "conformance_reporter.cjs")],
                   cwd=folder, env=env, stdout=subprocess.DEVNULL,
                   stderr=open(WORK / f"{suite}.log", "w"))  # noqa: SIM115
    if not results.exists():
        raise RuntimeError(f"{suite} did not run: see {WORK / (suite + '.log')}")
    return [json.loads(line) for line in results.read_text().splitlines() if line]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--suite", action="append", choices=sorted(SUITES))
    parser.add_argument("--verbose", action="store_true", help="name every failed test")
    parser.add_argument("--vcdm-cryptosuite", choices=["eddsa-rdfc-2022", "eddsa-jcs-2022"],
                        help="run the VCDM 2.0 suite with this embedded proof, not vc+jwt")
    args = parser.parse_args()
    suites = args.suite or list(SUITES)
    copy_and_install([SUITES[name][0] for name in suites])
    cert, key = certificate()
    sock = WORK / "service.sock"
    sock.unlink(missing_ok=True)
    proxy = TlsProxy(cert, key, sock)
    base = f"https://localhost:{proxy.port}"
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings", "DJANGO_DEBUG": "1",
           "DATABASE_URL": f"sqlite:///{WORK / 'service.sqlite3'}", "PUBLIC_BASE_URL": base,
           "LOG_LEVEL": "WARNING"}
    env.pop("CELERY_BROKER_URL", None)  # embedded: status changes are applied in-process
    issuer_ids, token = prepare_service(env)
    service = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "config.wsgi", "--bind", f"unix:{sock}",
         "--workers", "2", "--log-level", "warning"],
        cwd=ROOT, env=env, stderr=open(WORK / "service.log", "w"))  # noqa: SIM115
    try:
        deadline = time.monotonic() + 60
        while not sock.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        proxy.serve()
        totals, unexpected = {}, []
        for suite in suites:
            # A suite with an unexplained failure runs once more (the suites' HTTP client gives
            # up on a busy 2-core machine now and then); what fails twice fails the run.
            for attempt in ("", " (run again)"):
                results = run_suite(suite, base, issuer_ids, token, cert, args.vcdm_cryptosuite)
                passed = [r for r in results if r["state"] == "passed"]
                failed = [r for r in results if r["state"] == "failed"]
                skipped = [r for r in results if r["state"] == "pending"]
                totals[suite] = (len(passed), len(failed))
                print(f"{suite}{attempt}: {len(passed)} passed, {len(failed)} failed"
                      + (f", {len(skipped)} skipped" if skipped else ""), flush=True)
                new = [result for result in failed if not any(
                    result["title"].startswith(known) for known in KNOWN_FAILURES.get(suite, []))]
                if args.verbose or new:
                    for result in failed:
                        print(f"  FAILED {result['title']}\n         {result['error']}")
                if not new:
                    break
            unexpected += new
    finally:
        service.terminate()
        service.wait(timeout=20)
    print(json.dumps({suite: {"passed": p, "failed": f} for suite, (p, f) in totals.items()}))
    for result in unexpected:
        print(f"UNEXPECTED FAILURE: {result['title']}", file=sys.stderr)
    return 1 if unexpected else 0


if __name__ == "__main__":
    sys.exit(main())
