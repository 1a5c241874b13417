"""An access role issued through OpenID4VCI by an attested manufacturer names it by its https
Credential Issuer identifier and `x5c` (HAIP 1.0, the default): the Verifier still knows it is
the manufacturer, so the role counts only while the manufacturer's entitlement stands."""

import pytest

from credentials.sd_jwt import SdJwt
from credentials.signing import decode_jwt_parts
from openid4vci.services.metadata import issuer_identifier
from openid4vci.services.offers import offer_create
from passports.models import Entitlement
from tests.support.environment import generous_rate_limits
from tests.support.openid4vci_wallet import TestWallet
from tests.support.passport_access import ask, present_role, read
from wallet.tenancy.authority import operator


@pytest.fixture(autouse=True)
def _generous_rate_limits(settings):
    generous_rate_limits(settings, "openid4vci", "verify", "public")


def x5c_role(access, client) -> str:  # noqa: F811
    entitlement = Entitlement.objects.get(manufacturer=access.acme, partner=access.recycle)
    created = offer_create(actor=operator(), issuer=access.acme, configuration="access_role",
                           entitlement=entitlement, role="authorised recycler")
    wallet = TestWallet(client=client)
    copy = wallet.redeem_offer(created.by_reference, created.tx_code)
    access.wallet.key = wallet.signer  # the same wallet presents it
    header, payload = decode_jwt_parts(SdJwt.parse(copy).jwt)
    assert "x5c" in header and payload["iss"] == issuer_identifier(access.acme)
    return copy


def test_an_x5c_role_from_the_manufacturer_reads_its_group(access, client):  # noqa: F811
    asked = ask(client, access.passport)
    assert present_role(access, asked, x5c_role(access, client)).status_code == 200

    answer = read(client, asked)

    assert answer.status_code == 200, answer.content


def test_an_x5c_role_the_manufacturer_no_longer_backs_gives_no_access(access,  # noqa: F811
                                                                      client):
    asked = ask(client, access.passport)
    present_role(access, asked, x5c_role(access, client))
    Entitlement.objects.all().delete()

    refused = read(client, asked)

    assert refused.status_code == 403 and refused.json()["code"] == "role_withdrawn"
