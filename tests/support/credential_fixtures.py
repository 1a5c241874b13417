"""Shared test data for the credential engine: the UNTP battery passport, made fully defined by a
small extension context, and the W3C test-vector key."""

from __future__ import annotations

import copy
import json
from functools import cache
from pathlib import Path

from credentials import contexts, status_fetcher
from credentials.dids import did_key_for, did_key_verification_method
from credentials.encoding import multibase_decode
from credentials.errors import CredentialError
from credentials.keys import LocalSigner

VECTORS = Path(__file__).resolve().parent.parent / "vectors"

CREDENTIALS_V1 = "https://www.w3.org/2018/credentials/v1"
CREDENTIALS_V2 = "https://www.w3.org/ns/credentials/v2"
EXAMPLES_V2 = "https://www.w3.org/ns/credentials/examples/v2"
UNTP_CONTEXT = "https://vocabulary.uncefact.org/untp/0.7.0/context/"
# Defines what UNTP 0.7.0 leaves undefined in its battery sample (docs/architecture.md, Vocabulary).
EXTENSION_CONTEXT = "https://w3id.org/dpp-wallet/contexts/test-battery/v1"

# The W3C vc-di-eddsa test vectors' key (keyPair.json) and its did:key verification method.
VECTOR_DID = "did:key:z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2"
VECTOR_METHOD = f"{VECTOR_DID}#z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2"


def load_text(relative: str) -> str:
    return (VECTORS / relative).read_text(encoding="utf-8")


def load_json(relative: str):
    return json.loads(load_text(relative))


@cache
def _extension_context() -> dict:
    return load_json("untp-extension-context.jsonld")


def register_extension_context() -> None:
    """Idempotent: registering the same object again would needlessly empty the engine's
    context caches."""
    if not getattr(register_extension_context, "done", False):
        contexts.register(EXTENSION_CONTEXT, _extension_context())
        register_extension_context.done = True


def battery_passport() -> dict:
    """UNTP's battery DPP sample as an unsigned VCDM 2.0 credential, extension context third."""
    register_extension_context()
    passport = load_json("untp-0.7.0/DigitalProductPassport_battery_instance.json")
    for key in ("proof", "jwt"):
        passport.pop(key, None)
    rest = [c for c in passport["@context"] if c not in (CREDENTIALS_V2, UNTP_CONTEXT)]
    passport["@context"] = [CREDENTIALS_V2, UNTP_CONTEXT, EXTENSION_CONTEXT, *rest]
    return passport


def battery_passport_v1(*, inline_contexts: bool = False) -> dict:
    """The same data as a VCDM 1.1 credential (for Ed25519Signature2018 and didkit): v1 context,
    issuanceDate/expirationDate, and `name`, which v2 defines and v1 does not, defined inline.
    With `inline_contexts`, the UNTP and extension contexts are embedded as objects, for
    processors that cannot load them (didkit)."""
    passport = battery_passport()
    passport["issuanceDate"] = passport.pop("validFrom")
    passport["expirationDate"] = passport.pop("validUntil")
    untp, extension = UNTP_CONTEXT, EXTENSION_CONTEXT
    if inline_contexts:
        untp = copy.deepcopy(contexts.load(UNTP_CONTEXT)["@context"])
        extension = copy.deepcopy(_extension_context()["@context"])
    passport["@context"] = [CREDENTIALS_V1, untp, extension, {"name": "https://schema.org/name"}]
    return passport


def vector_signer(verification_method: str = VECTOR_METHOD) -> LocalSigner:
    """The W3C test-vector key (privateKeyMultibase is multicodec 0x8026 + 32-byte seed)."""
    private = multibase_decode(load_json("eddsa-rdfc-2022/keyPair.json")["privateKeyMultibase"])
    assert private[:2] == b"\x80\x26" and len(private) == 34
    return LocalSigner.from_ed25519_seed(private[2:], verification_method)


class Network:
    """The world outside this machine for status lists: URL -> body, counting fetches
    (status_fetcher.fetch_text_https, the network edge, replaced)."""

    def __init__(self, monkeypatch):
        self.bodies: dict[str, str] = {}
        self.fetches: list[str] = []
        monkeypatch.setattr(status_fetcher, "fetch_text_https", self.fetch)

    def fetch(self, url, *, accept, max_bytes=None):
        self.fetches.append(url)
        if url not in self.bodies:
            raise CredentialError(f"{url} answered 404", code="status_unavailable")
        return self.bodies[url]


def did_key_signer(key_type: str = "Ed25519") -> LocalSigner:
    key = LocalSigner.generate("", key_type)
    method = did_key_verification_method(did_key_for(key.public_key()))
    return LocalSigner.from_private_bytes(key.private_bytes(), method)
