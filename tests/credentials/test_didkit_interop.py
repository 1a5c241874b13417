"""didkit 0.3.3 and our own VCDM 1.1 suites read each other's credentials.

Both directions for both formats: didkit issues -> didkit verifies (sanity) and our engine
verifies; our engine issues -> didkit verifies. Our suites are the registry's
`Ed25519Signature2018` and `jwt-vc`; didkit's are `didkit-Ed25519Signature2018` and
`didkit-jwt-vc` (credentials/suites/didkit_ld.py). did:key only: didkit resolves did:web only over
HTTPS. Then the known disagreement (fractional numbers), and a clean interpreter exit.
"""

import hashlib
import importlib
import json
import subprocess
import sys
import textwrap

import didkit
import pytest

from credentials import jsonld
from credentials.dids import StaticKeyResolver
from credentials.encoding import b64url_decode, b64url_encode
from credentials.keys import LocalSigner
from credentials.suites import ProofSuite, get_suite
from credentials.suites.didkit_ld import (
    DidkitError,
    DidkitUnavailable,
    did_key_of,
    ed25519_private_jwk,
    issue_jwt,
    issue_ld,
    verification_method_of,
    verify_jwt,
    verify_ld,
)
from tests.support.environment import ROOT

SEED = bytes(range(32))
JWK = ed25519_private_jwk(SEED)
DID = did_key_of(JWK)
METHOD = verification_method_of(JWK)
SIGNER = LocalSigner.from_ed25519_seed(SEED, METHOD)
KEYS = StaticKeyResolver()  # resolves did:key
CREATED = "2024-05-01T10:00:00Z"
VC_V1 = "https://www.w3.org/2018/credentials/v1"
# An inline context: the one kind both sides accept besides their bundled URLs.
TERMS = {"name": "https://schema.org/name", "ratio": "https://example.org/vocab#ratio"}


def suite(name: str) -> ProofSuite:
    """`get_suite(name)` once every suite module is imported. get_suite loads the modules only
    while the registry is empty, and importing any one of them (this file imports didkit_ld)
    fills it, so without this loop `get_suite("jwt-vc")` can raise KeyError."""
    for module in ("data_integrity", "didkit_ld", "jose", "sd_jwt"):
        importlib.import_module(f"credentials.suites.{module}")
    return get_suite(name)


def credential(**subject) -> dict:
    return {
        "@context": [VC_V1, TERMS],
        "id": "urn:uuid:3f1c2a7e-5b7d-4c1e-9a53-2d0f6f7a9b10",
        "type": ["VerifiableCredential"],
        "issuer": DID,
        "issuanceDate": "2024-05-01T10:00:00Z",
        "expirationDate": "2099-05-01T10:00:00Z",
        "credentialSubject": {"id": "did:example:holder", "name": "Cell module 7", **subject},
    }


def tampered(secured: dict) -> dict:
    return {**secured, "credentialSubject": {**secured["credentialSubject"], "name": "Other"}}


def tampered_jwt(token: str) -> str:
    header, payload, signature = token.split(".")
    claims = json.loads(b64url_decode(payload))
    claims["vc"]["credentialSubject"]["name"] = "Other"
    forged = json.dumps(claims, separators=(",", ":")).encode()
    return f"{header}.{b64url_encode(forged)}.{signature}"


# --- did:key ---------------------------------------------------------------------------------

def test_didkit_and_our_did_key_agree():
    assert didkit.key_to_did("key", json.dumps(JWK)) == DID
    assert METHOD == f"{DID}#{DID.removeprefix('did:key:')}"
    assert issue_ld(credential(), JWK)["proof"]["verificationMethod"] == METHOD


# --- Ed25519Signature2018 ------------------------------------------------------------------

def test_didkit_ld_round_trip():
    secured = issue_ld(credential(), JWK, created=CREATED)
    assert secured["proof"]["type"] == "Ed25519Signature2018"
    assert secured["proof"]["created"] == CREATED
    assert verify_ld(secured).ok
    assert not verify_ld(tampered(secured)).ok


def test_didkit_ld_verifies_in_the_engine():
    secured = issue_ld(credential(), JWK, created=CREATED)
    result = suite("Ed25519Signature2018").verify(secured, KEYS)
    assert result.ok, result.errors
    assert result.verification_method == METHOD
    assert not suite("Ed25519Signature2018").verify(tampered(secured), KEYS).ok


def test_engine_ld_verifies_in_didkit():
    secured = suite("Ed25519Signature2018").secure(credential(), SIGNER, created=CREATED)
    assert secured["proof"]["verificationMethod"] == METHOD
    report = verify_ld(secured)
    assert report.ok, report.errors
    assert not verify_ld(tampered(secured)).ok


# --- JWT-VC ----------------------------------------------------------------------------------

def test_didkit_jwt_round_trip():
    token = issue_jwt(credential(), JWK)
    assert verify_jwt(token).ok
    assert not verify_jwt(tampered_jwt(token)).ok


