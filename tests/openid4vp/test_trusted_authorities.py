"""DCQL `trusted_authorities` of type `aki` (OpenID4VP 1.0 §6.1.1; HAIP 1.0 §5 makes it
mandatory): the Verifier takes a credential only when a certificate of its `x5c` chain has an
AuthorityKeyIdentifier the query lists (base64url); otherwise it refuses it naming why."""

import pytest
from cryptography import x509 as crypto_x509

from credentials.encoding import b64url_encode
from tests.support.openid4vp import create_request, failed, refused, result_of, simple_query
from tests.support.pki import PID_VCT, root_ca


def aki_of(authority) -> str:
    """What a Verifier lists for a CA: its SubjectKeyIdentifier, the AKI of what it issued."""
    ski = authority.certificate.extensions.get_extension_for_class(
        crypto_x509.SubjectKeyIdentifier).value.digest
    return b64url_encode(ski)


def ask(world, *akis: str):
    query = simple_query(["family_name"], vct=PID_VCT,
                         trusted_authorities=[{"type": "aki", "values": list(akis)}])
    created = create_request(world, query)
    return created, world.wallet.fetch(created["authorization_request"])


def test_a_pid_under_a_listed_authority_is_accepted(world, pid, anchored, root):  # noqa: F811
    created, request = ask(world, "bm90LXRoaXMtb25l", aki_of(root))

    answer = world.wallet.answer_query(request, "pid")

    assert answer.status_code == 200, answer.content
    assert result_of(world, created)["status"] == "verified"


def test_a_pid_under_no_listed_authority_is_refused(world, pid, anchored):  # noqa: F811
    created, request = ask(world, aki_of(root_ca("Some other root")))

    answer = world.wallet.answer_query(request, "pid")

    refused(answer, "access_denied", "trusted_authorities")
    failed(world, created, "untrusted_issuer", "matches none of the trusted_authorities")


@pytest.mark.parametrize("entry", [{"type": "etsi_tl", "values": ["https://tl.example"]}])
def test_other_authority_types_are_not_evaluated(world, pid, anchored, entry):  # noqa: F811
    query = simple_query(["family_name"], vct=PID_VCT, trusted_authorities=[entry])
    created = create_request(world, query)
    request = world.wallet.fetch(created["authorization_request"])

    assert world.wallet.answer_query(request, "pid").status_code == 200
