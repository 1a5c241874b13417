"""`Ed25519Signature2020` linked-data proofs (W3C CCG, https://w3c.github.io/vc-di-ed25519signature2020/):
ACA-Py's default and common in deployed wallets, on VCDM 1.1 and 2.0 credentials.

The "create verify hash" of the 2018 suite (URDNA2015 of the proof options under the
document's @context, then of the document; SHA-256 each, options first), signed with Ed25519
directly: `proofValue` is the signature in multibase base58btc ('z'), no JWS."""

from __future__ import annotations

import copy
from typing import Any, ClassVar

from credentials.encoding import multibase_decode, multibase_encode
from credentials.errors import MalformedCredential, SignatureMismatch
from credentials.keys import Signer
from credentials.suites import register
from credentials.suites.base import KeyResolver
from credentials.suites.data_integrity import (
    proof_options,
    require_known_contexts,
    resolve_ed25519,
)
from credentials.suites.ld_2018 import Ed25519Signature2018

SUITE_CONTEXT = "https://w3id.org/security/suites/ed25519-2020/v1"


class Ed25519Signature2020(Ed25519Signature2018):
    name = proof_type = "Ed25519Signature2020"
    value_keys: ClassVar[tuple[str, ...]] = ("proofValue",)

    def secure(self, credential: dict, signer: Signer, **options: Any) -> dict:
        """The credential with the suite's context added when absent, and its proof."""
        if not isinstance(credential, dict) or "proof" in credential:
            raise MalformedCredential("expected an unsecured credential (a JSON object without "
                                      "proof)")
        document = copy.deepcopy(credential)
        context = document.get("@context")
        entries = context if isinstance(context, list) else [context]
        if SUITE_CONTEXT not in entries:
            document["@context"] = [*entries, SUITE_CONTEXT]
        proof = proof_options(self.proof_type, signer, **options)
        proof["proofValue"] = multibase_encode(
            signer.sign(self.create_verify_data(document, proof)))
        return {**document, "proof": proof}

    def verify_proof(self, document: dict, proof: dict, keys: KeyResolver) -> None:
        proof_value = proof.get("proofValue")
        if not isinstance(proof_value, str) or not proof_value.startswith("z"):
            raise MalformedCredential("proofValue must be a multibase base58btc string ('z...')")
        try:
            signature = multibase_decode(proof_value)
        except ValueError as exc:
            raise MalformedCredential(f"proofValue: {exc}") from None
        require_known_contexts(document["@context"])
        key = resolve_ed25519(keys, proof.get("verificationMethod"))
        if len(signature) != 64 or not key.verify(signature,
                                                  self.create_verify_data(document, proof)):
            raise SignatureMismatch("signature does not verify")


register(Ed25519Signature2020())
