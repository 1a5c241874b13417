"""W3C Data Integrity EdDSA cryptosuites v1.0 (https://www.w3.org/TR/vc-di-eddsa/):
`eddsa-rdfc-2022` and `eddsa-jcs-2022`, embedded `DataIntegrityProof`s made with an Ed25519
`Signer`.

Each algorithm step is a method citing its section; the two suites differ only in how they
canonicalise (RDFC-1.0 N-Quads or RFC 8785 JCS) and in the JCS proof carrying the document's
`@context`. Shared proof handling (options, purposes, dates) lives here too and is reused by the
legacy `Ed25519Signature2018` suite in `ld_2018`, imported at the bottom so it registers.
"""

from __future__ import annotations

import copy
import hashlib
import re
from datetime import UTC, datetime
from typing import Any, ClassVar

import orjson

from core.outages import unavailable_service
from core.times import iso8601
from credentials import contexts, jcs, jsonld
from credentials.encoding import multibase_decode, multibase_encode
from credentials.errors import (
    CredentialError,
    MalformedCredential,
    ProofInvalid,
    SignatureMismatch,
    UnknownContext,
)
from credentials.keys import PublicKey, Signer
from credentials.suites import register
from credentials.suites.base import KeyResolver, ProofResult, ProofSuite

CREDENTIALS_V2 = "https://www.w3.org/ns/credentials/v2"
DATA_INTEGRITY_V2 = "https://w3id.org/security/data-integrity/v2"

ASSERTION = "assertionMethod"
AUTHENTICATION = "authentication"

# XML Schema dateTimeStamp: a date-time with a mandatory time zone.
_DATE_TIME_STAMP = re.compile(
    r"-?\d{4,}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)")


# --- shared by the embedded-proof suites ------------------------------------------------------

def format_datetime(moment: datetime | str | None) -> str:
    """XML Schema dateTimeStamp in UTC, whole seconds (what `created`/`expires` carry)."""
    if isinstance(moment, str):
        parse_datetime(moment)  # validates
        return moment
    moment = moment or datetime.now(UTC)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return iso8601(moment)


def parse_datetime(text: Any) -> datetime:
    if not isinstance(text, str) or not _DATE_TIME_STAMP.fullmatch(text):
        raise MalformedCredential(f"not an XML Schema dateTimeStamp: {text!r}")
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        raise MalformedCredential(f"not a valid date-time: {text!r}") from None


def proof_options(proof_type: str, signer: Signer, *, purpose: str = ASSERTION,
                  created: datetime | str | None = None, expires: datetime | str | None = None,
                  challenge: str | None = None, domain: str | list[str] | None = None,
                  **extra: Any) -> dict:
    """The proof options of VC Data Integrity §2.1 (everything but the proof value)."""
    if signer.key_type != "Ed25519":
        raise CredentialError(f"{proof_type} needs an Ed25519 key, not {signer.key_type}")
    if not signer.verification_method:
        raise CredentialError("the signer has no verification method id")
    options = {"type": proof_type, **extra, "created": format_datetime(created),
               "verificationMethod": signer.verification_method, "proofPurpose": purpose}
    if expires is not None:
        options["expires"] = format_datetime(expires)
    if challenge is not None:
        options["challenge"] = challenge
    if domain is not None:
        options["domain"] = domain
    return options


def unsecured_copy(secured: Any) -> tuple[dict, dict]:
    """(the document without its proof, the proof). Raises MalformedCredential."""
    if not isinstance(secured, dict):
        raise MalformedCredential("a secured document must be a JSON object")
    proof = secured.get("proof")
    if isinstance(proof, list):
        raise MalformedCredential("proof sets (several proofs) are not supported")
    if not isinstance(proof, dict):
        raise MalformedCredential("no proof object")
    document = {key: value for key, value in secured.items() if key != "proof"}
    if not context_list(document.get("@context")):
        raise MalformedCredential("@context must be a URL or a non-empty list")
    return document, proof


def context_list(context: Any) -> list:
    return context if isinstance(context, list) else [context] if context else []


def require_known_contexts(context: Any) -> None:
    """Every context URL must be bundled or registered; nothing is fetched."""
    for entry in context_list(context):
        if isinstance(entry, str) and not contexts.known(entry):
            raise UnknownContext(f"unknown JSON-LD context {entry!r}")


