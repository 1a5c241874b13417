"""didkit 0.3.3 behind one well-behaved entry point: VCDM 1.1 credentials as
`Ed25519Signature2018` linked-data proofs and as JWT-VCs, issued and verified, did:key only.

What it is for: interop with partners and ecosystems on VCDM 1.1, interop tests against our own
suites, benchmarks. Production signing never goes through didkit: didkit signs only with a raw
private JWK (it has no signer callback), which an HSM/KMS cannot give; the service's suites
sign through `Signer`.

didkit traps handled here (measured on didkit 0.3.3, see shared/specs/README.md):

- Async API. Its coroutine functions need a running event loop at call time, so
  `asyncio.run(didkit.verify_credential(...))` fails with "no running event loop". Every call
  here runs inside a coroutine on one private event loop in a daemon thread; callers stay
  synchronous, and may even be inside an event loop of their own.
- Crash at exit. didkit's runtime threads re-enter Python to hand each result back. When the
  interpreter starts finalising while one of them is between two GIL hand-offs, the process
  dies: SIGSEGV, or SIGABRT with "FATAL: exception not rethrown" or "PyGILState_Release: thread
  state ... must be current". A script making 80 calls from 8 threads crashed at exit in 12 of
  40 runs, and even a single call now and then (1 in 30); a private event loop alone does not
  help. `_Runner.drain` (atexit) brought it to 0 in 200 runs. We do not `os._exit` instead: that
  would skip the other atexit handlers (logging, coverage) and lose the exit status.
- fork(). didkit's runtime threads do not survive fork(): a child whose parent has used didkit
  hangs forever on its first call. We raise `DidkitUnavailable` instead. Celery prefork workers
  are fine as long as the parent process never calls didkit (nothing here runs at import).
- Network. didkit fetches did:web documents, and, when asked to check `credentialStatus`, the
  status list, over HTTPS without our SSRF rules. We hand it only did:key issuers and keys and
  always ask for the proof check alone. Its JWT verification skips credentialStatus silently
  anyway, and it reads StatusList2021 bits in the reverse order: status is the verifier's job,
  with `credentials.status_list`.
- Dates. Linked-data verification ignores issuanceDate/expirationDate; JWT verification rejects
  a token outside nbf/exp by the wall clock and reports only "No applicable JWS or proof".
- Decimals. didkit writes 0.087 as "8.7E-2" in canonical N-Quads, pyld and jsonld.js as
  "8.699999999999999E-2": a linked-data proof over a fractional number made by one side does not
  verify on the other (tests/credentials/test_didkit_interop.py).
- Undefined terms give only "Key expansion failed", without naming the term.
"""

from __future__ import annotations

import asyncio
import atexit
import json
import os
import sys
import threading
import time
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import didkit
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

from core import json_limits
from credentials.dids import did_key_for, did_key_verification_method
from credentials.encoding import b64url_decode, b64url_encode
from credentials.errors import CredentialError
from credentials.keys import LocalSigner, PublicKey, Signer
from credentials.suites import register
from credentials.suites.base import KeyResolver, ProofResult, ProofSuite

CALL_TIMEOUT = 30.0  # seconds; calls are local CPU work (did:key only), milliseconds in practice
EXIT_DRAIN_TIMEOUT = 10.0
FOREIGN_THREADS_WAIT = 1.0

# RFC 8410 §7: an Ed25519 PKCS#8 v1 private key is this 16-byte header and the 32-byte seed.
_ED25519_PKCS8_HEADER = bytes.fromhex("302e020100300506032b657004220420")

# Always ask for the proof check only: "credentialStatus" makes didkit fetch the list itself.
_VERIFY_LD = {"proofPurpose": "assertionMethod", "checks": ["proof"]}
_VERIFY_JWT = {"proofPurpose": "assertionMethod", "checks": ["proof"], "proofFormat": "jwt"}


class DidkitError(CredentialError):
    code = "didkit_error"


class DidkitUnavailable(DidkitError):
    code = "didkit_unavailable"


