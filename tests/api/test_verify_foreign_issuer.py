"""The partner verify API gives the verdict on an SD-JWT VC that an EU wallet holds from a
foreign PID or (Q)EAA provider (iss https, X.509 chain in x5c): trusted with the provider's
legal person when the chain leads to a configured anchor, refused naming why otherwise."""

import pytest

from credentials.keys import LocalSigner
from tests.support.pki import ISSUER, foreign_sd_jwt_vc, root_ca


@pytest.fixture(scope="module")
def root():
    return root_ca()


@pytest.fixture
def pid(root):
    return foreign_sd_jwt_vc(root.issue(), LocalSigner.generate(key_type="P-256").public_key())


def verify(client, credential: str) -> dict:
    response = client.post("/api/v1/verify/", credential, content_type="application/dc+sd-jwt")
    assert response.status_code == 200, response.content
    return response.json()


def test_a_certified_pid_is_verified_with_its_providers_legal_person(db, client, settings,
                                                                     root, pid):
    settings.OPENID4VP_TRUSTED_ISSUER_CERTIFICATES = root.pem

    verdict = verify(client, pid)

    assert verdict["verified"] is True, verdict["errors"]
    assert verdict["format"] == "dc+sd-jwt"
    assert verdict["issuer"]["id"] == ISSUER and verdict["issuer"]["trusted"] is True
    assert verdict["issuer"]["legal_person"]["name"] == "PID Provider Example"


def test_without_the_anchor_the_same_pid_is_refused_naming_why(db, client, settings, pid):
    settings.OPENID4VP_TRUSTED_ISSUER_CERTIFICATES = root_ca("Someone Else").pem

    verdict = verify(client, pid)

    assert verdict["verified"] is False
    assert verdict["errors"][0].startswith(
        "proof: issuer: x5c chain does not lead to a trusted anchor")
