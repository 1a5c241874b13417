"""`Ed25519Signature2018` linked-data proofs for VCDM 1.1 credentials (what didkit issues).

Specs: W3C CCG Ed25519 Signature 2018 (https://w3c-ccg.github.io/lds-ed25519-2018/) over the
Linked Data Proofs "create verify hash" algorithm (URDNA2015 of proof options and document), and
a detached JWS with unencoded payload (RFC 7797) as the signature. The credentials v1 context
defines the suite's proof terms.
"""

from __future__ import annotations

import copy
import json
from typing import Any, ClassVar

from core import json_limits
from credentials import jsonld
from credentials.encoding import b64url_decode, b64url_encode
from credentials.errors import MalformedCredential, ProofInvalid, SignatureMismatch
from credentials.keys import Signer
from credentials.suites import register
from credentials.suites.base import KeyResolver
from credentials.suites.data_integrity import (
    EmbeddedProofSuite,
    proof_options,
    require_known_contexts,
    resolve_ed25519,
    sha256,
)

# RFC 7797 §3/§6: the payload is not base64url-encoded, and every reader must know that (crit).
JWS_HEADER = {"alg": "EdDSA", "b64": False, "crit": ["b64"]}
ENCODED_HEADER = b64url_encode(json.dumps(JWS_HEADER, separators=(",", ":")).encode())
ACCEPTED_ALGS = ("EdDSA", "Ed25519")  # RFC 9864's new name, accepted, never emitted


class Ed25519Signature2018(EmbeddedProofSuite):
    name = proof_type = "Ed25519Signature2018"
    value_keys: ClassVar[tuple[str, ...]] = ("jws", "proofValue", "signatureValue")

    def recognises(self, secured: dict | str) -> bool:
        proof = secured.get("proof") if isinstance(secured, dict) else None
        return isinstance(proof, dict) and proof.get("type") == self.proof_type

    def secure(self, credential: dict, signer: Signer, **options: Any) -> dict:
        """Linked Data Proofs "Proof Algorithm": options, verify data, sign, attach `jws`."""
        if not isinstance(credential, dict) or "proof" in credential:
            raise MalformedCredential("expected an unsecured credential (a JSON object without "
                                      "proof)")
        document = copy.deepcopy(credential)
        proof = proof_options(self.proof_type, signer, **options)
        proof["jws"] = self.sign_detached(self.create_verify_data(document, proof), signer)
        return {**document, "proof": proof}

    def create_verify_data(self, document: dict, proof: dict) -> bytes:
        """Linked Data Proofs "Create Verify Hash": the proof options (the proof without its
        signature, under the document's @context) and the document (without proof), each
        canonicalised with URDNA2015 and hashed with SHA-256; options hash first."""
        options = {k: v for k, v in proof.items() if k not in self.value_keys}
        options["@context"] = document.get("@context")
        canonical_options = jsonld.canonicalize(options).encode("utf-8")
        canonical_document = jsonld.canonicalize(document).encode("utf-8")
        return sha256(canonical_options) + sha256(canonical_document)

    def sign_detached(self, verify_data: bytes, signer: Signer) -> str:
        """lds-ed25519-2018 "Modification to Signature Algorithm": a JWS over the unencoded
        verify data (RFC 7797 §3: signing input = base64url(header) '.' payload), detached
        (RFC 7515 Appendix F): header..signature."""
        signing_input = ENCODED_HEADER.encode("ascii") + b"." + verify_data
        return f"{ENCODED_HEADER}..{b64url_encode(signer.sign(signing_input))}"

    def verify_proof(self, document: dict, proof: dict, keys: KeyResolver) -> None:
        encoded_header, signature = _parse_detached_jws(proof.get("jws"))
        require_known_contexts(document["@context"])
        key = resolve_ed25519(keys, proof.get("verificationMethod"))
        verify_data = self.create_verify_data(document, proof)
        if not key.verify(signature, encoded_header.encode("ascii") + b"." + verify_data):
            raise SignatureMismatch("signature does not verify")


def _parse_detached_jws(jws: Any) -> tuple[str, bytes]:
    """(the header as sent, the signature) of a detached, unencoded-payload EdDSA JWS."""
    if not isinstance(jws, str) or jws.count(".") != 2:
        raise MalformedCredential("jws must be a detached JWS (header..signature)")
    encoded_header, payload, encoded_signature = jws.split(".")
    if payload:
        raise MalformedCredential("jws must be detached: its payload part must be empty")
    try:
        header = json_limits.loads(b64url_decode(encoded_header))
        signature = b64url_decode(encoded_signature)
    except ValueError as exc:  # includes JSON and UTF-8 errors
        raise MalformedCredential(f"jws is not valid base64url JSON: {exc}") from None
    if not isinstance(header, dict) or header.get("alg") not in ACCEPTED_ALGS:
        raise MalformedCredential("jws header must have alg EdDSA")
    if header.get("b64") is not False or header.get("crit") != ["b64"]:
        raise MalformedCredential('jws header must have "b64": false and "crit": ["b64"] '
                                  "(RFC 7797)")
    if len(signature) != 64:
        raise ProofInvalid("jws signature is not 64 bytes")
    return encoded_header, signature


register(Ed25519Signature2018())
