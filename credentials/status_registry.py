"""Status lists in the database: allocating entries (issue time) and, later, flipping them.

Allocation takes one row lock per list and hands out a block of indexes at once, so bulk
issuance allocates thousands of entries in one UPDATE, and two workers never share an index."""

from __future__ import annotations

import hashlib
import hmac
import os
import uuid

from django.db import transaction

from credentials.models import StatusList

LIST_SIZE = 2**17  # 131,072 entries: the minimum W3C recommends for herd privacy
TOKEN_BITS = 2  # valid / invalid / suspended
_ROUNDS = 4


def permuted_index(key: bytes, counter: int, size: int) -> int:
    """A keyed pseudo-random permutation of range(size) (a Feistel network over the next even
    number of bits, cycle-walking back into range). Unique for unique counters, unguessable
    without the list's key."""
    half_bits = ((size - 1).bit_length() + 1) // 2
    mask = (1 << half_bits) - 1
    value = counter
    while True:
        left, right = value >> half_bits, value & mask
        for round_number in range(_ROUNDS):
            digest = hmac.new(key, bytes([round_number]) + right.to_bytes(4, "big"),
                              hashlib.sha256).digest()
            left, right = right, left ^ (int.from_bytes(digest[:4], "big") & mask)
        value = (left << half_bits) | right
        if value < size:
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
        status_list = (StatusList.objects.select_for_update()
                       .filter(issuer=issuer, kind=kind, purpose=purpose,
                               allocated__lt=LIST_SIZE)
                       .order_by("created_at").first())
        if status_list is None:
            _new_list(issuer, kind, purpose)
            continue
        take = min(count - len(entries), status_list.size - status_list.allocated)
        key = bytes(status_list.permutation_key)
        start = status_list.allocated
        entries += [(status_list, permuted_index(key, n, status_list.size))
                    for n in range(start, start + take)]
        status_list.allocated = start + take
        status_list.save(update_fields=["allocated"])
    return entries
