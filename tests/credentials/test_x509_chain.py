"""Validating a foreign issuer's x5c chain against configured trust anchors: what leads to an
anchor is accepted with the leaf's names and key; every way it can fail is named."""

import base64
from datetime import timedelta

import pytest

from credentials import x509
from tests.support.pki import ISSUER, NOW, root_ca, self_signed_issuer


@pytest.fixture(scope="module")
def root():
    return root_ca()


@pytest.fixture(scope="module")
def anchors(root):
    return x509.load_trust_anchors(root.pem)


def test_a_leaf_issued_by_the_anchor_is_accepted_with_its_names_and_key(root, anchors):
    issued = root.issue(dns_names=("pid-provider.example.eu",))

    chain = x509.validate_chain(issued.x5c, anchors, now=NOW)

    leaf = chain.leaf
    assert leaf.uris == (ISSUER,) and leaf.dns_names == ("pid-provider.example.eu",)
    assert leaf.organisation == "PID Provider Example"
    assert leaf.organisation_identifier == "VATDE-123456789" and leaf.country == "DE"
    assert leaf.public_key == issued.signer.public_key()
    assert chain.anchor_name == "Test Trust Service"
    assert "CN=Test PID Provider Root CA" in chain.anchor_subject


def test_a_chain_through_an_intermediate_and_an_ed25519_leaf_are_accepted(root, anchors):
    issued = root.intermediate().issue(key_type="Ed25519")

    chain = x509.validate_chain(issued.x5c, anchors, now=NOW)

    assert len(issued.x5c) == 2
    assert chain.leaf.public_key.key_type == "Ed25519"


def test_the_anchor_itself_in_x5c_is_tolerated(root, anchors):
    with_anchor = root.issue().x5c + [root.x5c_entry]

    assert x509.validate_chain(with_anchor, anchors, now=NOW).leaf.uris == (ISSUER,)


def test_a_bundle_of_several_anchors_is_read_and_any_of_them_anchors(root):
    other = root_ca("Another Member State Root")
    anchors = x509.load_trust_anchors(other.pem + root.pem)

    assert len(anchors) == 2
    assert x509.validate_chain(other.issue().x5c, anchors, now=NOW)
    assert x509.validate_chain(root.issue().x5c, anchors, now=NOW)


@pytest.mark.parametrize("text", ["", "not a certificate", "-----BEGIN CERTIFICATE-----\nx\n"
                                  "-----END CERTIFICATE-----"])
def test_anchors_that_are_not_pem_certificates_are_refused(text):
    with pytest.raises(x509.CertificateError, match="trust anchors: not a PEM"):
        x509.load_trust_anchors(text)


# --- refusals, each named ------------------------------------------------------------------

def refusal(x5c, anchors, *, now=NOW) -> str:
    with pytest.raises(x509.CertificateError) as failure:
        x509.validate_chain(x5c, anchors, now=now)
    return failure.value.detail


def test_without_anchors_nothing_is_trusted(root):
    assert refusal(root.issue().x5c, x509.NO_ANCHORS) == (
        "x5c chain does not lead to a trusted anchor (no trust anchors are configured)")


def test_a_chain_signed_by_another_ca_does_not_lead_to_the_anchor(anchors):
    stranger = root_ca("Some Other Root")

    assert refusal(stranger.issue().x5c, anchors).startswith(
        "x5c chain does not lead to a trusted anchor (")


def test_a_missing_intermediate_breaks_the_chain(root, anchors):
    issued = root.intermediate().issue()

    assert refusal(issued.x5c[:1], anchors).startswith(
        "x5c chain does not lead to a trusted anchor")


def test_an_expired_leaf_is_refused_with_its_date(root, anchors):
    issued = root.issue(not_before=NOW - timedelta(days=30), not_after=NOW - timedelta(days=1))

    assert refusal(issued.x5c, anchors).startswith("x5c: the leaf certificate expired on ")


def test_a_leaf_not_yet_valid_is_refused(root, anchors):
    issued = root.issue(not_before=NOW + timedelta(days=1), not_after=NOW + timedelta(days=9))

    assert refusal(issued.x5c, anchors).startswith("x5c: the leaf certificate is not valid "
                                                   "before ")


def test_the_moment_of_validation_is_the_one_given(root, anchors):
    issued = root.issue()

    assert refusal(issued.x5c, anchors, now=NOW + timedelta(days=400)).startswith(
        "x5c: the leaf certificate expired")


def test_an_intermediate_that_is_no_ca_cannot_issue(root, anchors):
    issued = root.intermediate("Not A CA", ca=False).issue()

    assert refusal(issued.x5c, anchors) == (
        "x5c: certificate 2 (O=Test Trust Service,CN=Not A CA) is not a CA certificate "
        "(basicConstraints), yet it would have issued the one before it")


def test_a_leaf_whose_key_usage_does_not_allow_signing_is_refused(root, anchors):
    issued = root.issue(digital_signature=False)

    assert refusal(issued.x5c, anchors) == (
        "x5c: the leaf certificate's keyUsage does not allow digitalSignature")


def test_a_ca_certificate_as_leaf_is_refused(root, anchors):
    assert "is a CA certificate" in refusal(root.issue(ca=True).x5c, anchors)


def test_a_self_signed_leaf_is_refused_even_when_configured_as_anchor():
    issued = self_signed_issuer()
    anchors = x509.load_trust_anchors(issued.pem)

    assert "self-signed" in refusal(issued.x5c, anchors)


@pytest.mark.parametrize("x5c, message", [
    ([], "x5c: must be a non-empty array of base64 certificates"),
    ("MIIB", "x5c: must be a non-empty array of base64 certificates"),
    ([42], "x5c: must be a non-empty array of base64 certificates"),
    (["not base64!"], "x5c: certificate 1 is not a base64 DER certificate"),
    ([base64.b64encode(b"junk").decode()], "x5c: certificate 1 is not a base64 DER certificate"),
    (["A"] * 9, "x5c: more than 8 certificates"),
])
def test_garbage_x5c_is_refused(anchors, x5c, message):
    assert refusal(x5c, anchors) == message


def test_garbage_after_a_good_leaf_is_named_by_position(root, anchors):
    assert refusal(root.issue().x5c + ["@@"], anchors) == (
        "x5c: certificate 2 is not a base64 DER certificate")


# --- whom the certificate names ---------------------------------------------------------------

@pytest.mark.parametrize("uris, dns_names, issuer, named", [
    ((ISSUER,), (), ISSUER, True),
    ((ISSUER,), (), ISSUER + "/other", False),
    ((), ("pid-provider.example.eu",), "https://pid-provider.example.eu/issuer", True),
    ((), ("PID-Provider.example.eu",), "https://pid-provider.example.eu", True),
    ((), ("pid-provider.example.eu",), "https://evil.example/issuer", False),
    ((), ("pid-provider.example.eu",), "http://pid-provider.example.eu", False),
    ((), (), ISSUER, False),
])
def test_the_leaf_names_iss_by_uri_san_or_by_the_host_as_dns_san(root, uris, dns_names,
                                                                 issuer, named):
    leaf = x509.read_x5c(root.issue(uris=uris, dns_names=dns_names).x5c)

    assert x509.names_issuer(leaf, issuer) is named
