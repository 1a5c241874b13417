"""The one interface every proof suite implements, and what verification returns."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar, Protocol

from credentials.keys import PublicKey, Signer


class KeyResolver(Protocol):
    """Finds the public key behind a verification-method id (a DID URL). Raises
    credentials.errors.KeyResolutionError when it cannot."""

    def public_key(self, verification_method: str) -> PublicKey: ...


@dataclass
class ProofResult:
    """What a suite found. `ok` is about the proof only; the verifier adds issuer, dates, status
    and schema checks on top."""

    ok: bool
    format: str
    credential: dict | None = None  # the decoded credential (or presentation), envelope removed
    verification_method: str | None = None
    errors: list[str] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)  # suite-specific (headers, disclosures)

    @classmethod
    def failed(cls, format: str, error: str, **kwargs) -> ProofResult:
        return cls(ok=False, format=format, errors=[error], **kwargs)


class ProofSuite(ABC):
    """Secures a credential with a signer and verifies a secured one with a key resolver.

    `secure` returns what goes on the wire: a dict (embedded proof or envelope) or a compact
    string (JWT, SD-JWT). `verify` never raises for bad input: it returns a failed ProofResult
    naming the reason."""

    name: ClassVar[str]

    @abstractmethod
    def secure(self, credential: dict, signer: Signer, **options: Any) -> dict | str: ...

    @abstractmethod
    def verify(self, secured: dict | str, keys: KeyResolver, *, now: datetime | None = None,
               **options: Any) -> ProofResult: ...

    def recognises(self, secured: dict | str) -> bool:
        """Whether this suite is the one to verify `secured` (used by the verifier's dispatch)."""
        return False