@dataclass(frozen=True)
class DidkitReport:
    """didkit's verification result. `checks` lists what it looked at ("proof" or "JWS")."""

    checks: tuple[str, ...]
    warnings: tuple[str, ...]
    errors: tuple[str, ...]

    @property
    def ok(self) -> bool:
        return bool(self.checks) and not self.errors

    @classmethod
    def from_json(cls, text: str) -> DidkitReport:
        result = json.loads(text)
        return cls(*(tuple(result.get(key) or ()) for key in ("checks", "warnings", "errors")))


# --- the runner: one event loop, clean exit, no use after fork ------------------------------

class _Runner:
    """Runs didkit coroutines on one private event loop thread and keeps interpreter exit safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._idle = threading.Condition()
        self._in_flight = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._owner_pid: int | None = None

    def call(self, function, *args: str) -> str:
        loop = self._started()
        future = asyncio.run_coroutine_threadsafe(self._tracked(function, args), loop)
        try:
            return future.result(CALL_TIMEOUT)
        except FutureTimeout:
            # Not cancelled: the call runs on (and stays counted), so exit still waits for it.
            raise DidkitError(f"didkit did not answer within {CALL_TIMEOUT} s") from None
        except (didkit.DIDKitException, ValueError, TypeError) as exc:
            raise DidkitError(f"didkit: {exc}") from None

    async def _tracked(self, function, args: tuple[str, ...]) -> str:
        with self._idle:
            self._in_flight += 1
        try:
            return await function(*args)  # called here, so a loop is running: didkit needs one
        finally:
            with self._idle:
                self._in_flight -= 1
                self._idle.notify_all()

    def _started(self) -> asyncio.AbstractEventLoop:
        with self._lock:
            if self._owner_pid not in (None, os.getpid()):
                raise DidkitUnavailable(
                    "didkit was used before this process was forked; its runtime threads do not "
                    "survive fork(). Call didkit only in the process that will use it.")
            if self._loop is None:
                self._loop = asyncio.new_event_loop()
                self._thread = threading.Thread(target=self._loop.run_forever,
                                                name="didkit-loop", daemon=True)
                self._thread.start()
                self._owner_pid = os.getpid()
                atexit.register(self.drain)
            return self._loop

    def after_fork_in_child(self) -> None:
        # A lock held by another thread at fork time would never be released in the child.
        self._lock = threading.Lock()
        self._idle = threading.Condition()

    def drain(self, timeout: float = EXIT_DRAIN_TIMEOUT) -> None:
        """At exit, before finalisation: wait for calls in flight, stop the loop, then let
        didkit's threads finish handing results back (they need the GIL, which we release by
        sleeping) until no foreign thread is running Python code."""
        if self._loop is None or self._owner_pid != os.getpid():
            return
        deadline = time.monotonic() + timeout
        with self._idle:
            if not self._idle.wait_for(lambda: self._in_flight == 0, timeout):
                print(f"didkit: {self._in_flight} call(s) still running at exit; the interpreter "
                      "may crash while finalising", file=sys.stderr)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(max(0.0, deadline - time.monotonic()))
        # A hand-off takes microseconds once the GIL is free; the cap only keeps some other
        # library's long-running native thread from delaying exit.
        deadline = min(deadline, time.monotonic() + FOREIGN_THREADS_WAIT)
        while _foreign_threads_in_python() and time.monotonic() < deadline:
            time.sleep(0.001)


def _foreign_threads_in_python() -> list[int]:
    """Threads running Python code that `threading` did not start: didkit's runtime threads in
    the middle of delivering a result. (A foreign thread that called threading.current_thread()
    gets a _DummyThread entry, so those are counted as foreign too.)"""
    ours = {thread.ident for thread in threading.enumerate()
            if not isinstance(thread, threading._DummyThread)}
    return [ident for ident in sys._current_frames() if ident not in ours]


_RUNNER = _Runner()
os.register_at_fork(after_in_child=_RUNNER.after_fork_in_child)


# --- keys: TEST and BENCH only --------------------------------------------------------------

def ed25519_private_jwk(seed: bytes) -> dict:
    """The private JWK didkit signs with, from a 32-byte Ed25519 seed. For tests and benchmarks
    only: production keys never leave `credentials.keys` (see `_private_jwk_of` for the one
    exception, the didkit suites)."""
    if len(seed) != 32:
        raise ValueError("an Ed25519 seed is 32 bytes")
    public = ed25519.Ed25519PrivateKey.from_private_bytes(seed).public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return {"kty": "OKP", "crv": "Ed25519", "x": b64url_encode(public), "d": b64url_encode(seed)}


def did_key_of(jwk: dict) -> str:
    return did_key_for(PublicKey.from_jwk(jwk))


def verification_method_of(jwk: dict) -> str:
    return did_key_verification_method(did_key_of(jwk))


def _private_jwk_of(signer: Signer) -> dict:
    """didkit has no signer callback: it wants the private key. So here, and only here, the
    private key leaves a LocalSigner (an HSM/KMS signer cannot be used with didkit at all)."""
    if not isinstance(signer, LocalSigner) or signer.key_type != "Ed25519":
        raise DidkitError("didkit signs only with a LocalSigner over an Ed25519 key")
    der = signer.private_bytes()
    if len(der) != 48 or not der.startswith(_ED25519_PKCS8_HEADER):
        raise DidkitError("unexpected Ed25519 PKCS#8 encoding")
    jwk = ed25519_private_jwk(der[len(_ED25519_PKCS8_HEADER):])
    if signer.verification_method not in ("", verification_method_of(jwk)):
        raise DidkitError("didkit signs with did:key only; the signer's verification method is "
                          f"{signer.verification_method!r}")
    return jwk


# --- issue and verify -----------------------------------------------------------------------

def issue_ld(credential: dict, private_jwk: dict, *, created: str | None = None) -> dict:
    """A VCDM 1.1 credential with an Ed25519Signature2018 proof by the key's did:key. The
    issuer must be that did:key (didkit checks the verification relationship)."""
    _require_did_key(_issuer_id(credential), "issuer")
    options = {"proofPurpose": "assertionMethod",
               "verificationMethod": verification_method_of(private_jwk)}
    if created:
        options["created"] = created
    return json.loads(_RUNNER.call(didkit.issue_credential, _dumps(credential), _dumps(options),
                                   _dumps(private_jwk)))


def issue_jwt(credential: dict, private_jwk: dict) -> str:
    """A VCDM 1.1 JWT-VC (VCDM 1.1 §6.3.1): EdDSA, kid = the key's did:key method; didkit maps
    issuer, issuanceDate, expirationDate, id and the subject id to iss, nbf, exp, jti, sub."""
    _require_did_key(_issuer_id(credential), "issuer")
    options = {"proofPurpose": "assertionMethod", "proofFormat": "jwt",
               "verificationMethod": verification_method_of(private_jwk)}
    return _RUNNER.call(didkit.issue_credential, _dumps(credential), _dumps(options),
                        _dumps(private_jwk))


def verify_ld(credential: dict) -> DidkitReport:
    """didkit's proof check of an embedded linked-data proof (not dates, not status)."""
    proofs = credential.get("proof") if isinstance(credential, dict) else None
    if not proofs:
        raise DidkitError("no embedded proof")
    for proof in proofs if isinstance(proofs, list) else [proofs]:
        _require_did_key(proof.get("verificationMethod") if isinstance(proof, dict) else None,
                         "proof verificationMethod")
    _require_did_key(_issuer_id(credential), "issuer")
    return DidkitReport.from_json(
        _RUNNER.call(didkit.verify_credential, _dumps(credential), _dumps(_VERIFY_LD)))


