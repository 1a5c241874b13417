"""The Verifier's certificate: self-signed P-256 for the host, the x509_hash client id of
OpenID4VP 1.0 §5.9.3, PEM configuration, and reading an x5c header the way a Wallet does."""

import base64
import hashlib

import pytest

from credentials import jose, x509
from credentials.encoding import b64url_encode
from credentials.keys import LocalSigner


def test_a_self_signed_certificate_names_the_host_and_hashes_to_the_client_id():
    certified = x509.generate_self_signed("verifier.example")

    info = x509.read_x5c(certified.x5c)

    assert info.subject_common_name == "verifier.example"
    assert info.dns_names == ("verifier.example",)
    assert info.self_signed
    assert info.not_after > info.not_before
    expected = b64url_encode(hashlib.sha256(certified.certificate).digest())
    assert certified.x509_hash == info.x509_hash == expected
    assert certified.client_id == f"x509_hash:{expected}"
    assert len(certified.x509_hash) == 43 and "=" not in certified.x509_hash


def test_x5c_is_standard_base64_der_not_base64url():
    certified = x509.generate_self_signed("verifier.example")

    [entry] = certified.x5c

    assert base64.b64decode(entry, validate=True) == certified.certificate


def test_what_the_key_signs_verifies_with_the_certificates_public_key():
    certified = x509.generate_self_signed("verifier.example")
    token = jose.sign({"client_id": certified.client_id}, certified.signer,
                      {"typ": "oauth-authz-req+jwt", "x5c": certified.x5c})

    decoded = jose.decode(token)
    jose.verify_signature(decoded, x509.read_x5c(decoded.header["x5c"]).public_key)

    assert decoded.header["alg"] == "ES256"


def test_pem_configuration_loads_and_checks_the_pair():
    certificate_pem, key_pem = x509.generate_pem_pair("verifier.example")
    _, other_key_pem = x509.generate_pem_pair("verifier.example")

    loaded = x509.load_pem(certificate_pem, key_pem)

    assert loaded.pem() == certificate_pem
    with pytest.raises(x509.CertificateError, match="does not belong"):
        x509.load_pem(certificate_pem, other_key_pem)
    with pytest.raises(x509.CertificateError, match="not a PEM X.509"):
        x509.load_pem("-----BEGIN CERTIFICATE-----\nnope\n-----END CERTIFICATE-----", key_pem)
    with pytest.raises(x509.CertificateError, match="private key"):
        x509.load_pem(certificate_pem, "not a key")


def test_only_p256_keys_make_verifier_certificates():
    with pytest.raises(x509.CertificateError, match="P-256"):
        x509.self_signed(LocalSigner.generate(), "verifier.example")  # Ed25519


def test_a_stored_certificate_is_paired_only_with_its_own_key():
    certified = x509.generate_self_signed("verifier.example")
    stranger = LocalSigner.generate(key_type="P-256")

    assert x509.certified(certified.certificate, certified.signer).client_id \
        == certified.client_id
    with pytest.raises(x509.CertificateError, match="does not belong"):
        x509.certified(certified.certificate, stranger)


@pytest.mark.parametrize("x5c, message", [
    ([], "non-empty array"),
    ("MIIB", "non-empty array"),
    (["not base64!"], "not a DER certificate"),
    ([base64.b64encode(b"junk").decode()], "not a DER certificate"),
])
def test_a_bad_x5c_is_refused(x5c, message):
    with pytest.raises(x509.CertificateError, match=message):
        x509.read_x5c(x5c)


def test_the_signer_never_prints_its_key():
    certified = x509.generate_self_signed("verifier.example")

    assert repr(certified) == f"<CertifiedSigner {certified.client_id}>"
