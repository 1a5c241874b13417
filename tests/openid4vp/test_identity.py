"""The Verifier's identity: made once (key wrapped in the key store) or configured with PEM
text or files, and the client id of every request follows it."""

import pytest

from credentials import x509
from credentials.key_store import ensure_key, signer_for
from credentials.models import KeyPair
from openid4vp import identity
from openid4vp.checks import verifier_certificate
from openid4vp.models import PresentationRequest, VerifierCertificate
from tests.support.openid4vp import create_request
from tests.support.openid4vp_wallet import service_verifier_ca, verify_request_object
from tests.support.pki import key_pem as pem_of
from tests.support.pki import root_ca


def test_by_default_one_certificate_is_made_once_and_its_key_kept_wrapped(db, settings):
    first = identity.verifier_identity()
    second = identity.verifier_identity()

    assert first.client_id == second.client_id
    assert VerifierCertificate.objects.count() == 2  # the Verifier's and its CA's root
    for controller in (identity.KEY_CONTROLLER, identity.CA_KEY_CONTROLLER):
        [key] = KeyPair.objects.filter(controller=controller)
        assert key.key_type == "P-256"
        assert bytes(key.wrapped_private_key)[:1] == b"\x01"  # AES-GCM wrapped, never plain
    info = x509.read_x5c(first.x5c)
    assert info.dns_names == (settings.PUBLIC_HOST,)


def test_the_default_certificate_is_issued_by_the_services_verifier_ca(world):
    """HAIP 1.0 §5: never self-signed. A wallet given the root `manage.py verifier_ca` prints
    accepts the request (x5c: the leaf only, the anchor stays out); one given another CA
    refuses it."""
    certified = identity.verifier_identity()
    root = service_verifier_ca()

    assert not x509.read_x5c(certified.x5c).self_signed
    assert len(certified.x5c) == 1
    x509.validate_chain(certified.x5c, root)
    created = create_request(world)
    stored = PresentationRequest.objects.get(pk=created["id"])
    assert verify_request_object(stored.request_object, root).client_id == created["client_id"]
    with pytest.raises(x509.ChainError, match="does not lead to a trusted anchor"):
        verify_request_object(stored.request_object,
                              x509.TrustAnchors((root_ca("Another CA").certificate,)))


def test_a_self_signed_certificate_made_before_is_replaced_by_one_from_the_ca(db, settings):
    """A Verifier certificate from before the Verifier CA (self-signed) is re-issued by the CA
    for the same key at its next use."""
    key = ensure_key(identity.KEY_CONTROLLER, "P-256")
    old = x509.self_signed(signer_for(identity.KEY_CONTROLLER, "P-256"), settings.PUBLIC_HOST)
    VerifierCertificate.objects.create(key_controller=identity.KEY_CONTROLLER,
                                       key_id=key.key_id, certificate=old.certificate,
                                       x509_hash=old.x509_hash, host=settings.PUBLIC_HOST)

    now = identity.verifier_identity()

    assert now.client_id != old.client_id
    assert not x509.read_x5c(now.x5c).self_signed
    assert x509.read_x5c(now.x5c).public_key.jwk() == x509.read_x5c(old.x5c).public_key.jwk()
    x509.validate_chain(now.x5c, service_verifier_ca())


def test_a_configured_self_signed_certificate_is_reported_at_start(settings):
    settings.OPENID4VP_CERTIFICATE, settings.OPENID4VP_PRIVATE_KEY = \
        x509.generate_pem_pair("localhost")

    [error] = verifier_certificate()

    assert error.id == "openid4vp.E003"
    assert "self-signed" in error.msg


def test_a_rotated_key_gets_a_new_certificate_and_client_id(db):
    from credentials.key_store import rotate_key

    before = identity.verifier_identity()
    rotate_key(identity.KEY_CONTROLLER, key_type="P-256")

    after = identity.verifier_identity()

    assert after.client_id != before.client_id
    assert VerifierCertificate.objects.count() == 3  # two of the Verifier, one of its CA


@pytest.mark.parametrize("as_files", [False, True])
def test_a_configured_certificate_is_used_as_pem_text_or_file(world, settings, tmp_path,
                                                              as_files):
    root = root_ca("Verifier Access CA")
    leaf = root.issue(uris=(), dns_names=("verifier.example",))
    certificate_pem, key_pem = leaf.pem, pem_of(leaf.signer)
    world.wallet.verifier_anchors = x509.TrustAnchors((root.certificate,))
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
    stored = PresentationRequest.objects.get(pk=created["id"])
    request = verify_request_object(stored.request_object, service_verifier_ca())

    assert request.client_id == identity.verifier_identity().client_id
