"""Make the peer test vectors in tests/vectors/acapy-1.7.0/ with ACA-Py (another
implementation, from PyPI), once; they are committed, ACA-Py is not.

    ~/.pyenv/versions/3.13.0/bin/python -m venv var/acapy/venv
    var/acapy/venv/bin/pip install acapy-agent==1.7.0
    .venv/bin/python scripts/peer_vectors_acapy.py var/acapy/venv/bin/aca-py

Starts ACA-Py on loopback (no ledger, an Askar wallet under var/acapy/), makes an Ed25519
did:key and has ACA-Py secure each credential of CREDENTIALS with each proof it offers:
Ed25519Signature2018, Ed25519Signature2020 (its default) through /vc/credentials/issue and a
DataIntegrityProof eddsa-jcs-2022 through /vc/di/add-proof. Writes one JSON file per result."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "tests" / "vectors" / "acapy-1.7.0"
WORK = ROOT / "var" / "acapy"
V1 = "https://www.w3.org/2018/credentials/v1"
V2 = "https://www.w3.org/ns/credentials/v2"
ED25519_2020 = "https://w3id.org/security/suites/ed25519-2020/v1"


def free_port() -> int:
    with socket.create_server(("127.0.0.1", 0)) as server:
        return server.getsockname()[1]


def call(admin: str, path: str, body: dict | None = None) -> dict:
    request = urllib.request.Request(  # noqa: S310 - the agent's admin API on loopback
        admin + path, data=None if body is None else json.dumps(body).encode(),
        headers={"Content-Type": "application/json"}, method="GET" if body is None else "POST")
    with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310 - loopback
        return json.loads(response.read())


def passport(issuer: str, context: list[str]) -> dict:
    """A product passport of about 3.6 KB: UNTP-shaped claims under an inline vocabulary
    (ACA-Py fetches no context it does not bundle, and its copy of the VCDM 2.0 context has no
    issuer-dependent @vocab)."""
    materials = [{"name": f"Material {n}", "originCountry": "NL", "massFraction": 0.05,
                  "recycledMassFraction": 0.25, "hazardous": False,
                  "symbol": f"https://example.com/materials/{n}"} for n in range(12)]
    return {
        "@context": [*context, {"@vocab": "https://example.com/passport-vocab#"}],
        "type": ["VerifiableCredential", "ProductPassportCredential"],
        "id": "urn:uuid:0c1a8f54-7fd4-4a5e-9a2b-3d1f0e6c9b11", "issuer": issuer,
        "validFrom": "2026-01-01T00:00:00Z",
        "credentialSubject": {
            "id": "https://id.gs1.org/01/09506000134352/21/ACME-BAT-0001",
            "type": "ProductPassport", "name": "Acme traction battery 48V",
            "description": "Lithium-ion traction battery for light electric vehicles.",
            "productCategory": "battery", "batchNumber": "LOT-2026-01",
            "producedAtFacility": "https://example.com/facilities/eindhoven-1",
            "manufacturer": {"id": "https://example.com/orgs/acme", "name": "Acme B.V."},
            "dimensions": {"weight": {"value": 12.5, "unit": "KGM"},
                           "length": {"value": 40, "unit": "CMT"}},
            "materialsProvenance": materials,
            "conformityClaim": [{"id": "https://example.com/claims/1",
                                 "conformance": True, "referenceStandard": "EN 62660-1"}],
        },
    }


def small(issuer: str, context: list[str]) -> dict:
    credential = {"@context": context, "type": ["VerifiableCredential"],
                  "id": "urn:uuid:5b8f7e0c-2c2e-4d7b-8d9e-1f2a3b4c5d6e", "issuer": issuer,
                  "credentialSubject": {"id": "did:example:subject"}}
    if context[0] == V1:
        credential["issuanceDate"] = "2026-01-01T00:00:00Z"
    else:
        credential["validFrom"] = "2026-01-01T00:00:00Z"
    return credential


def main() -> int:
    aca_py = sys.argv[1] if len(sys.argv) > 1 else str(WORK / "venv" / "bin" / "aca-py")
    WORK.mkdir(parents=True, exist_ok=True)
    OUT.mkdir(parents=True, exist_ok=True)
    inbound, admin_port = free_port(), free_port()
    admin = f"http://127.0.0.1:{admin_port}"
    env = {**os.environ, "HOME": str(WORK / "home")}
    agent = subprocess.Popen(
        [aca_py, "start", "--inbound-transport", "http", "127.0.0.1", str(inbound),
         "--outbound-transport", "http", "--endpoint", f"http://127.0.0.1:{inbound}",
         "--admin", "127.0.0.1", str(admin_port), "--admin-insecure-mode", "--no-ledger",
         "--wallet-type", "askar", "--wallet-name", "vectors", "--wallet-key", "vectors",
         "--auto-provision", "--log-level", "warning"],
        env=env, stdout=open(WORK / "agent.log", "w"), stderr=subprocess.STDOUT)  # noqa: SIM115
    try:
        for _ in range(120):
            try:
                call(admin, "/status/ready")
                break
            except OSError:
                time.sleep(1)
        did = call(admin, "/wallet/did/create",
                   {"method": "key", "options": {"key_type": "ed25519"}})["result"]["did"]
        method = f"{did}#{did.removeprefix('did:key:')}"
        made = {}
        for proof_type, contexts in [("Ed25519Signature2018", {"v1": [V1]}),
                                     ("Ed25519Signature2020", {"v1": [V1, ED25519_2020],
                                                               "v2": [V2, ED25519_2020]})]:
            for version, context in contexts.items():
                for name, make in (("small", small), ("passport", passport)):
                    if name == "passport" and version == "v1":
                        continue  # VCDM 1.1 has no vocabulary for the passport's claims
                    made[f"{proof_type}-{version}-{name}"] = call(admin, "/vc/credentials/issue", {
                        "credential": make(did, context),
                        "options": {"proofType": proof_type}})["verifiableCredential"]
        for version, context in (("v1", [V1]), ("v2", [V2])):
            for name, make in (("small", small), ("passport", passport)):
                if name == "passport" and version == "v1":
                    continue
                made[f"eddsa-jcs-2022-{version}-{name}"] = call(admin, "/vc/di/add-proof", {
                    "document": make(did, context),
                    "options": {"type": "DataIntegrityProof", "cryptosuite": "eddsa-jcs-2022",
                                "proofPurpose": "assertionMethod",
                                "verificationMethod": method}})["securedDocument"]
        for name, document in made.items():
            (OUT / f"{name}.json").write_text(json.dumps(document, indent=2) + "\n")
            print(name, len(json.dumps(document)), "bytes")
    finally:
        agent.terminate()
        agent.wait(timeout=30)
    return 0


if __name__ == "__main__":
    sys.exit(main())
