"""Status lists in the database: allocating entries (issue time), recording changes (revoke,
suspend, reinstate) and publishing the signed lists that /status/<uuid> serves.

Allocation takes one row lock per list and hands out a block of indexes at once, so bulk
issuance allocates thousands of entries in one UPDATE, and two workers never share an index.

A change is a `StatusChange` row written in the caller's transaction, next to the state change
that decided it: no list lock, so many requests revoke at once. After commit, one publication
per list is scheduled a moment later (`COALESCE_SECONDS`), guarded by a cache key, so a burst of
changes costs one re-signing per list. The publisher folds the pending changes into the bits
under the list's row lock and deletes exactly the rows it applied, in one transaction: two
publishers of one list queue on the lock, and a change is either pending or in the bits, never
lost. A periodic sweep (`status_lists_publish_due`) catches what a lost task would leave behind,
and re-signs lists before their signature expires."""

from __future__ import annotations

import functools
import hashlib
import logging
import os
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from core import hot_queries
from core.bulk import any_of, insert_rows
from core.enqueue import enqueue
from core.outages import best_effort
from core.times import iso8601 as _iso
from credentials import jose
from credentials.errors import CredentialError
from credentials.key_store import signer_for
from credentials.keys import Signer
from credentials.models import StatusChange, StatusList
from credentials.signing import (
    decode_jwt_parts,
    envelope,
    es256_signer_for,
    secure_embedded,
    secure_jwt,
)
from credentials.status_list import Bitstring, TokenStatus, TokenStatusList

log = logging.getLogger(__name__)

LIST_SIZE = 2**17  # 131,072 entries: the minimum W3C recommends for herd privacy
TOKEN_BITS = 2  # valid / invalid / suspended
_ROUNDS = 4
STATUS_PATH = "/status/"

# Publication. A change is re-signed COALESCE_SECONDS after the first change of a burst; the
# sweep runs every few seconds (settings.CELERY_BEAT_SCHEDULE) and republishes changes older
# than STALE_AFTER, so the published lists lag the database by at most ~5 s even when a task
# was lost.
COALESCE_SECONDS = 1.0
SCHEDULED_KEY_SECONDS = 10  # a lost task frees its list for a new schedule after this
STALE_AFTER = timedelta(seconds=3)
# How long verifiers and CDNs may cache a list (Cache-Control max-age, `ttl`): short, so every
# verifier sees a revocation within seconds, long enough for a CDN to absorb the read load.
TTL_SECONDS = 5
VALIDITY = timedelta(days=1)  # validUntil / exp of a signed list
REFRESH_AFTER = timedelta(hours=12)  # re-sign unchanged lists well before they expire
APPLY_BATCH = 1000  # changes deleted per statement
_MEMO_SECONDS = 0.5  # per-process memo of published lists (the /status/ read path): one
# small query per list and half-second per process, whatever the request rate

BITSTRING_CONTEXT = "https://www.w3.org/ns/credentials/v2"
STATUSLIST_JWT_TYP = "statuslist+jwt"


class StatusChangeRefused(CredentialError):
    code = "status_change_refused"


# --- allocation --------------------------------------------------------------------------------

def permuted_index(key: bytes, counter: int, size: int) -> int:
    """A keyed pseudo-random permutation of range(size) (a Feistel network over the next even
    number of bits, cycle-walking back into range). Unique for unique counters, unguessable
    without the list's key."""
    return _Permutation(key, size).index(counter)