def verify_jwt(token: str) -> DidkitReport:
    """didkit's check of a JWT-VC: signature, and nbf/exp against the wall clock."""
    header, claims = _jwt_parts(token)
    _require_did_key(header.get("kid"), "JWT kid")
    _require_did_key(claims.get("iss"), "JWT iss")
    return DidkitReport.from_json(
        _RUNNER.call(didkit.verify_credential, token, _dumps(_VERIFY_JWT)))


def _dumps(value: Any) -> str:
    try:
        return json.dumps(value, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise DidkitError(f"not JSON: {exc}") from None


def _issuer_id(credential: dict) -> Any:
    issuer = credential.get("issuer") if isinstance(credential, dict) else None
    return issuer.get("id") if isinstance(issuer, dict) else issuer


def _require_did_key(value: Any, what: str) -> None:
    # didkit would resolve anything else itself, over the network.
    if not isinstance(value, str) or not value.startswith("did:key:"):
        raise DidkitError(f"{what} must be a did:key for didkit, got {value!r}")


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _outside_validity_window(claims: dict) -> bool:
    now = time.time()
    return ((_is_number(claims.get("nbf")) and claims["nbf"] > now)
            or (_is_number(claims.get("exp")) and claims["exp"] <= now))


def _jwt_parts(token: Any) -> tuple[dict, dict]:
    try:
        header, payload, _signature = token.split(".")
        parts = [json_limits.loads(b64url_decode(part)) for part in (header, payload)]
    except (AttributeError, ValueError):  # JSON and UTF-8 errors are ValueErrors too
        raise DidkitError("not a compact JWS") from None
    if not all(isinstance(part, dict) for part in parts):
        raise DidkitError("JWT header and payload must be JSON objects")
    return parts[0], parts[1]


def credential_from_jwt_claims(claims: dict) -> dict:
    """The credential a VCDM 1.1 JWT-VC carries (§6.3.1 JWT decoding): `vc`, with the
    registered claims filled in where the `vc` object leaves them out."""
    vc = claims.get("vc")
    credential = dict(vc) if isinstance(vc, dict) else {}
    if "iss" in claims:
        credential.setdefault("issuer", claims["iss"])
    if "jti" in claims:
        credential.setdefault("id", claims["jti"])
    for claim, member in (("nbf", "issuanceDate"), ("exp", "expirationDate")):
        if _is_number(claims.get(claim)) and member not in credential:
            try:
                moment = datetime.fromtimestamp(claims[claim], tz=UTC).replace(microsecond=0)
            except (OverflowError, OSError, ValueError):
                continue  # out of range: left out, didkit has refused the token anyway
            credential[member] = moment.isoformat().replace("+00:00", "Z")
    subject = credential.get("credentialSubject")
    if "sub" in claims and isinstance(subject, dict):
        credential["credentialSubject"] = {"id": claims["sub"], **subject}
    return credential


# --- proof suites ---------------------------------------------------------------------------

class _DidkitSuite(ProofSuite):
    """Shared by both didkit suites. Reached by name only: `recognises` stays False, so the
    verifier's dispatch picks our own suites for the same formats. didkit resolves the did:key
    itself, so `keys` is not consulted, and it has no clock parameter, so `now` is ignored."""

    def _result(self, report: DidkitReport, credential: dict | None, method: str | None,
                *, errors: list[str] | None = None, **details: Any) -> ProofResult:
        return ProofResult(ok=report.ok, format=self.name, credential=credential,
                           verification_method=method,
                           errors=list(report.errors) if errors is None else errors,
                           details={"didkit_checks": list(report.checks),
                                    "didkit_warnings": list(report.warnings), **details})


class DidkitLinkedDataSuite(_DidkitSuite):
    name = "didkit-Ed25519Signature2018"

    def secure(self, credential: dict, signer: Signer, **options: Any) -> dict:
        return issue_ld(credential, _private_jwk_of(signer), created=options.get("created"))

    def verify(self, secured: dict | str, keys: KeyResolver, *, now: datetime | None = None,
               **options: Any) -> ProofResult:
        try:
            report = verify_ld(secured)
        except CredentialError as exc:
            return ProofResult.failed(self.name, exc.detail)
        proof = secured["proof"]
        method = proof.get("verificationMethod") if isinstance(proof, dict) else None
        return self._result(report, secured, method)


class DidkitJwtVcSuite(_DidkitSuite):
    name = "didkit-jwt-vc"

    def secure(self, credential: dict, signer: Signer, **options: Any) -> str:
        return issue_jwt(credential, _private_jwk_of(signer))

    def verify(self, secured: dict | str, keys: KeyResolver, *, now: datetime | None = None,
               **options: Any) -> ProofResult:
        try:
            header, claims = _jwt_parts(secured)
            report = verify_jwt(secured)
        except CredentialError as exc:
            return ProofResult.failed(self.name, exc.detail)
        errors = list(report.errors)
        if errors and _outside_validity_window(claims):
            errors.append("the JWT is outside its nbf/exp window (didkit checks it by the clock)")
        return self._result(report, credential_from_jwt_claims(claims), header.get("kid"),
                            errors=errors, header=header)


register(DidkitLinkedDataSuite())
register(DidkitJwtVcSuite())
