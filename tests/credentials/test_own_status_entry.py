"""The verifier reads one entry of our own status lists in one query (OwnListView.prefetch):
the same status, issuer, purpose and errors as reading the whole list with every pending
change (the reference, `_own_view`), for bitstring and token lists, folded and pending, and
at the lists' edges."""

import random
import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from credentials.errors import CredentialError
from credentials.models import StatusChange, StatusList
from credentials.status_fetcher import OwnListView, _own_view
from credentials.status_list import TokenStatus
from credentials.status_registry import (
    LIST_SIZE,
    allocate,
    status_change,
    status_list_publish,
    token_entry_allocate,
    token_status_set,
)
from wallet.tenancy.services import organisation_create


@pytest.fixture
def org(db):
    return organisation_create(slug="acme", legal_name="Acme Batteries B.V.")


def read(list_id, kind, index):
    """(issuer, purpose, status or the error's words) by both paths."""
    def outcome(view_of):
        try:
            view = view_of()
            if isinstance(view, OwnListView):
                view.prefetch(index)
            return view.issuer, view.purpose, view.status(index)
        except CredentialError as exc:
            return "error", exc.code, exc.detail
    return (outcome(lambda: OwnListView(str(list_id), kind)),
            outcome(lambda: _own_view(str(list_id), kind)))


def test_a_bitstring_entry_reads_as_the_whole_list_says_folded_and_pending(org):
    entries = allocate(org.did, count=40)
    status_list = entries[0][0]
    chosen = random.Random(7).sample([index for _, index in entries], 20)
    for index in chosen[:10]:
        status_change(status_list.pk, index, 1)
    status_list_publish(status_list.pk)  # folded into the bits
    for index in chosen[5:15]:
        status_change(status_list.pk, index, 1)  # pending
    for index in chosen[:3]:
        status_change(status_list.pk, index, 0)  # pending reinstatement of folded bits
    assert StatusChange.objects.filter(status_list=status_list).count() == 13

    for _, index in entries:
        fast, reference = read(status_list.pk, StatusList.Kind.BITSTRING, index)
        assert fast == reference
    revoked = [read(status_list.pk, "bitstring", i)[0][2] for i in chosen[:15]]
    assert revoked == [0, 0, 0] + [1] * 12


def test_a_token_entry_reads_as_the_whole_list_says(org):
    entries = [token_entry_allocate(org.did) for _ in range(12)]
    for entry, status in zip(entries, [TokenStatus.INVALID, TokenStatus.SUSPENDED] * 4,
                             strict=False):
        token_status_set(entry, status)
    status_list_publish(entries[0].list_id)
    token_status_set(entries[1], TokenStatus.VALID)  # pending
    token_status_set(entries[9], TokenStatus.SUSPENDED)

    for entry in entries:
        fast, reference = read(entry.list_id, StatusList.Kind.TOKEN, entry.index)
        assert fast == reference
    assert read(entries[1].list_id, "token", entries[1].index)[0][2] == 0
    assert read(entries[9].list_id, "token", entries[9].index)[0][2] == 2


@pytest.mark.parametrize("index", [0, 7, 8, LIST_SIZE - 1, LIST_SIZE, LIST_SIZE * 4])
def test_the_edges_and_beyond_read_and_fail_alike(org, index):
    status_list = allocate(org.did)[0][0]
    status_change(status_list.pk, min(index, LIST_SIZE - 1), 1)

    fast, reference = read(status_list.pk, StatusList.Kind.BITSTRING, index)

    assert fast == reference
    if index >= LIST_SIZE:
        assert fast[:2] == ("error", "status_index")


def test_unknown_lists_and_a_list_of_another_kind_fail_alike(org):
    status_list = allocate(org.did)[0][0]

    for list_id, kind in ((uuid.uuid4(), "bitstring"), ("not-a-uuid", "bitstring"),
                          (status_list.pk, StatusList.Kind.TOKEN)):
        fast, reference = read(list_id, kind, 3)
        assert fast == reference
        assert fast[:2] == ("error", "status_unknown")


def test_a_status_check_is_one_query_whatever_is_pending(org):
    entries = allocate(org.did, count=30)
    status_list, index = entries[0]
    for _, other in entries[1:]:
        status_change(status_list.pk, other, 1)

    with CaptureQueriesContext(connection) as queries:
        view = OwnListView(str(status_list.pk), StatusList.Kind.BITSTRING)
        view.prefetch(index)
        seen = (view.issuer, view.purpose, view.status(index))

    assert seen == (org.did, "revocation", 0)
    assert len(queries.captured_queries) == 1