class _Permutation:
    """permuted_index for one key, with its HMAC-SHA256 round functions (RFC 2104) keyed once:
    the inner hash has absorbed key XOR ipad and the round number, the outer key XOR opad, and
    each call copies them. The same outputs as hmac.digest (allocated indexes depend on them),
    at a fraction of the cost: allocation computes a million of them for a large import."""

    def __init__(self, key: bytes, size: int):
        self.size = size
        self.half_bits = ((size - 1).bit_length() + 1) // 2
        self.mask = (1 << self.half_bits) - 1
        block = (hashlib.sha256(key).digest() if len(key) > 64 else key).ljust(64, b"\0")
        self.outer = hashlib.sha256(bytes(byte ^ 0x5C for byte in block))
        self.inner = []
        for round_number in range(_ROUNDS):
            inner = hashlib.sha256(bytes(byte ^ 0x36 for byte in block))
            inner.update(bytes([round_number]))
            self.inner.append(inner)

    def index(self, counter: int) -> int:
        half_bits, mask, outer = self.half_bits, self.mask, self.outer
        value = counter
        while True:
            left, right = value >> half_bits, value & mask
            for keyed in self.inner:
                inner = keyed.copy()
                inner.update(right.to_bytes(4, "big"))
                digest = outer.copy()
                digest.update(inner.digest())
                left, right = right, left ^ (int.from_bytes(digest.digest()[:4], "big") & mask)
            value = (left << half_bits) | right
            if value < self.size:
                return value


def _new_list(issuer: str, kind: str, purpose: str) -> StatusList:
    bits = TOKEN_BITS if kind == StatusList.Kind.TOKEN else 1
    return StatusList.objects.create(
        id=uuid.uuid4(), issuer=issuer, kind=kind, purpose=purpose, size=LIST_SIZE,
        bits_per_entry=bits, statuses=bytes(LIST_SIZE * bits // 8),
        permutation_key=os.urandom(32))


@transaction.atomic
def allocate(issuer: str, *, kind: str = StatusList.Kind.BITSTRING,
             purpose: str = StatusList.Purpose.REVOCATION,
             count: int = 1) -> list[tuple[StatusList, int]]:
    """`count` fresh (list, index) pairs for `issuer`; opens a new list when one fills."""
    entries: list[tuple[StatusList, int]] = []
    while len(entries) < count:
        # NO KEY UPDATE: rows referencing the list (passports, changes) can still be written.
        status_list = (StatusList.objects.select_for_update(no_key=True)
                       .filter(issuer=issuer, kind=kind, purpose=purpose,
                               allocated__lt=LIST_SIZE)
                       .order_by("created_at").first())
        if status_list is None:
            _new_list_unless_opened(issuer, kind, purpose)
            continue
        take = min(count - len(entries), status_list.size - status_list.allocated)
        permutation = _Permutation(bytes(status_list.permutation_key), status_list.size)
        start = status_list.allocated
        entries += [(status_list, permutation.index(n)) for n in range(start, start + take)]
        status_list.allocated = start + take
        status_list.save(update_fields=["allocated"])
    return entries


def _new_list_unless_opened(issuer: str, kind: str, purpose: str) -> None:
    """Open a list for `issuer`, unless another transaction opened one meanwhile. On
    PostgreSQL, transactions that find no list with room queue on a lock of the issuer's
    lists (held to their end) and look again once they hold it: two workers issuing an
    issuer's first passports at the same moment opened a list each, so its passports were
    spread over two lists (a verifier fetches both) and each list held half its herd."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))",
                           [f"status-lists:{issuer}:{kind}:{purpose}"])
        if StatusList.objects.filter(issuer=issuer, kind=kind, purpose=purpose,
                                     allocated__lt=LIST_SIZE).exists():
            return
    _new_list(issuer, kind, purpose)


def status_list_url(list_id) -> str:
    return f"{settings.PUBLIC_BASE_URL}{STATUS_PATH}{list_id}"


# --- recording changes -------------------------------------------------------------------------

def status_change(list_id, index: int, value: int) -> None:
    """Record that entry `index` of list `list_id` becomes `value` (see status_changes)."""
    status_changes([(list_id, index, value)])


def status_changes(changes: Iterable[tuple]) -> None:
    """Record (list_id, index, value) changes in the caller's transaction; after commit, each
    list's publication is scheduled (coalesced). Values are absolute (1 = set for a bitstring,
    a TokenStatus for a token list) and applied in the order recorded, so callers record the
    change in the transaction that changes (and locks) the credential's own state."""
    changes = [(uuid.UUID(str(list_id)), index, int(value)) for list_id, index, value in changes]
    if not changes:
        return
    lists = {row[0]: row[1:] for row in StatusList.objects.filter(
        any_of("pk", {list_id for list_id, _, _ in changes})).values_list("pk", "size",
                                                                     "bits_per_entry")}
    for list_id, index, value in changes:
        if list_id not in lists:
            raise StatusChangeRefused(f"no status list {list_id}", code="status_unknown")
        size, bits = lists[list_id]
        if not 0 <= index < size or not 0 <= value < (1 << bits):
            raise StatusChangeRefused(f"entry {index} := {value} does not fit list {list_id}",
                                      code="status_entry_invalid")
    insert_rows(StatusChange, [{"status_list_id": list_id, "index": index, "value": value}
                               for list_id, index, value in changes])
    list_ids = sorted({str(list_id) for list_id, _, _ in changes})
    transaction.on_commit(lambda: schedule_publication(list_ids))


