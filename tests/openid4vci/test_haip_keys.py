"""HAIP 1.0 and the keys an organisation signs with: every key is in its DID document before
its first use (a verifier may hold a copy of did.json fetched minutes before), and each
verification method is readable as a JWK."""

from credentials.keys import PublicKey
from credentials.models import KeyPair
from credentials.sd_jwt import SdJwt
from credentials.signing import decode_jwt_parts
from credentials.suites import get_suite
from openid4vci.services.offers import offer_create
from tests.support.openid4vci_wallet import TestWallet
from wallet.tenancy.authority import operator
from wallet.tenancy.services import organisation_create


def served_keys(document: dict):
    """A JOSE resolver over one copy of a DID document: `publicKeyJwk` only."""

    class Copy:
        def public_key(self, verification_method):
            method = next((m for m in document["verificationMethod"]
                           if m["id"] == verification_method), None)
            assert method is not None, f"{verification_method} is not in the copy"
            return PublicKey.from_jwk(method["publicKeyJwk"], method["id"])

    return Copy()


def test_the_p256_key_is_published_with_the_organisation(client, db):
    """The organisation's ES256 key exists, and is in its did.json, before anything is signed."""
    organisation_create(slug="maker", legal_name="Maker B.V.")

    document = client.get("/orgs/maker/did.json").json()

    assert [m["publicKeyJwk"]["kty"] for m in document["verificationMethod"]] == ["OKP", "EC"]


def test_a_copy_of_did_json_fetched_before_the_first_issuance_verifies_it(client, acme, mandate):
    """The verifier fetched did.json (and may cache it for 300 s) before the organisation's
    first ES256 signature: the key that signature names is already in that copy."""
    cached = client.get(f"/orgs/{acme.slug}/did.json").json()
    wallet = TestWallet()
    created = offer_create(actor=operator(), issuer=acme, configuration="mandate",
                           mandate=mandate)

    sd_jwt = wallet.redeem_offer(created.by_reference, created.tx_code)

    header, _ = decode_jwt_parts(SdJwt.parse(sd_jwt).jwt)
    assert header["alg"] == "ES256"
    result = get_suite("dc+sd-jwt").verify(sd_jwt, served_keys(cached))
    assert result.ok, result.errors
    assert client.get(f"/orgs/{acme.slug}/did.json").json() == cached  # nothing new since


def test_dids_made_before_the_p256_key_get_it_at_migration(db):
    """A DID from before every organisation had a P-256 key gets one when migrations run (the
    post_migrate hook), so it is published before the first ES256 signature."""
    from credentials.key_store import complete_did_key_sets

    organisation_create(slug="older", legal_name="Older B.V.")
    did = "did:web:localhost%3A8000:orgs:older"
    KeyPair.objects.filter(controller=did, key_type=KeyPair.KeyType.P256).delete()

    assert complete_did_key_sets() == 1

    assert set(KeyPair.objects.filter(controller=did).values_list("key_type", flat=True)) == \
        {"Ed25519", "P-256"}
    assert complete_did_key_sets() == 0