def test_didkit_jwt_verifies_in_the_engine():
    """didkit writes nbf/exp as floats (1714557600.0) and keeps issuer and dates inside `vc`
    too; the engine accepts both, and rebuilds the same credential."""
    token = issue_jwt(credential(), JWK)
    result = suite("jwt-vc").verify(token, KEYS)
    assert result.ok, result.errors
    original = credential()
    for member in ("id", "issuer", "issuanceDate", "expirationDate", "credentialSubject"):
        assert result.credential[member] == original[member]
    assert not suite("jwt-vc").verify(tampered_jwt(token), KEYS).ok


def test_engine_jwt_verifies_in_didkit():
    token = suite("jwt-vc").secure(credential(), SIGNER)
    report = verify_jwt(token)
    assert report.ok, report.errors
    assert report.checks == ("JWS",)
    assert not verify_jwt(tampered_jwt(token)).ok


def test_didkit_refuses_a_jwt_outside_its_validity_window_by_the_clock():
    token = issue_jwt({**credential(), "expirationDate": "2020-01-01T00:00:00Z"}, JWK)
    result = suite("didkit-jwt-vc").verify(token, KEYS)
    assert not result.ok
    assert result.errors[0] == "No applicable JWS or proof"  # all didkit says
    assert "nbf/exp" in result.errors[1]


# --- fractional numbers ----------------------------------------------------------------------

DOUBLE = "^^<http://www.w3.org/2001/XMLSchema#double>"


@pytest.mark.parametrize(("ratio", "agree"), [(1.5, True), (0.087, False)])
def test_fractional_numbers(ratio, agree):
    """A linked-data proof over 0.087 made by didkit does not verify in pyld-based engines, nor
    one made by our engine in didkit; 1.5 works both ways.

    JSON-LD to RDF turns a non-integral JSON number into an xsd:double literal in canonical form.
    pyld and jsonld.js (and JSON-LD 1.1's round-tripping rules: "%1.15E"-style, 15 digits after
    the point, trailing zeros dropped) write 0.087, whose nearest double is
    0.08699999999999999..., as "8.699999999999999E-2"; didkit (Rust) writes the shortest form
    that round-trips, "8.7E-2". The canonical N-Quads differ, so do their hashes, so the
    signature made over one does not verify over the other. 1.5 is exact in both forms ("1.5E0").
    Each side verifies its own proofs. We follow pyld/jsonld.js (the spec); issuers that need
    didkit interop should write fractional values as strings or integers in smaller units.
    The last assertion proves what didkit signed: its signature verifies over our canonical
    form with only the literal replaced by "8.7E-2".
    """
    document = credential(ratio=ratio)
    engine = suite("Ed25519Signature2018")

    by_didkit = issue_ld(document, JWK, created=CREATED)
    assert verify_ld(by_didkit).ok
    assert engine.verify(by_didkit, KEYS).ok is agree

    by_engine = engine.secure(document, SIGNER, created=CREATED)
    assert engine.verify(by_engine, KEYS).ok
    assert verify_ld(by_engine).ok is agree

    if not agree:
        ours = jsonld.canonicalize(document)
        assert f'"8.699999999999999E-2"{DOUBLE}' in ours
        didkits = ours.replace(f'"8.699999999999999E-2"{DOUBLE}', f'"8.7E-2"{DOUBLE}')
        assert _didkit_signature_verifies_over(by_didkit, didkits)


def _didkit_signature_verifies_over(secured: dict, canonical_document: str) -> bool:
    """lds-ed25519-2018 verify data, with the document's canonical form given."""
    proof = {k: v for k, v in secured["proof"].items() if k != "jws"}
    options = jsonld.canonicalize({**proof, "@context": secured["@context"]})
    header, _, signature = secured["proof"]["jws"].split(".")
    data = (hashlib.sha256(options.encode()).digest()
            + hashlib.sha256(canonical_document.encode()).digest())
    return SIGNER.public_key().verify(b64url_decode(signature), header.encode() + b"." + data)


# --- the didkit suites -----------------------------------------------------------------------

@pytest.mark.parametrize("name", ["didkit-Ed25519Signature2018", "didkit-jwt-vc"])
def test_didkit_suites_secure_with_a_local_signer_and_verify(name):
    didkit_suite = suite(name)
    secured = didkit_suite.secure(credential(), SIGNER)
    result = didkit_suite.verify(secured, KEYS)
    assert result.ok, result.errors
    assert result.verification_method == METHOD
    assert result.credential["credentialSubject"]["name"] == "Cell module 7"
    assert not didkit_suite.recognises(secured)  # dispatch goes to our own suites


@pytest.mark.parametrize("name", ["didkit-Ed25519Signature2018", "didkit-jwt-vc"])
def test_didkit_suites_refuse_signers_they_cannot_use(name):
    didkit_suite = suite(name)
    with pytest.raises(DidkitError, match="did:key only"):
        didkit_suite.secure(credential(), LocalSigner.from_ed25519_seed(
            SEED, "did:web:example.com:orgs:acme#key-1"))
    with pytest.raises(DidkitError, match="LocalSigner over an Ed25519 key"):
        didkit_suite.secure(credential(), LocalSigner.generate(METHOD, key_type="P-256"))