def is_presentation(document: dict) -> bool:
    types = document.get("type") or []
    return "VerifiablePresentation" in (types if isinstance(types, list) else [types])


def check_proof_claims(proof: dict, document: dict, *, now: datetime | None,
                       purpose: str | None, challenge: str | None,
                       domain: str | None) -> None:
    """Purpose, challenge, domain and dates of a proof (VC Data Integrity §4.4 and the proof
    purposes of §2.2). Raises ProofInvalid / MalformedCredential."""
    expected = purpose or (AUTHENTICATION if is_presentation(document) else ASSERTION)
    if proof.get("proofPurpose") != expected:
        raise ProofInvalid(f"proof purpose is {proof.get('proofPurpose')!r}, "
                           f"expected {expected!r}")
    if expected == AUTHENTICATION and challenge is None:
        raise ProofInvalid("an authentication proof is only checked against the verifier's "
                           "challenge: none was given")
    if challenge is not None and proof.get("challenge") != challenge:
        raise ProofInvalid("proof challenge does not match")
    if domain is not None:
        bound = proof.get("domain")
        if not (bound == domain or isinstance(bound, list) and domain in bound):
            raise ProofInvalid("proof domain does not match")
    now = now or datetime.now(UTC)
    if now.tzinfo is None:
        now = now.replace(tzinfo=UTC)
    if "created" in proof:
        parse_datetime(proof["created"])
    if "expires" in proof and parse_datetime(proof["expires"]) <= now:
        raise ProofInvalid(f"proof expired at {proof['expires']}")


def resolve_ed25519(keys: KeyResolver, verification_method: Any) -> PublicKey:
    if not isinstance(verification_method, str) or not verification_method:
        raise MalformedCredential("proof has no verificationMethod")
    key = keys.public_key(verification_method)
    if key.key_type != "Ed25519":
        raise ProofInvalid(f"verification method is a {key.key_type} key, not Ed25519")
    return key


