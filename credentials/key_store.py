"""Key lifecycle: create, rotate, load a signer, re-wrap under a new encryption key.

The rest of the service asks for `signer_for(did)` and never sees private key bytes."""

from __future__ import annotations

from functools import lru_cache

from cryptography.exceptions import InvalidTag
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from credentials.encoding import P256_PUB, decode_multikey, ed25519_multikey, multibase_encode
from credentials.keys import (
    LocalSigner,
    PublicKey,
    encryption_key_from_text,
    unwrap_private_key,
    wrap_private_key,
)
from credentials.models import KeyPair


class NoSigningKey(LookupError):
    pass


def _encryption_key() -> bytes:
    return encryption_key_from_text(settings.KEY_ENCRYPTION_KEY)


def _public_multibase(public: PublicKey) -> str:
    if public.key_type == "Ed25519":
        return ed25519_multikey(public.raw)
    return multibase_encode(P256_PUB + public.raw)


@transaction.atomic
def create_key(controller: str, *, key_type: str = "Ed25519") -> KeyPair:
    """A new active key of `key_type` for `controller`; an existing active key of that type is
    retired (rotation)."""
    existing = list(KeyPair.objects.select_for_update().filter(controller=controller))
    KeyPair.objects.filter(controller=controller, key_type=key_type, retired_at=None).update(
        retired_at=timezone.now())
    key_id = f"key-{len(existing) + 1}"
    signer = LocalSigner.generate(f"{controller}#{key_id}", key_type=key_type)
    key = KeyPair(
        controller=controller,
        key_id=key_id,
        key_type=key_type,
        public_key_multibase=_public_multibase(signer.public_key()),
        wrapped_private_key=wrap_private_key(
            signer.private_bytes(), _encryption_key(),
            associated=signer.verification_method.encode()),
    )
    key.full_clean(exclude=["wrapped_private_key"])
    key.save()
    return key


rotate_key = create_key


# What a DID of ours signs with: EdDSA (vc+jwt, Data Integrity, status lists) and ES256 (SD-JWT
# VCs for EU wallets, HAIP 1.0). A DID gets both at once, so its document lists every key it
# will sign with before the first signature: a verifier holding a cached copy of the document
# (did.json may be cached for minutes) still finds the key.
DID_KEY_TYPES = (KeyPair.KeyType.ED25519, KeyPair.KeyType.P256)


def ensure_key(controller: str, key_type: str = "Ed25519") -> KeyPair:
    """`controller`'s active key of `key_type`, made when there is none; for a DID, every key
    type of DID_KEY_TYPES is made with it."""
    active = {key.key_type: key for key in
              KeyPair.objects.filter(controller=controller, retired_at=None)}
    wanted = DID_KEY_TYPES if controller.startswith("did:") else ()
    for missing in [key_type, *(t for t in wanted if t != key_type)]:
        if missing not in active:
            active[missing] = create_key(controller, key_type=missing)
    return active[key_type]


def complete_did_key_sets() -> int:
    """Give every DID of ours the key types it lacks (DIDs made before a type was added):
    run after migrating, so the keys are published before anything is signed with them."""
    dids = (KeyPair.objects.filter(controller__startswith="did:", retired_at=None)
            .values_list("controller", "key_type"))
    held: dict[str, set[str]] = {}
    for did, key_type in dids:
        held.setdefault(did, set()).add(key_type)
    made = 0
    for did, types in held.items():
        for key_type in DID_KEY_TYPES:
            if key_type not in types:
                create_key(did, key_type=key_type)
                made += 1
    return made


def signer_for(controller: str, key_type: str = "Ed25519") -> LocalSigner:
    """The signer of `controller`'s active key of `key_type` (Ed25519 signs EdDSA, P-256
    ES256)."""
    key = KeyPair.objects.filter(controller=controller, key_type=key_type,
                                 retired_at=None).first()
    if key is None:
        raise NoSigningKey(f"{controller} has no active {key_type} signing key")
    return _signer(key.pk, key.verification_method, bytes(key.wrapped_private_key),
                   settings.KEY_ENCRYPTION_KEY)


@lru_cache(maxsize=256)
def _signer(pk: int, verification_method: str, wrapped: bytes, kek_text: str) -> LocalSigner:
    # Cached per process: bulk issuance signs thousands of times with one key. The cache key
    # includes the wrapped bytes and the KEK, so a rotation or re-wrap never serves a stale key.
    der = unwrap_private_key(wrapped, encryption_key_from_text(kek_text),
                             associated=verification_method.encode())
    return LocalSigner.from_private_bytes(der, verification_method)


def public_key_of(key: KeyPair) -> PublicKey:
    key_type, raw = decode_multikey(key.public_key_multibase)
    return PublicKey(key_type, raw, key.verification_method)


@transaction.atomic
def rewrap_all_keys(old_text: str, new_text: str) -> int:
    """Re-encrypt every private key under a new KEY_ENCRYPTION_KEY. All or nothing."""
    old, new = encryption_key_from_text(old_text), encryption_key_from_text(new_text)
    count = 0
    for key in KeyPair.objects.select_for_update().order_by("pk"):
        associated = key.verification_method.encode()
        der = unwrap_private_key(bytes(key.wrapped_private_key), old, associated=associated)
        key.wrapped_private_key = wrap_private_key(der, new, associated=associated)
        key.save(update_fields=["wrapped_private_key"])
        count += 1
    _signer.cache_clear()
    return count


def keys_opening(kek_text: str) -> tuple[int, list[str]]:
    """(how many private keys there are, the verification methods of those that do not
    unwrap under `kek_text`): what a restored key store is checked with."""
    encryption_key = encryption_key_from_text(kek_text)
    count, failed = 0, []
    for key in KeyPair.objects.order_by("pk").iterator(chunk_size=500):
        count += 1
        try:
            unwrap_private_key(bytes(key.wrapped_private_key), encryption_key,
                               associated=key.verification_method.encode())
        except InvalidTag:
            failed.append(key.verification_method)
    return count, failed
