"""The Verifier's identity: made once (key wrapped in the key store) or configured with PEM
text or files, and the client id of every request follows it."""

import pytest

from credentials import x509
from credentials.models import KeyPair
from openid4vp import identity
from openid4vp.models import VerifierCertificate
from tests.support.openid4vp import create_request
from tests.support.openid4vp_wallet import verify_request_object


def test_by_default_one_certificate_is_made_once_and_its_key_kept_wrapped(db, settings):
    first = identity.verifier_identity()
    second = identity.verifier_identity()

    assert first.client_id == second.client_id
    assert VerifierCertificate.objects.count() == 1
    [key] = KeyPair.objects.filter(controller=identity.KEY_CONTROLLER)
    assert key.key_type == "P-256"
    assert bytes(key.wrapped_private_key)[:1] == b"\x01"  # AES-GCM wrapped, never plain
    info = x509.read_x5c(first.x5c)
    assert info.dns_names == (settings.PUBLIC_HOST,)


def test_a_rotated_key_gets_a_new_certificate_and_client_id(db):
    from credentials.key_store import rotate_key

    before = identity.verifier_identity()
    rotate_key(identity.KEY_CONTROLLER, key_type="P-256")

    after = identity.verifier_identity()

    assert after.client_id != before.client_id
    assert VerifierCertificate.objects.count() == 2


@pytest.mark.parametrize("as_files", [False, True])
def test_a_configured_certificate_is_used_as_pem_text_or_file(world, settings, tmp_path,
                                                              as_files):
    certificate_pem, key_pem = x509.generate_pem_pair("verifier.example")
    if as_files:
        (tmp_path / "cert.pem").write_text(certificate_pem)
        (tmp_path / "key.pem").write_text(key_pem)
        certificate_pem, key_pem = str(tmp_path / "cert.pem"), str(tmp_path / "key.pem")
    settings.OPENID4VP_CERTIFICATE, settings.OPENID4VP_PRIVATE_KEY = certificate_pem, key_pem

    created = create_request(world)
    request = world.wallet.fetch(created["authorization_request"])

    expected = x509.load_pem(*(x509_pair(certificate_pem, key_pem)))
    assert created["client_id"] == expected.client_id
    assert request.certificate.dns_names == ("verifier.example",)
    assert not VerifierCertificate.objects.exists()  # nothing made when configured
    assert world.wallet.answer_query(request, "identity").status_code == 200


def x509_pair(certificate: str, key: str) -> tuple[str, str]:
    return identity._pem(certificate), identity._pem(key)


def test_a_request_object_is_signed_by_the_key_of_the_certificate_it_carries(world):
    created = create_request(world)
    from openid4vp.models import PresentationRequest

    stored = PresentationRequest.objects.get(pk=created["id"])
    request = verify_request_object(stored.request_object)

    assert request.client_id == identity.verifier_identity().client_id
