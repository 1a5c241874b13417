"""DIDs: our did:web documents, did:key, and the guards on foreign did:web resolution."""

import pytest

from credentials import jose
from credentials.did_web import DidResolver, organisation_did, service_did
from credentials.dids import (
    did_key_for,
    did_key_verification_method,
    did_web_document_url,
    did_web_for_url,
    public_key_from_method,
)
from credentials.errors import KeyResolutionError
from credentials.guarded_http import FetchError, fetch_json
from credentials.key_store import ensure_key, rotate_key, signer_for
from credentials.keys import LocalSigner
from wallet.tenancy.services import organisation_create


def test_did_web_percent_encodes_the_port():
    assert did_web_for_url("http://localhost:8000", "orgs", "acme") == \
        "did:web:localhost%3A8000:orgs:acme"
    assert did_web_for_url("https://dpp.example.com") == "did:web:dpp.example.com"
    assert did_web_document_url("did:web:localhost%3A8000:orgs:acme") == \
        "https://localhost:8000/orgs/acme/did.json"
    assert did_web_document_url("did:web:dpp.example.com") == \
        "https://dpp.example.com/.well-known/did.json"


@pytest.mark.django_db
def test_organisation_did_document_lists_its_keys_as_jwk_and_multikey(client):
    """Each key is a `JsonWebKey` with `publicKeyJwk` (JOSE resolvers, EU wallets) and carries
    the same key as `publicKeyMultibase` (Multikey readers); the P-256 key is there from the
    start, before anything is signed with it."""
    org = organisation_create(slug="acme", legal_name="Acme Batteries B.V.")

    response = client.get("/orgs/acme/did.json")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/did+json"
    document = response.json()
    assert document["id"] == org.did == "did:web:localhost%3A8000:orgs:acme"
    assert "https://w3id.org/security/jwk/v1" in document["@context"]
    ed25519, p256 = document["verificationMethod"]
    assert {ed25519["type"], p256["type"]} == {"JsonWebKey"}
    assert ed25519["publicKeyJwk"] == {"kty": "OKP", "crv": "Ed25519",
                                       "x": ed25519["publicKeyJwk"]["x"]}
    assert ed25519["publicKeyMultibase"].startswith("z6Mk")
    assert set(p256["publicKeyJwk"]) == {"kty", "crv", "x", "y"}
    assert p256["publicKeyJwk"]["crv"] == "P-256"
    ids = [ed25519["id"], p256["id"]]
    assert document["assertionMethod"] == ids
    assert document["authentication"] == ids
    for method in (ed25519, p256):  # both forms name the same key
        jwk_only = {k: v for k, v in method.items() if k != "publicKeyMultibase"}
        multibase_only = {k: v for k, v in method.items() if k != "publicKeyJwk"}
        assert public_key_from_method(jwk_only).jwk() == \
            public_key_from_method(multibase_only).jwk()


@pytest.mark.django_db
def test_rotated_keys_stay_in_the_document_and_still_verify(client):
    org = organisation_create(slug="acme", legal_name="Acme")
    old_signer = signer_for(org.did)
    signature = old_signer.sign(b"old credential")
    rotate_key(org.did)

    document = client.get("/orgs/acme/did.json").json()
    old_key = DidResolver().public_key(old_signer.verification_method)

    assert len(document["assertionMethod"]) == 3  # Ed25519 old and new, P-256
    assert old_key.verify(signature, b"old credential")


@pytest.mark.django_db
def test_a_p256_key_signs_es256_beside_the_ed25519_key(client):
    """EU wallets expect ES256: an organisation may hold a P-256 key next to its Ed25519 one;
    each rotates on its own and both stay in the DID document."""
    org = organisation_create(slug="acme", legal_name="Acme")
    ensure_key(org.did, "P-256")
    es256 = signer_for(org.did, "P-256")
    ed25519 = signer_for(org.did)

    jwt = jose.sign({"iss": org.did}, es256, {"kid": es256.verification_method})
    rotate_key(org.did)  # Ed25519 only
    document = client.get("/orgs/acme/did.json").json()

    assert jose.decode(jwt).alg == "ES256"
    jose.verify_signature(jose.decode(jwt), DidResolver().public_key(es256.verification_method))
    assert signer_for(org.did, "P-256").verification_method == es256.verification_method
    assert signer_for(org.did).verification_method != ed25519.verification_method
    # Multikey prefixes: z6Mk… Ed25519, zDn… P-256 (compressed); the retired key stays listed.
    assert [m["publicKeyMultibase"][:3] for m in document["verificationMethod"]] == \
        ["z6M", "zDn", "z6M"]


@pytest.mark.django_db
def test_service_did_document_is_served_from_first_migration(client):
    document = client.get("/.well-known/did.json").json()

    assert document["id"] == service_did() == "did:web:localhost%3A8000"


@pytest.mark.django_db
def test_unknown_organisation_did_is_404(client):
    assert client.get("/orgs/nobody/did.json").status_code == 404


@pytest.mark.django_db
def test_own_did_resolves_from_the_database_without_network():
    org = organisation_create(slug="acme", legal_name="Acme")
    signer = signer_for(org.did)

    key = DidResolver(allow_remote=False).public_key(signer.verification_method)

    assert key.raw == signer.public_key().raw
    with pytest.raises(KeyResolutionError, match="no verification method"):
        DidResolver().public_key(organisation_did("acme") + "#key-9")


def test_did_key_resolves_for_ed25519_and_p256():
    for key_type in ("Ed25519", "P-256"):
        signer = LocalSigner.generate(key_type=key_type)
        did = did_key_for(signer.public_key())

        key = DidResolver().public_key(did_key_verification_method(did))

        assert key.key_type == key_type
        assert key.verify(signer.sign(b"m"), b"m")


@pytest.mark.parametrize("url", [
    "https://127.0.0.1/did.json",
    "https://localhost/.well-known/did.json",
    "https://10.0.0.1/did.json",
    "https://169.254.169.254/latest/meta-data",
    "https://[::1]/did.json",
    "http://example.com/did.json",
])
def test_foreign_fetch_refuses_loopback_private_link_local_and_plain_http(url):
    with pytest.raises(FetchError, match="non-public|only https"):
        fetch_json(url, accept="application/json")


@pytest.mark.django_db
def test_foreign_did_web_on_a_private_address_is_refused():
    with pytest.raises(KeyResolutionError, match="non-public"):
        DidResolver().public_key("did:web:127.0.0.1%3A8443:orgs:x#key-1")


@pytest.mark.django_db
def test_unsupported_did_method_is_named():
    with pytest.raises(KeyResolutionError, match="unsupported DID method"):
        DidResolver().public_key("did:ion:abc#key-1")