def _scheduled_key(list_id) -> str:
    return f"status-list:scheduled:{list_id}"


def schedule_publication(list_ids: Iterable) -> None:
    """Enqueue one delayed publication per list, unless one is already waiting: the cache key
    is taken atomically (SET NX) here and released by the task as it starts, before it reads
    the changes, so every change is read by a publication that starts after it committed.
    Never raises: the changes are committed, and while the cache or the broker is down (no
    coalescing, or no task) the sweep publishes them."""
    from credentials.tasks import publish_status_list

    for list_id in list_ids:
        key = _scheduled_key(list_id)
        if best_effort.add(key, 1, timeout=SCHEDULED_KEY_SECONDS) is False:
            continue  # a publication is already waiting
        if not enqueue(publish_status_list, str(list_id), countdown=COALESCE_SECONDS):
            best_effort.delete(key)  # none is waiting: the next change tries again


def publication_started(list_id) -> None:
    """Called by the task before it publishes: later changes schedule a new publication."""
    best_effort.delete(_scheduled_key(list_id))


# --- token status entries (SD-JWT VCs) -------------------------------------------------------

@dataclass(frozen=True)
class TokenEntry:
    list_id: uuid.UUID
    index: int

    @property
    def uri(self) -> str:
        return status_list_url(self.list_id)

    def reference(self) -> dict:
        """The `status` claim of the referenced token: {"status_list": {"idx", "uri"}}."""
        return {"status_list": {"idx": self.index, "uri": self.uri}}


def token_entry_allocate(issuer: str) -> TokenEntry:
    """A fresh entry in one of `issuer`'s IETF Token Status Lists (2 bits per entry)."""
    status_list, index = allocate(issuer, kind=StatusList.Kind.TOKEN,
                                  purpose=StatusList.Purpose.STATUS)[0]
    return TokenEntry(status_list.pk, index)


@transaction.atomic
def token_status_set(entry: TokenEntry, status: TokenStatus) -> bool:
    """Set a token entry to VALID, SUSPENDED or INVALID (revoked). INVALID is final: anything
    else afterwards is refused (`revoked_is_final`). Returns whether anything changed.

    Takes the list's row lock so two changes of one entry cannot both pass the check."""
    status = TokenStatus(status)
    status_list = (StatusList.objects.select_for_update(no_key=True)
                   .filter(pk=entry.list_id, kind=StatusList.Kind.TOKEN).first())
    if status_list is None:
        raise StatusChangeRefused(f"no token status list {entry.list_id}",
                                  code="status_unknown")
    current = current_status(status_list, entry.index)
    if current == status:
        return False
    if current == TokenStatus.INVALID:
        raise StatusChangeRefused("the credential is revoked; revocation is permanent and "
                                  "cannot be undone", code="revoked_is_final")
    status_change(entry.list_id, entry.index, status)
    return True


def current_status(status_list: StatusList, index: int) -> int:
    """The entry's value now: its last pending change, or its bits."""
    pending = (StatusChange.objects.filter(status_list=status_list, index=index)
               .order_by("-id").values_list("value", flat=True).first())
    if pending is not None:
        return pending
    return list_codec(status_list.kind, bytes(status_list.statuses),
                      status_list.bits_per_entry).get(index)