def sha256(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


class EmbeddedProofSuite(ProofSuite):
    """What the embedded-proof suites share: `verify` never raises, and reports why."""

    value_keys: ClassVar[tuple[str, ...]] = ("proofValue",)  # the signature, not proof options

    def verify(self, secured: dict | str, keys: KeyResolver, *, now: datetime | None = None,
               purpose: str | None = None, challenge: str | None = None,
               domain: str | None = None, **_ignored: Any) -> ProofResult:
        try:
            document, proof = unsecured_copy(secured)
            check_proof_claims(proof, document, now=now, purpose=purpose, challenge=challenge,
                               domain=domain)
            self.verify_proof(document, proof, keys)
        except CredentialError as exc:
            return ProofResult.failed(self.name, exc.detail, details={"code": exc.code})
        except Exception as exc:  # noqa: BLE001 - bad input must give a reason, not a crash
            if unavailable_service(exc):
                raise  # an outage is not a property of the input
            return ProofResult.failed(self.name, f"cannot verify: {type(exc).__name__}: {exc}")
        details = {"proof": {k: v for k, v in proof.items() if k not in self.value_keys}}
        if is_presentation(document):
            inner = document.get("verifiableCredential") or []
            details["credentials"] = inner if isinstance(inner, list) else [inner]
            details["holder"] = document.get("holder")
        return ProofResult(ok=True, format=self.name, credential=document,
                           verification_method=proof["verificationMethod"], details=details)

    def verify_proof(self, document: dict, proof: dict, keys: KeyResolver) -> None:
        """Check the signature; raise a CredentialError saying why it does not hold."""
        raise NotImplementedError


# --- eddsa-rdfc-2022 and eddsa-jcs-2022 -------------------------------------------------------

class DataIntegrityEdDSA(EmbeddedProofSuite):
    """The algorithms of vc-di-eddsa §3.2 (rdfc) / §3.3 (jcs); subclasses canonicalise."""

    cryptosuite: ClassVar[str]
    proof_carries_context: ClassVar[bool] = False

    def recognises(self, secured: dict | str) -> bool:
        proof = secured.get("proof") if isinstance(secured, dict) else None
        return (isinstance(proof, dict) and proof.get("type") == "DataIntegrityProof"
                and proof.get("cryptosuite") == self.cryptosuite)

    def secure(self, credential: dict, signer: Signer, **options: Any) -> dict:
        """VC Data Integrity §4.2 Add Proof: the credential with an embedded proof."""
        if not isinstance(credential, dict) or "proof" in credential:
            raise MalformedCredential("expected an unsecured credential (a JSON object without "
                                      "proof)")
        # A deep copy, so that the secured document shares nothing with the caller's input.
        document = with_data_integrity_context(json_copy(credential))
        options = proof_options("DataIntegrityProof", signer, cryptosuite=self.cryptosuite,
                                **options)
        return {**document, "proof": self.create_proof(document, options, signer)}

    # --- the cryptosuite's algorithms ---

    def create_proof(self, document: dict, options: dict, signer: Signer) -> dict:
        """§3.2.1 / §3.3.1 Create Proof: configure, transform, hash, sign; proofValue is the
        signature in multibase base58btc ('z')."""
        proof = dict(options)
        if self.proof_carries_context and "@context" in document:
            proof["@context"] = document["@context"]  # §3.3.1 step 2 (jcs only)
        canonical_config = self.proof_configuration(proof, document)
        transformed = self.transformation(document, proof)
        proof_bytes = self.proof_serialization(self.hashing(transformed, canonical_config),
                                               signer)
        proof["proofValue"] = multibase_encode(proof_bytes)
        return proof

    def verify_proof(self, document: dict, proof: dict, keys: KeyResolver) -> None:
        """§3.2.2 / §3.3.2 Verify Proof."""
        options = {key: value for key, value in proof.items() if key != "proofValue"}
        proof_value = proof.get("proofValue")
        if not isinstance(proof_value, str) or not proof_value.startswith("z"):
            raise MalformedCredential("proofValue must be a multibase base58btc string ('z...')")
        try:
            proof_bytes = multibase_decode(proof_value)
        except ValueError as exc:
            raise MalformedCredential(f"proofValue: {exc}") from None
        if "@context" in options:  # step 5: the proof's context must prefix the document's
            bound = context_list(options["@context"])
            if context_list(document["@context"])[:len(bound)] != bound:
                raise ProofInvalid("the proof's @context does not start the document's @context")
            document = {**document, "@context": options["@context"]}
        require_known_contexts(document["@context"])
        key = resolve_ed25519(keys, options.get("verificationMethod"))
        transformed = self.transformation(document, options)
        canonical_config = self.proof_configuration(options, document)
        if not self.proof_verification(self.hashing(transformed, canonical_config),
                                       proof_bytes, key):
            raise SignatureMismatch("signature does not verify")

    def transformation(self, document: dict, options: dict) -> bytes:
        """§3.2.3 / §3.3.3 Transformation: check the proof type and cryptosuite, then the
        canonical form of the unsecured document."""
        self._check_type(options)
        return self.canonicalize(document)

    def hashing(self, transformed: bytes, canonical_proof_config: bytes) -> bytes:
        """§3.2.4 / §3.3.4 Hashing: SHA-256 of the proof configuration, then SHA-256 of the
        document, concatenated (64 bytes)."""
        return sha256(canonical_proof_config) + sha256(transformed)

    def proof_configuration(self, options: dict, document: dict) -> bytes:
        """§3.2.5 / §3.3.5 Proof Configuration: the proof options with the document's @context,
        canonicalised; `created` must be a dateTimeStamp. For a VCDM 1.1 document whose context
        does not define the proof terms, the Data Integrity context is added (pyld would drop
        them silently, and we would refuse)."""
        self._check_type(options)
        if "created" in options:
            parse_datetime(options["created"])
        config = {key: value for key, value in options.items() if key != "proofValue"}
        config["@context"] = needs_data_integrity_context(document.get("@context"))
        return self.canonicalize_configuration(config)

    def proof_serialization(self, hash_data: bytes, signer: Signer) -> bytes:
        """§3.2.6 / §3.3.6 Proof Serialization: Ed25519 signature of the hash data."""
        return signer.sign(hash_data)

    def proof_verification(self, hash_data: bytes, proof_bytes: bytes, key: PublicKey) -> bool:
        """§3.2.7 / §3.3.7 Proof Verification: Ed25519 verification of the hash data."""
        return len(proof_bytes) == 64 and key.verify(proof_bytes, hash_data)

    def canonicalize(self, document: dict) -> bytes:
        raise NotImplementedError

    def canonicalize_configuration(self, config: dict) -> bytes:
        return self.canonicalize(config)

    def _check_type(self, options: dict) -> None:
        if options.get("type") != "DataIntegrityProof" or \
                options.get("cryptosuite") != self.cryptosuite:
            raise ProofInvalid(f"not a DataIntegrityProof with cryptosuite {self.cryptosuite}"
                               " (PROOF_TRANSFORMATION_ERROR)")


class EddsaRdfc2022(DataIntegrityEdDSA):
    """vc-di-eddsa §3.2: RDF Dataset Canonicalization (RDFC-1.0) of the JSON-LD document."""

    name = cryptosuite = "eddsa-rdfc-2022"

    def canonicalize(self, document: dict) -> bytes:
        return jsonld.canonicalize(document).encode("utf-8")

    def canonicalize_configuration(self, config: dict) -> bytes:
        """The same canonical form, remembered for a configuration that recurs (one key
        signing a batch within a second): jsonld.canonicalize_recurring."""
        return jsonld.canonicalize_recurring(config).encode("utf-8")


class EddsaJcs2022(DataIntegrityEdDSA):
    """vc-di-eddsa §3.3: JSON Canonicalization Scheme (RFC 8785) of the document.

    The signature covers the JSON as is, but the document is still JSON-LD, so by default its
    terms are checked as for rdfc (unknown contexts and undefined terms refused): a JSON-LD
    expansion once per document shape (jsonld.check_terms). `check_terms=False` skips it
    (contexts are still checked to be known)."""

    name = cryptosuite = "eddsa-jcs-2022"
    proof_carries_context = True

    def __init__(self, *, check_terms: bool = True):
        self.check_terms = check_terms

    def canonicalize(self, document: dict) -> bytes:
        require_known_contexts(document.get("@context", []))
        if self.check_terms:
            jsonld.check_terms(document)
        return jcs.canonicalize(document)

    def proof_configuration(self, options: dict, document: dict) -> bytes:
        """§3.3.5: the proof options as they are, with the @context the proof carries (§3.3.1
        step 2) or none (ACA-Py 1.7 writes none); unlike rdfc, nothing is added to them."""
        self._check_type(options)
        if "created" in options:
            parse_datetime(options["created"])
        return jcs.canonicalize({key: value for key, value in options.items()
                                 if key != "proofValue"})


def json_copy(document: dict) -> dict:
    """A deep copy of a JSON document: through orjson (a tenth of copy.deepcopy's time) when
    that gives back the same document, else copy.deepcopy (values orjson would change or
    refuse: NaN and the infinities, which it writes as null, subclasses, non-JSON types)."""
    try:
        text = orjson.dumps(document, option=_COPY_OPTIONS, default=_not_json)
    except TypeError:
        return copy.deepcopy(document)
    return copy.deepcopy(document) if b"null" in text else orjson.loads(text)


_COPY_OPTIONS = (orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS
                 | orjson.OPT_PASSTHROUGH_SUBCLASS)


def _not_json(value: Any) -> Any:
    raise TypeError(type(value).__name__)


def needs_data_integrity_context(context: Any) -> Any:
    """`context`, plus the Data Integrity v2 context when neither it nor credentials v2 (which
    includes the proof terms) is there: e.g. a VCDM 1.1 document."""
    entries = context_list(context)
    if CREDENTIALS_V2 in entries or DATA_INTEGRITY_V2 in entries:
        return context
    return [*entries, DATA_INTEGRITY_V2]


def with_data_integrity_context(document: dict) -> dict:
    """A document to secure with a DataIntegrityProof must define its terms for every reader,
    not only for the proof configuration: add the Data Integrity context (VCDM 1.1). Sets a new
    @context value, never changes the old one in place."""
    if "@context" in document:
        document["@context"] = needs_data_integrity_context(document["@context"])
    return document


register(EddsaRdfc2022())
register(EddsaJcs2022())

from credentials.suites import ld_2018  # noqa: E402, F401 - registers Ed25519Signature2018