def test_didkit_errors_become_didkit_error():
    """didkit checks that the issuer controls the key (here: another did:key)."""
    other = did_key_of(ed25519_private_jwk(bytes(32)))
    with pytest.raises(DidkitError, match="verification relationship"):
        issue_ld({**credential(), "issuer": other}, JWK)
    with pytest.raises(DidkitError, match="Key expansion failed"):  # an undefined term
        issue_ld({**credential(), "credentialSubject": {"undefinedTerm": 1}}, JWK)


def test_nothing_but_did_key_reaches_didkit():
    """didkit would fetch a did:web document over HTTPS itself, past our SSRF rules."""
    foreign = {**credential(), "issuer": "did:web:example.com"}
    with pytest.raises(DidkitError, match="issuer must be a did:key"):
        issue_ld(foreign, JWK)
    secured = issue_ld(credential(), JWK)
    result = suite("didkit-Ed25519Signature2018").verify({**secured, "issuer": foreign["issuer"]},
                                                         KEYS)
    assert not result.ok and "did:key" in result.errors[0]
    moved = {**secured, "proof": {**secured["proof"], "verificationMethod": "did:web:x#k"}}
    assert not suite("didkit-Ed25519Signature2018").verify(moved, KEYS).ok


def test_didkit_never_checks_status_for_us():
    """We ask didkit for the proof check only: with "credentialStatus" it would fetch the list
    over HTTPS, and it reads StatusList2021 bits reversed. Status is the verifier's job."""
    document = credential()
    document["@context"] = [VC_V1, "https://w3id.org/vc/status-list/2021/v1", TERMS]
    document["credentialStatus"] = {
        "id": "https://status.invalid/lists/1#94567", "type": "StatusList2021Entry",
        "statusPurpose": "revocation", "statusListIndex": "94567",
        "statusListCredential": "https://status.invalid/lists/1"}
    secured = issue_ld(document, JWK)
    report = verify_ld(secured)
    # Only the proof was checked: the list (under .invalid, which never resolves) was not asked
    # for, or the status would be a check of its own, or an error.
    assert report.ok and report.checks == ("proof",)


def test_ed25519_private_jwk_needs_32_bytes():
    with pytest.raises(ValueError):
        ed25519_private_jwk(bytes(31))


# --- process exit and fork -------------------------------------------------------------------

EXIT_SCRIPT = textwrap.dedent("""
    import threading
    from credentials.suites.didkit_ld import (
        did_key_of, ed25519_private_jwk, issue_jwt, issue_ld, verify_jwt, verify_ld)

    jwk = ed25519_private_jwk(bytes(range(32)))
    credential = {"@context": ["https://www.w3.org/2018/credentials/v1"],
                  "type": ["VerifiableCredential"], "issuer": did_key_of(jwk),
                  "issuanceDate": "2024-05-01T10:00:00Z",
                  "credentialSubject": {"id": "did:example:holder"}}
    secured, token = issue_ld(credential, jwk), issue_jwt(credential, jwk)

    def work():
        for _ in range(10):
            assert verify_ld(secured).ok and verify_jwt(token).ok

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    print("verified")
""")


def test_interpreter_exits_cleanly_after_didkit_calls():
    """Without the exit drain in didkit_ld, a script like this one died at exit (SIGSEGV, or
    SIGABRT "FATAL: exception not rethrown") in 15-30% of runs. Twelve runs side by side all
    have to exit with status 0."""
    runs = [subprocess.Popen([sys.executable, "-c", EXIT_SCRIPT], cwd=ROOT, text=True,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            for _ in range(12)]
    for run in runs:
        out, err = run.communicate(timeout=120)
        assert (run.returncode, out.strip()) == (0, "verified"), err[-2000:]
        assert "Fatal Python error" not in err


FORK_SCRIPT = textwrap.dedent("""
    import os
    from credentials.suites.didkit_ld import (
        DidkitUnavailable, did_key_of, ed25519_private_jwk, issue_ld, verify_ld)

    jwk = ed25519_private_jwk(bytes(range(32)))
    credential = {"@context": ["https://www.w3.org/2018/credentials/v1"],
                  "type": ["VerifiableCredential"], "issuer": did_key_of(jwk),
                  "issuanceDate": "2024-05-01T10:00:00Z",
                  "credentialSubject": {"id": "did:example:holder"}}
    secured = issue_ld(credential, jwk)
    pid = os.fork()
    if pid == 0:
        try:
            verify_ld(secured)
        except DidkitUnavailable:
            os._exit(0)
        os._exit(3)
    _, status = os.waitpid(pid, 0)
    assert verify_ld(secured).ok  # the parent is unaffected
    print("child", os.waitstatus_to_exitcode(status))
""")


def test_a_forked_child_gets_an_error_instead_of_a_hang():
    """didkit's runtime threads do not survive fork(): without the guard the child's first call
    never returns."""
    run = subprocess.run([sys.executable, "-c", FORK_SCRIPT], cwd=ROOT, text=True,
                         capture_output=True, timeout=60)
    assert (run.returncode, run.stdout.strip()) == (0, "child 0"), run.stderr[-2000:]
    assert DidkitUnavailable.code == "didkit_unavailable"