def list_codec(kind: str, data: bytes, bits: int) -> Bitstring | TokenStatusList:
    if kind == StatusList.Kind.BITSTRING:
        return Bitstring.from_bytes(data)
    return TokenStatusList.from_bytes(data, bits)


def current_codec(list_id, kind: str) -> tuple[StatusList, Bitstring | TokenStatusList] | None:
    """A list with its pending changes applied: what the database knows now (the verifier's
    view of our own lists, ahead of the published list by up to a few seconds).

    The bits and the pending changes must come from one moment: the publisher folds changes
    into the bits and deletes them in one transaction, so bits read before a fold and changes
    read after it show neither, and a revoked credential reads as valid. Each statement has its
    own snapshot (READ COMMITTED), so the changes are read in one statement with the list's
    version, which every fold bumps; if it moved since the bits were read, read again."""
    for _ in range(_CONSISTENT_READ_TRIES):
        status_list = _list_with_bits(StatusList.objects, list_id, kind)
        if status_list is None:
            return None
        version, changes = _pending_changes(list_id)
        if version == status_list.version:
            return status_list, _with_changes(status_list, changes)
    with transaction.atomic():  # folds keep coming: hold them off for two short reads
        status_list = _list_with_bits(StatusList.objects.select_for_update(no_key=True),
                                      list_id, kind)
        if status_list is None:
            return None
        return status_list, _with_changes(status_list, _pending_changes(list_id)[1])


_CONSISTENT_READ_TRIES = 3


def _list_with_bits(queryset, list_id, kind: str) -> StatusList | None:
    return (queryset.filter(pk=list_id, kind=kind)
            .only("issuer", "kind", "purpose", "statuses", "bits_per_entry", "version").first())


def _pending_changes(list_id) -> tuple[int | None, list[tuple[int, int]]]:
    """The list's version and its pending (index, value) changes, from one snapshot."""
    rows = list(StatusList.objects.filter(pk=list_id).order_by("changes__id")
                .values_list("version", "changes__index", "changes__value"))
    if not rows:
        return None, []
    return rows[0][0], [(index, value) for _, index, value in rows if index is not None]


def _with_changes(status_list: StatusList, changes) -> Bitstring | TokenStatusList:
    codec = list_codec(status_list.kind, bytes(status_list.statuses), status_list.bits_per_entry)
    for index, value in changes:
        codec.set(index, value)
    return codec


def current_entry(list_id, kind: str, index: int) -> tuple | None:
    """One entry of a list as `current_codec` would read it, in one query and without reading
    the list: (issuer, purpose, bits per entry, the list's length in bytes, the byte holding
    the entry (empty past the end), the entry's last pending change or None). None: no such
    list. The caller decodes the byte (credentials/status_fetcher.py, OwnListView)."""
    row = hot_queries.one(*entry_query(list_id, kind, index)[:2])
    if row is None:
        return None
    issuer, purpose, bits, length, byte, pending = row
    return issuer, purpose, bits, length, bytes(byte or b""), pending


def entry_query(list_id, kind: str, index: int) -> hot_queries.Query:
    """What current_entry asks the database (asked ahead with others by the passports layer)."""
    list_pk = StatusList._meta.pk.get_db_prep_value(list_id, connection)
    return hot_queries.Query(_entry_sql(), (index, index, list_pk, str(kind)), 6)


@functools.cache
def _entry_sql() -> str:
    quote = connection.ops.quote_name
    lists, changes = StatusList._meta.db_table, StatusChange._meta.db_table
    return (f"SELECT l.issuer, l.purpose, l.bits_per_entry, LENGTH(l.statuses), "  # noqa: S608
            f"SUBSTR(l.statuses, %s / (8 / l.bits_per_entry) + 1, 1), "
            f"(SELECT c.value FROM {quote(changes)} c WHERE c.status_list_id = l.id "
            f"AND c.{quote('index')} = %s ORDER BY c.id DESC LIMIT 1) "
            f"FROM {quote(lists)} l WHERE l.id = %s AND l.kind = %s")


# --- publishing ------------------------------------------------------------------------------

