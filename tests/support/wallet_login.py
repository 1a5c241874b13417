"""Logging in with the wallet (issue #21) from the wallet's side: a person's mandate put into
their EU wallet over OpenID4VCI, and answering the service's login request with it."""

from __future__ import annotations

import json
import re
from urllib.parse import urlencode

from openid4vci.services.offers import offer_create
from tests.support.openid4vci_wallet import TestWallet
from tests.support.openid4vp_wallet import Wallet
from wallet.tenancy.authority import operator

ASKED = [["scope"], ["principal", "legal_name"]]  # what the login's DCQL query asks of a mandate


def wallet_with_mandates(client, *mandates) -> Wallet:
    """An EU wallet (one P-256 key) holding a copy of each mandate, named mandate0, mandate1…
    (each received over OpenID4VCI, bound to the wallet's key)."""
    receiving = TestWallet(client=client)
    held = {}
    for number, mandate in enumerate(mandates):
        offered = offer_create(actor=operator(), issuer=mandate.organisation,
                               configuration="mandate", mandate=mandate)
        held[f"mandate{number}"] = receiving.redeem_offer(offered.by_reference, offered.tx_code)
    return Wallet(client, key=receiving.signer, credentials=held)


def answer_login(holder: Wallet, authorization_request: str, names=("mandate0",), *,
                 request=None):
    """Follow the `openid4vp://` link and answer with the named mandates (disclosing what the
    query asks); the Response Endpoint's answer."""
    request = request or holder.fetch(authorization_request)
    presentations = [holder.presentation(request, name, ASKED) for name in names]
    return holder.answer(request, {"mandate": presentations})


def link_on_page(html: str) -> str:
    """The `openid4vp://` link the login page offers for a wallet on the same device."""
    found = re.search(r'href="(openid4vp://[^"]+)"', html)
    assert found, "no openid4vp:// link on the page"
    return found.group(1).replace("&amp;", "&")


TOKEN_FORM = {"grant_type": "urn:ietf:params:oauth:grant-type:token-exchange",
              "subject_token_type": "urn:dpp-wallet:params:oauth:token-type:vp_token"}


def token_request(client, holder: Wallet, names=("mandate0",), *, nonce: str | None = None,
                  aud: str | None = None, language: str = "en", **form):
    """A machine exchanges presentations of its mandates for an access token at /oauth/token
    (a fresh nonce from /oauth/nonce unless given; KB-JWT aud: the token endpoint)."""
    from credentials.sd_jwt import present

    if nonce is None:
        given = client.post("/oauth/nonce")
        assert given.status_code == 200, given.content
        nonce, aud = given.json()["nonce"], aud or given.json()["audience"]
    presentations = [present(holder.credentials[name], disclose=["scope", "principal.legal_name"],
                             holder_signer=holder.key, aud=aud, nonce=nonce)
                     for name in names]
    body = {**TOKEN_FORM, "subject_token": json.dumps({"mandate": presentations}), **form}
    return client.post("/oauth/token", urlencode(body),
                       content_type="application/x-www-form-urlencoded",
                       HTTP_ACCEPT_LANGUAGE=language)


def read_qr(client, image_url: str) -> str:
    """What a phone's camera reads from the login page's QR code: the link it encodes. (The
    SVG names its content in <title>; the symbol is checked to encode exactly that link.)"""
    from html import unescape
    from urllib.parse import urlsplit

    from core.qr import qr_svg

    served = client.get(urlsplit(image_url).path)
    assert served.status_code == 200 and served["Content-Type"] == "image/svg+xml"
    found = re.search(rb"<title>([^<]+)</title>", served.content)
    assert found, "the QR code has no title"
    link = unescape(found.group(1).decode())
    assert served.content == qr_svg(link, scale=4), "the symbol does not encode its title"
    return link


def started_link(browser) -> str:
    """Start a login in `browser` (a Django test client) and read its wallet link."""
    started = browser.post("/admin/login/wallet/")
    assert started.status_code == 302, started.content
    return link_on_page(browser.get(started["Location"]).content.decode())


def recycler_with_role(client, manufacturer, group: str = "legitimate_interest"):
    """The partner `recycle`, entitled by `manufacturer` to `group`, and its wallet holding the
    access role the manufacturer issued it (over OpenID4VCI): (recycle, wallet)."""
    from passports.models import Entitlement
    from tests.support.factories import organisation

    recycle = organisation("recycle", "Recycle Partners B.V.")
    entitlement = Entitlement.objects.create(manufacturer=manufacturer, partner=recycle,
                                             access_group=group)
    offered = offer_create(issuer=manufacturer, configuration="access_role",
                           entitlement=entitlement, role="authorised battery recycler",
                           actor=operator())
    receiving = TestWallet(client=client)
    role = receiving.redeem_offer(offered.by_reference, offered.tx_code)
    return recycle, Wallet(client, key=receiving.signer, credentials={"role": role})


def answer_with_role(holder: Wallet, authorization_request: str):
    """Answer the login request with the organisation's access role."""
    request = holder.fetch(authorization_request)
    presentation = holder.presentation(request, "role", [["access_group"], ["role"]])
    return holder.answer(request, {"role": [presentation]})
