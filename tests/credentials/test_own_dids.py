"""The service's own DIDs and addresses, now and before PUBLIC_BASE_URL changed: resolved from
the key store, never fetched, and never confused with a foreign party's."""

import pytest

from credentials.did_web import (
    DidResolver,
    earlier_address,
    is_own_host,
    organisation_did,
    own_url_path,
)
from credentials.errors import DidNotResolved, KeyNotFound
from credentials.key_store import signer_for
from wallet.tenancy.services import organisation_create

OLD = "http://localhost:8000"
NEW = "https://dpp.example.com"


@pytest.fixture
def moved(db, settings):
    """Acme made its key at the old address; the service has moved since."""
    settings.PUBLIC_BASE_URL = OLD
    organisation = organisation_create(slug="acme", legal_name="Acme")
    signer = signer_for(organisation.did)
    settings.PUBLIC_BASE_URL = NEW
    return signer


def test_a_did_of_an_earlier_address_resolves_from_the_database_without_network(moved):
    key = DidResolver(allow_remote=False).public_key(moved.verification_method)

    assert key.raw == moved.public_key().raw
    assert earlier_address("did:web:localhost%3A8000:orgs:acme") == "localhost:8000"
    assert earlier_address(organisation_did("acme")) is None  # the current one


def test_an_unknown_key_of_our_own_did_is_key_not_found(moved):
    with pytest.raises(KeyNotFound, match="has no verification method") as raised:
        DidResolver().public_key("did:web:localhost%3A8000:orgs:acme#key-9")
    assert raised.value.code == "key_not_found"


@pytest.mark.parametrize("did", ["did:web:localhost%3A8000:orgs:nobody",
                                 "did:web:dpp.example.com:orgs:nobody"])
def test_a_did_at_our_addresses_without_keys_here_is_not_resolved_and_not_fetched(moved, did):
    with pytest.raises(DidNotResolved, match="is not a DID of this service") as raised:
        DidResolver().public_key(f"{did}#key-1")
    assert raised.value.code == "did_not_resolved"


def test_a_foreign_did_that_cannot_be_fetched_is_did_not_resolved(moved):
    with pytest.raises(DidNotResolved) as raised:
        DidResolver().public_key("did:web:issuer.invalid:orgs:acme#key-1")
    assert raised.value.detail.startswith("did:web:issuer.invalid:orgs:acme: ")


def test_urls_of_our_addresses_now_and_before_are_ours_and_no_others(moved):
    assert own_url_path(f"{NEW}/status/abc") == "/status/abc"
    assert own_url_path(f"{OLD}/status/abc#7") == "/status/abc"
    assert own_url_path("https://localhost:8000/passports/x") == "/passports/x"
    assert is_own_host("localhost%3A8000") and is_own_host("dpp.example.com")
    for url in ("https://issuer.invalid/status/abc", "http://localhost:8001/status/abc",
                "http://user@localhost:8000/status/abc", "ftp://localhost:8000/status/abc",
                "http://localhost:bad/status/abc", None):
        assert own_url_path(url) is None, url
