"""What the rest of the service calls to secure credentials: the small front of the engine.

`passports` and `wallet` use these functions and never touch a suite, a key or a crypto
library directly."""

from __future__ import annotations

from credentials.key_store import NoSigningKey, ensure_key, signer_for, signing_log_batch
from credentials.keys import Signer
from credentials.suites import get_suite

__all__ = ["NoSigningKey", "as_did_key", "decode_jwt_parts", "envelope", "secure_embedded",
           "secure_jwt", "secure_sd_jwt", "signer_for", "es256_signer_for", "signing_log_batch"]


def es256_signer_for(did: str) -> Signer:
    """`did`'s P-256 signer, its key made on first use: what EU wallets verify (HAIP 1.0
    requires ES256; EdDSA support among wallets is rare)."""
    ensure_key(did, "P-256")
    return signer_for(did, "P-256")


class _DidKeySigner:
    """A signer under its key's did:key verification method (did:key:z...#z...)."""

    def __init__(self, signer: Signer):
        from credentials.dids import did_key_for, did_key_verification_method

        self._signer = signer
        self.key_type = signer.key_type
        self.verification_method = did_key_verification_method(
            did_key_for(signer.public_key()))

    def sign(self, data: bytes) -> bytes:
        return self._signer.sign(data)

    def public_key(self):
        return self._signer.public_key()


def as_did_key(signer: Signer) -> Signer:
    """`signer`'s key named by its did:key: what peers resolving only did:key can verify."""
    return _DidKeySigner(signer)


def secure_jwt(credential: dict, signer: Signer) -> str:
    """The credential secured as `vc+jwt` (VC-JOSE-COSE enveloping proof): a compact JWT."""
    return get_suite("vc+jwt").secure(credential, signer)


def secure_embedded(credential: dict, signer: Signer,
                    cryptosuite: str = "eddsa-rdfc-2022") -> dict:
    """The credential with a Data Integrity proof embedded."""
    return get_suite(cryptosuite).secure(credential, signer)


def secure_sd_jwt(claims: dict, signer: Signer, **options) -> str:
    """An SD-JWT VC (`dc+sd-jwt`): `disclosable`, `holder_key`, `status`, `iat`, `exp` options
    as credentials.suites.sd_jwt describes."""
    return get_suite("dc+sd-jwt").secure(claims, signer, **options)


def envelope(jwt: str) -> dict:
    """The JSON form of a `vc+jwt`: an EnvelopedVerifiableCredential."""
    return {"@context": ["https://www.w3.org/ns/credentials/v2"],
            "type": "EnvelopedVerifiableCredential",
            "id": f"data:application/vc+jwt,{jwt}"}


def decode_jwt_parts(jwt: str) -> tuple[dict, dict]:
    """(header, payload) of a compact JWT, unverified: for display only."""
    from core.json_limits import loads
    from credentials.encoding import b64url_decode

    header, payload, _ = jwt.split(".")
    return loads(b64url_decode(header)), loads(b64url_decode(payload))
