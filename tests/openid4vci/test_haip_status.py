"""HAIP 1.0 §6.1, §7 and Token Status List: a relying party that supports only ES256 and `x5c`
(what an EU wallet or verifier library does) checks the status of the service's credentials.
Its code below uses `cryptography` and the issuing CA it was given, nothing of the service."""

from __future__ import annotations

import base64
import json
import zlib

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from cryptography.x509 import load_der_x509_certificate

from credentials import x509
from credentials.sd_jwt import SdJwt
from credentials.status_registry import status_list_publish
from openid4vci.services.offers import offer_create
from tests.support.openid4vci_wallet import TestWallet, local_path, service_issuing_ca
from wallet.tenancy.authority import operator
from wallet.tenancy.mandates import mandate_revoke

VALID, INVALID = 0, 1


def b64url(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


class Es256X5cOnly:
    """A relying party that knows one trust anchor and one algorithm: ES256 keys from `x5c`."""

    def __init__(self, anchors: x509.TrustAnchors):
        self.anchors = anchors

    def verified(self, jwt: str, typ: str) -> tuple[dict, dict]:
        header_part, payload_part, signature_part = jwt.split(".")
        header, payload = json.loads(b64url(header_part)), json.loads(b64url(payload_part))
        assert header["typ"] == typ
        if header.get("alg") != "ES256" or "x5c" not in header:
            raise AssertionError(f"unsupported: alg {header.get('alg')}, "
                                 f"{'x5c' if 'x5c' in header else 'no x5c'}")
        chain = x509.validate_chain(header["x5c"], self.anchors)  # RFC 5280, to the anchor
        assert payload["iss"] in chain.leaf.uris, (payload["iss"], chain.leaf.uris)
        leaf_key = load_der_x509_certificate(base64.b64decode(header["x5c"][0])).public_key()
        assert isinstance(leaf_key, ec.EllipticCurvePublicKey)
        raw = b64url(signature_part)
        signature = encode_dss_signature(int.from_bytes(raw[:32], "big"),
                                         int.from_bytes(raw[32:], "big"))
        try:
            leaf_key.verify(signature, f"{header_part}.{payload_part}".encode(),
                            ec.ECDSA(hashes.SHA256()))
        except InvalidSignature:
            raise AssertionError("signature does not verify") from None
        return header, payload

    def status(self, client, sd_jwt: str) -> int:
        """The credential verified, then its Token Status List fetched and verified the same
        way (same issuer), and the entry read (draft-ietf-oauth-status-list §4, §8)."""
        _, credential = self.verified(SdJwt.parse(sd_jwt).jwt, "dc+sd-jwt")
        reference = credential["status"]["status_list"]
        response = client.get(local_path(reference["uri"]),
                              HTTP_ACCEPT="application/statuslist+jwt")
        assert response.status_code == 200
        assert response["Content-Type"].startswith("application/statuslist+jwt")
        _, token = self.verified(response.content.decode(), "statuslist+jwt")
        assert token["sub"] == reference["uri"]
        assert token["iss"] == credential["iss"]
        bits, data = token["status_list"]["bits"], zlib.decompress(
            b64url(token["status_list"]["lst"]))
        index = reference["idx"]
        byte, shift = divmod(index * bits, 8)
        return (data[byte] >> shift) & ((1 << bits) - 1)


@pytest.fixture
def relying_party(db) -> Es256X5cOnly:
    return Es256X5cOnly(service_issuing_ca())


def test_an_es256_x5c_only_verifier_checks_the_status_of_a_copy(client, acme, business_identity,
                                                               mandate):
    created = offer_create(actor=operator(), issuer=acme, configuration="mandate",
                           mandate=mandate)
    copy = TestWallet().redeem_offer(created.by_reference, created.tx_code)
    relying_party = Es256X5cOnly(service_issuing_ca())

    assert relying_party.status(client, copy) == VALID

    mandate_revoke(mandate=mandate, reason="left the company")
    status_list_publish(mandate.credential.status_list_id)  # the worker does this in seconds

    assert relying_party.status(client, copy) == INVALID


def test_a_trust_anchors_copies_and_lists_carry_x5c_too(client, register, acme,
                                                        business_identity, relying_party):
    created = offer_create(actor=operator(), issuer=register, configuration="business_identity",
                           wallet_credential=business_identity)
    copy = TestWallet().redeem_offer(created.by_value, created.tx_code)

    assert relying_party.status(client, copy) == VALID


def test_an_unattested_organisation_signs_its_lists_es256_under_its_did(client, acme, mandate,
                                                                       relying_party):
    """No trust anchor vouches for it, so no certificate: its copies and lists are ES256 with
    the did:web key (published in did.json from the start); an x5c-only party says so."""
    created = offer_create(actor=operator(), issuer=acme, configuration="mandate",
                           mandate=mandate)
    copy = TestWallet().redeem_offer(created.by_reference, created.tx_code)
    uri = json.loads(b64url(SdJwt.parse(copy).jwt.split(".")[1]))["status"]["status_list"]["uri"]
    token = client.get(local_path(uri), HTTP_ACCEPT="application/statuslist+jwt").content.decode()
    header = json.loads(b64url(token.split(".")[0]))

    assert header["alg"] == "ES256" and "x5c" not in header
    assert header["kid"].startswith(acme.did + "#")
    with pytest.raises(AssertionError, match="no x5c"):
        relying_party.status(client, copy)
