"""The guarded fetch's test-only allowance (FETCH_TEST_ALLOWED_ADDRESSES): empty by default,
so loopback stays refused; with it, exactly the listed addresses pass, nothing else private."""

from __future__ import annotations

import pytest

from credentials import guarded_http


def test_loopback_is_refused_by_default(settings):
    assert settings.FETCH_TEST_ALLOWED_ADDRESSES == []
    with pytest.raises(guarded_http.FetchError) as refused:
        guarded_http.public_address("127.0.0.1", 443)
    assert refused.value.code == "fetch_refused"


def test_only_the_listed_addresses_are_allowed(settings):
    settings.FETCH_TEST_ALLOWED_ADDRESSES = ["127.0.0.1"]
    assert guarded_http.public_address("127.0.0.1", 443) == "127.0.0.1"
    for private in ("10.0.0.1", "169.254.169.254", "::1"):
        with pytest.raises(guarded_http.FetchError):
            guarded_http.public_address(private, 443)