def status_list_publish(list_id, *, force: bool = False) -> bool:
    """Fold the pending changes into the list and re-sign it, unless nothing changed and the
    signature is fresh (or `force`). Returns whether a new list was signed."""
    with transaction.atomic():
        # NO KEY UPDATE queues publishers of one list and leaves inserts of changes unblocked.
        status_list = StatusList.objects.select_for_update(no_key=True).filter(pk=list_id).first()
        if status_list is None:  # lists are never deleted, but a late task must not crash
            log.warning("status list %s to publish does not exist", list_id)
            return False
        changes = list(StatusChange.objects.filter(status_list=status_list).order_by("id")
                       .values_list("id", "index", "value"))
        now = timezone.now()
        if not (changes or force or _needs_signing(status_list, now)):
            return False
        codec = list_codec(status_list.kind, bytes(status_list.statuses),
                           status_list.bits_per_entry)
        if changes:
            for _, index, value in changes:
                codec.set(index, value)
            status_list.statuses = codec.to_bytes()
            status_list.version += 1
            # Exactly the rows applied: a change committed meanwhile waits for the next run.
            ids = [change_id for change_id, _, _ in changes]
            for start in range(0, len(ids), APPLY_BATCH):
                StatusChange.objects.filter(any_of("pk", ids[start:start + APPLY_BATCH])).delete()
        status_list.published = _sign(status_list, codec, now)
        status_list.published_version = status_list.version
        status_list.published_at = now
        status_list.save(update_fields=["statuses", "version", "published",
                                        "published_version", "published_at"])
        list_id = str(status_list.pk)
        for listener in _publication_listeners:
            transaction.on_commit(lambda listener=listener: listener(list_id))
    _MEMO.pop(str(status_list.pk), None)
    return True


# Layers above that copy published lists elsewhere (replication: back-up providers) hear of
# each new signature after it commits: `listener(list_id)`, registered once per process.
_publication_listeners: list = []


def register_publication_listener(listener) -> None:
    if listener not in _publication_listeners:
        _publication_listeners.append(listener)


def _needs_signing(status_list: StatusList, now: datetime) -> bool:
    return (not status_list.published or status_list.published_version != status_list.version
            or status_list.published_at is None
            or status_list.published_at < now - REFRESH_AFTER)


def _sign(status_list: StatusList, codec, now: datetime) -> str:
    url = status_list_url(status_list.pk)
    if status_list.kind == StatusList.Kind.BITSTRING:
        return secure_jwt(bitstring_credential(status_list, codec, now, url),
                          signer_for(status_list.issuer))
    # IETF Token Status List, Status List Token in JWT format.
    identification = token_list_identification(status_list.issuer, now)
    claims = {"iss": identification.iss, "sub": url, "iat": int(now.timestamp()),
              "exp": int((now + VALIDITY).timestamp()), "ttl": TTL_SECONDS,
              "status_list": codec.to_claim()}
    return jose.sign(claims, identification.signer,
                     {"typ": STATUSLIST_JWT_TYP, **identification.header})


@dataclass(frozen=True)
class TokenListIdentification:
    """Who a Status List Token says signed it: `iss`, the signer, and the JOSE header that
    names the key (`kid`, or `x5c`)."""

    iss: str
    signer: Signer
    header: dict


# Token Status Lists serve SD-JWT VCs, which EU wallets and verifiers check with ES256 (HAIP
# 1.0): the lists are signed ES256 too, by default with the issuer DID's P-256 key named by
# `kid`. The layer that knows issuers' certificates registers a provider giving `x5c`
# identification instead (HAIP 1.0 §6.1, §7: the same as the credentials it serves).
_token_list_providers: list = []


def register_token_list_identification(provider) -> None:
    """`provider(issuer_did, now)` returns a TokenListIdentification, or None to leave the
    default. Registered once per process (apps.ready)."""
    if provider not in _token_list_providers:
        _token_list_providers.append(provider)


def token_list_identification(issuer: str, now: datetime) -> TokenListIdentification:
    for provider in _token_list_providers:
        identification = provider(issuer, now)
        if identification is not None:
            return identification
    signer = es256_signer_for(issuer)
    return TokenListIdentification(issuer, signer, {"kid": signer.verification_method})


