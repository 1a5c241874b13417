"""Proof sets and proof chains (VC Data Integrity 1.0 §2.1.1, §2.1.2, §4.5): a document whose
`proof` is a list. Every proof must verify with its own suite; a proof naming `previousProof`
signs the document together with the proofs it names, which must all be in the set.

ACA-Py writes even a single proof as a list of one, so this is also how its credentials are
read."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from core.outages import unavailable_service
from credentials.errors import CredentialError, MalformedCredential, ProofInvalid
from credentials.suites import ProofResult, all_suites, register
from credentials.suites.base import KeyResolver, ProofSuite
from credentials.suites.data_integrity import (
    EmbeddedProofSuite,
    check_proof_claims,
    context_list,
    is_presentation,
)

FORMAT = "proof-set"


class ProofSet(ProofSuite):
    name = FORMAT

    def recognises(self, secured: dict | str) -> bool:
        return isinstance(secured, dict) and isinstance(secured.get("proof"), list)

    def secure(self, credential: dict, signer, **options: Any) -> dict:
        raise NotImplementedError("a proof set is made by adding proofs one suite at a time")

    def verify(self, secured: dict | str, keys: KeyResolver, *, now: datetime | None = None,
               purpose: str | None = None, challenge: str | None = None,
               domain: str | None = None, **_ignored: Any) -> ProofResult:
        try:
            document, proofs = _split(secured)
            for proof in proofs:
                document_signed = _with_previous_proofs(document, proof, proofs)
                check_proof_claims(proof, document, now=now, purpose=purpose,
                                   challenge=challenge, domain=domain)
                _verify_one(_suite_for(document, proof), document_signed, proof, keys)
        except CredentialError as exc:
            return ProofResult.failed(FORMAT, exc.detail, details={"code": exc.code})
        except Exception as exc:  # noqa: BLE001 - bad input must give a reason, not a crash
            if unavailable_service(exc):
                raise
            return ProofResult.failed(FORMAT, f"cannot verify: {type(exc).__name__}: {exc}")
        details = {"proofs": [{k: v for k, v in proof.items()
                               if k not in ("proofValue", "jws")} for proof in proofs]}
        if is_presentation(document):
            inner = document.get("verifiableCredential") or []
            details["credentials"] = inner if isinstance(inner, list) else [inner]
            details["holder"] = document.get("holder")
        return ProofResult(ok=True, format=FORMAT, credential=document,
                           verification_method=_issuer_method(document, proofs),
                           details=details)


def _split(secured: Any) -> tuple[dict, list[dict]]:
    if not isinstance(secured, dict):
        raise MalformedCredential("a secured document must be a JSON object")
    proofs = secured.get("proof")
    if not isinstance(proofs, list) or not proofs or \
            not all(isinstance(proof, dict) for proof in proofs):
        raise MalformedCredential("proof must be an object or a non-empty list of objects")
    document = {key: value for key, value in secured.items() if key != "proof"}
    if not context_list(document.get("@context")):
        raise MalformedCredential("@context must be a URL or a non-empty list")
    return document, proofs


def _with_previous_proofs(document: dict, proof: dict, proofs: list[dict]) -> dict:
    """§4.5 step 3.3: the document a chained proof signed carries the proofs it names."""
    previous = proof.get("previousProof")
    if previous is None:
        return document
    names = [previous] if isinstance(previous, str) else previous
    if not isinstance(names, list) or not names or \
            not all(isinstance(name, str) for name in names):
        raise MalformedCredential("previousProof must be a string or a list of strings")
    by_id = {other.get("id"): other for other in proofs if other is not proof}
    missing = [name for name in names if name not in by_id]
    if missing:
        raise ProofInvalid(f"previousProof names no proof of the set: {', '.join(missing)} "
                           "(PROOF_VERIFICATION_ERROR)")
    matching = [by_id[name] for name in names]
    return {**document, "proof": matching[0] if len(matching) == 1 else matching}


def _suite_for(document: dict, proof: dict) -> EmbeddedProofSuite:
    single = {**document, "proof": proof}
    for suite in all_suites().values():
        if isinstance(suite, EmbeddedProofSuite) and suite.recognises(single):
            return suite
    raise MalformedCredential(f"unsupported proof in the set: type {proof.get('type')!r}, "
                              f"cryptosuite {proof.get('cryptosuite')!r}")


def _verify_one(suite: EmbeddedProofSuite, document: dict, proof: dict,
                keys: KeyResolver) -> None:
    """The proof over `document`; a chained proof's previous proofs may have been signed as one
    object or as a list of one (implementations differ), so both are tried."""
    try:
        suite.verify_proof(document, proof, keys)
    except CredentialError:
        previous = document.get("proof")
        if not isinstance(previous, dict):
            raise
        suite.verify_proof({**document, "proof": [previous]}, proof, keys)


def _issuer_method(document: dict, proofs: list[dict]) -> str | None:
    """The verification method of the issuer's (or holder's) proof, for the issuer check."""
    party = document.get("holder" if is_presentation(document) else "issuer")
    party = party.get("id") if isinstance(party, dict) else party
    methods = [proof.get("verificationMethod") for proof in proofs]
    for method in methods:
        if isinstance(method, str) and method.split("#", 1)[0] == party:
            return method
    return methods[0]


register(ProofSet())
