"""Key lifecycle: create, rotate, load a signer, re-wrap under a new encryption key.

The rest of the service asks for `signer_for(did)` and never sees private key bytes."""

from __future__ import annotations

from contextlib import contextmanager
from contextvars import ContextVar
from datetime import datetime
from functools import lru_cache

from cryptography.exceptions import InvalidTag
from django.conf import settings
from django.db import connections, transaction
from django.utils import timezone

from core.bulk import execute_arrays
from credentials.encoding import P256_PUB, decode_multikey, ed25519_multikey, multibase_encode
from credentials.keys import (
    CompromisedKey,
    LocalSigner,
    PublicKey,
    encryption_key_from_text,
    signature_digest,
    unwrap_private_key,
    wrap_private_key,
)
from credentials.models import KeyPair, SignatureRecord


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


def signer_for(controller: str, key_type: str = "Ed25519") -> LoggedSigner:
    """The signer of `controller`'s active key of `key_type` (Ed25519 signs EdDSA, P-256
    ES256). Every signature it makes is written to the signing log."""
    key = KeyPair.objects.filter(controller=controller, key_type=key_type,
                                 retired_at=None).first()
    if key is None:
        raise NoSigningKey(f"{controller} has no active {key_type} signing key")
    return LoggedSigner(_signer(key.pk, key.verification_method, bytes(key.wrapped_private_key),
                                settings.KEY_ENCRYPTION_KEY), key.pk)


class LoggedSigner:
    """A key's signer that logs each signature (SignatureRecord) on the database connection
    in use, so the log entry commits or rolls back with whatever the signature secured."""

    def __init__(self, signer: LocalSigner, key_pk: int):
        self._signer = signer
        self.key_pk = key_pk
        self.key_type = signer.key_type
        self.verification_method = signer.verification_method

    def sign(self, data: bytes) -> bytes:
        signature = self._signer.sign(data)
        _log_signature(self.key_pk, signature)
        return signature

    def public_key(self) -> PublicKey:
        return self._signer.public_key()

    def unlogged(self) -> LocalSigner:
        """The signer itself, for what needs the key object and is no credential: building an
        X.509 certificate (credentials.x509). What it signs is not in the signing log."""
        return self._signer

    def __repr__(self) -> str:
        return f"<LoggedSigner {self.key_type} {self.verification_method}>"


# Signatures made inside `signing_log_batch()`: written together when it ends.
_batch: ContextVar[list | None] = ContextVar("signing_log_batch", default=None)


@contextmanager
def signing_log_batch():
    """Log the signatures made inside it in one pipelined statement when it ends (bulk
    signing: issuance and re-signing chunks). Use it inside the transaction that stores what
    was signed, so the log commits with it; on an exception nothing is written."""
    if _batch.get() is not None:  # nested: the outer batch writes
        yield
        return
    token = _batch.set([])
    try:
        yield
        rows = _batch.get()
    finally:
        _batch.reset(token)
    _write_log(rows)


def _log_signature(key_pk: int, signature: bytes) -> None:
    row = (key_pk, signature_digest(signature), timezone.now())
    batch = _batch.get()
    if batch is None:
        _write_log([row])
    else:
        batch.append(row)


def _write_log(rows: list[tuple]) -> None:
    # Plain SQL: this runs for every signature, and the ORM's insert costs more than the row.
    # On PostgreSQL one INSERT of the rows as arrays (a chunk's thousands of signatures in one
    # statement, not one statement each); elsewhere executemany.
    if not rows:
        return
    connection = connections[SignatureRecord.objects.db]
    table = connection.ops.quote_name(SignatureRecord._meta.db_table)
    signed_at = SignatureRecord._meta.get_field("signed_at")
    params = [(key_pk, digest, signed_at.get_db_prep_save(moment, connection))
              for key_pk, digest, moment in rows]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql" and len(params) > 1:
            execute_arrays(connection, f"INSERT INTO {table} (key_id, digest, signed_at) "  # noqa: S608
                           f"SELECT * FROM unnest(%b::bigint[], %b::bytea[], "
                           f"%b::timestamptz[])",
                           [list(column) for column in zip(*params, strict=True)])
            return
        cursor.executemany(f"INSERT INTO {table} (key_id, digest, signed_at) "  # noqa: S608
                           f"VALUES (%s, %s, %s)", params)


def logged_signature_time(key_pk: int, signature: bytes) -> datetime | None:
    """When key `key_pk` made `signature`, by the signing log; None when it did not."""
    return (SignatureRecord.objects.filter(key_id=key_pk, digest=signature_digest(signature))
            .order_by("signed_at").values_list("signed_at", flat=True).first())


def public_key_for_verification(key: KeyPair) -> PublicKey:
    """The key as the verifier uses it: a compromised one checks each signature against the
    signing log (CompromisedKey)."""
    public = public_key_of(key)
    if key.compromised_at is None:
        return public
    return CompromisedKey(public.key_type, public.raw, public.id,
                          compromised_at=key.compromised_at, reason=key.compromise_reason,
                          signed_at=lambda signature: logged_signature_time(key.pk, signature))


@transaction.atomic
def rotate_keys(controller: str) -> list[KeyPair]:
    """A new active key for each key type `controller` signs with; the old ones are retired
    and keep verifying what they signed."""
    active = list(KeyPair.objects.select_for_update()
                  .filter(controller=controller, retired_at=None).order_by("key_type"))
    if not active:
        raise NoSigningKey(f"{controller} has no active signing key")
    return [create_key(controller, key_type=key.key_type) for key in active]


@transaction.atomic
def declare_compromise(controller: str, *, since: datetime, reason: str) -> tuple[
        list[KeyPair], list[KeyPair]]:
    """Mark every key of `controller` that existed at `since` as compromised from then on
    (an active key and a retired one alike: whoever took one from the key store could take
    them all), and give each key type that signed a new active key. A key already compromised
    keeps its earlier time. Returns (keys compromised now, new keys)."""
    keys = list(KeyPair.objects.select_for_update().filter(controller=controller)
                .order_by("created_at", "id"))
    hit = [key for key in keys if key.compromised_at is None and key.created_at <= since]
    if not hit:
        raise NoSigningKey(f"{controller} has no key that existed on {since.isoformat()} and is "
                           f"not already compromised")
    now = timezone.now()
    active_types = sorted({key.key_type for key in hit if key.retired_at is None})
    for key in hit:
        key.compromised_at, key.compromise_reason = since, reason
        key.retired_at = key.retired_at or now
        key.save(update_fields=["compromised_at", "compromise_reason", "retired_at"])
    return hit, [create_key(controller, key_type=key_type) for key_type in active_types]


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