def bitstring_credential(status_list: StatusList, codec: Bitstring, now: datetime,
                         url: str) -> dict:
    """A BitstringStatusListCredential (Bitstring Status List v1.0 §2.2), VCDM 2.0."""
    return {
        "@context": [BITSTRING_CONTEXT],
        "id": url,
        "type": ["VerifiableCredential", "BitstringStatusListCredential"],
        "issuer": status_list.issuer,
        "validFrom": _iso(now),
        "validUntil": _iso(now + VALIDITY),
        "credentialSubject": {
            "id": f"{url}#list",
            "type": "BitstringStatusList",
            "statusPurpose": status_list.purpose,
            "encodedList": codec.encode(),
            "ttl": TTL_SECONDS * 1000,  # milliseconds, per the spec
        },
    }


def status_lists_publish_due() -> list[str]:
    """Ids of the lists the sweep must publish: changes pending longer than a publication
    takes, never published, or signed long enough ago to be re-signed before expiry."""
    now = timezone.now()
    stale = set(StatusChange.objects.filter(created_at__lt=now - STALE_AFTER).order_by()
                .values_list("status_list_id", flat=True).distinct())
    due = set(StatusList.objects.filter(
        Q(published="") | Q(published_at__lt=now - REFRESH_AFTER)).values_list("pk", flat=True))
    return sorted(str(list_id) for list_id in stale | due)


# --- serving ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class PublishedList:
    """A signed list as /status/<uuid> serves it."""

    list_id: str
    kind: str
    jwt: bytes
    etag: str
    published_at: datetime

    @property
    def media_type(self) -> str:
        return ("application/vc+jwt" if self.kind == StatusList.Kind.BITSTRING
                else "application/statuslist+jwt")

    def envelope_json(self) -> bytes:
        """A Bitstring list as the JSON an `application/vc` client gets."""
        return jose.encode_json(envelope(self.jwt.decode("ascii")))

    def embedded_json(self) -> bytes:
        """A Bitstring list as the JSON-LD a `application/ld+json` client gets: the same
        credential with an embedded eddsa-rdfc-2022 proof (what Data Integrity verifiers, the
        W3C status-list suite among them, read). Signed once per published version and
        process."""
        key = (self.list_id, self.etag)
        if key not in _EMBEDDED:
            _, credential = decode_jwt_parts(self.jwt.decode("ascii"))
            issuer = credential["issuer"]
            issuer = issuer["id"] if isinstance(issuer, dict) else issuer
            if len(_EMBEDDED) >= _MEMO_MAX:
                _EMBEDDED.clear()
            _EMBEDDED[key] = jose.encode_json(
                secure_embedded(credential, signer_for(issuer), "eddsa-rdfc-2022"))
        return _EMBEDDED[key]


_EMBEDDED: dict[tuple[str, str], bytes] = {}


_MEMO: dict[str, tuple[float, PublishedList]] = {}
_MEMO_MAX = 4096


def published_list(list_id) -> PublishedList | None:
    """The signed list, from a per-process memo refreshed every second (the read path of
    /status/ must not touch the database per request). A list never published, or due for
    re-signing, is published or scheduled here, so serving works without the sweep."""
    key = str(list_id)
    memo = _MEMO.get(key)
    if memo is not None and time.monotonic() - memo[0] < _MEMO_SECONDS:
        return memo[1]
    row = (StatusList.objects.filter(pk=list_id)
           .values_list("kind", "published", "published_version", "published_at").first())
    if row is None:
        return None
    kind, jwt, version, published_at = row
    if not jwt:  # a new list: sign it once, now
        status_list_publish(list_id)
        return published_list(list_id)
    if published_at < timezone.now() - REFRESH_AFTER:
        schedule_publication([key])
    published = PublishedList(key, kind, jwt.encode("ascii"),
                              f"{version}.{int(published_at.timestamp() * 1000)}", published_at)
    if len(_MEMO) >= _MEMO_MAX:
        _MEMO.clear()
    _MEMO[key] = (time.monotonic(), published)
    return published
