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
    code = "key_resolution"


class ProofInvalid(CredentialError):
    code = "proof_invalid"
