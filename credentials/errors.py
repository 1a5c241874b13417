"""Typed errors of the credential engine. Each has a stable `code` that APIs pass on."""


class CredentialError(Exception):
    code = "credential_error"

    def __init__(self, detail: str, *, code: str | None = None):
        super().__init__(detail)
        self.detail = detail
        if code:
            self.code = code


class MalformedCredential(CredentialError):
    code = "malformed"


class UnknownContext(CredentialError):
    code = "unknown_context"


class UndefinedTerms(CredentialError):
    """pyld drops terms its contexts do not define; we refuse to sign or verify such documents."""

    code = "undefined_terms"

    def __init__(self, terms: list[str]):
        self.terms = sorted(set(terms))
        super().__init__("terms not defined by any @context: " + ", ".join(self.terms))


class KeyResolutionError(CredentialError):
    """The key behind a verification method could not be found. The proof was not checked:
    nothing is known about the data's integrity."""

    code = "key_resolution"


class KeyNotFound(KeyResolutionError):
    """The issuer's DID was resolved, but its document has no such key for this use."""

    code = "key_not_found"


class DidNotResolved(KeyResolutionError):
    """The issuer's DID document could not be obtained (unknown here, unreachable, refused,
    not a DID document)."""

    code = "did_not_resolved"


class ProofInvalid(CredentialError):
    code = "proof_invalid"


class SignatureMismatch(ProofInvalid):
    """The key was found and the signature does not match the signed data: the data or the
    signature was changed, or another key signed it."""

    code = "signature_invalid"


class KeyCompromised(ProofInvalid):
    """The signature matches, but its key was declared compromised and the signature cannot be
    shown to predate the compromise (docs/keys.md)."""

    code = "key_compromised"
