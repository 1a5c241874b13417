"""OPENID4VP_TRUSTED_ISSUER_CERTIFICATES and OPENID4VP_TRUSTED_ISSUERS reach the service's
verifier; a value that cannot be loaded is reported at start by `manage.py check`."""

from tests.support.pki import root_ca
from wallet.business.checks import foreign_issuer_anchors
from wallet.business.verification import foreign_issuers, wallet_verifier


def test_the_configured_anchors_and_listed_issuers_reach_the_verifier(settings, tmp_path, db):
    # db: x509 issuer identification (the default) adds the own issuing CA once it exists.
    bundle = tmp_path / "anchors.pem"
    bundle.write_text(root_ca("A").pem + root_ca("B").pem)
    settings.OPENID4VP_TRUSTED_ISSUER_CERTIFICATES = str(bundle)
    settings.OPENID4VP_TRUSTED_ISSUERS = ["https://issuer.example"]

    verifier = wallet_verifier()

    assert len(verifier.foreign_issuers.anchors) == 2
    assert verifier.foreign_issuers.listed == frozenset({"https://issuer.example"})
    assert verifier.status.foreign_issuers is verifier.foreign_issuers
    assert foreign_issuer_anchors() == []


def test_by_default_no_foreign_issuer_is_trusted(settings, db):
    settings.OPENID4VP_TRUSTED_ISSUER_CERTIFICATES = ""
    settings.OPENID4VP_TRUSTED_ISSUERS = []

    assert not foreign_issuers().anchors and not foreign_issuers().listed


def test_anchors_that_cannot_be_loaded_are_reported_by_the_system_check(settings, tmp_path):
    for value in ("-----BEGIN CERTIFICATE-----\ngarbage\n-----END CERTIFICATE-----",
                  str(tmp_path / "missing.pem")):
        settings.OPENID4VP_TRUSTED_ISSUER_CERTIFICATES = value

        [error] = foreign_issuer_anchors()

        assert error.id == "wallet.E001"
        assert "OPENID4VP_TRUSTED_ISSUER_CERTIFICATES" in error.msg
