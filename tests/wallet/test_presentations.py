"""Presentations and entitlement by presentation: a partner proves who it is and what role it
has, bound to this service's challenge, and gets exactly its access group's credential."""

from datetime import UTC, datetime

import pytest

from credentials.signing import decode_jwt_parts
from passports.services.presentation_access import (
    PresentationRefused,
    access_by_presentation,
    access_challenge,
)
from tests.support.factories import organisation
from tests.support.pki import ISSUER as PID_ISSUER
from tests.support.pki import foreign_sd_jwt_vc, root_ca
from tests.support.wallet import DOMAIN, present
from wallet.business.presentations import (
    credential_import,
    role_credential_issue,
    sd_jwt_presentation_create,
)
from wallet.business.verification import verify
from wallet.tenancy.errors import WalletError
from wallet.tenancy.legal_models import TrustedAnchor, WalletCredential


def test_a_partner_with_identity_and_role_gets_exactly_its_access_group(world):
    challenge = access_challenge(passport=world["passport"])

    restricted = access_by_presentation(passport=world["passport"],
                                        presentation=present(world, challenge["challenge"]))

    assert challenge["domain"] == DOMAIN
    assert restricted.access_group == "legitimate_interest"
    _, credential = decode_jwt_parts(restricted.jwt)
    assert credential["credentialSubject"]["characteristics"]["remainingCapacity"]["value"] == 47


def test_a_replayed_presentation_fails(world):
    challenge = access_challenge(passport=world["passport"])["challenge"]
    presentation = present(world, challenge)
    access_by_presentation(passport=world["passport"], presentation=presentation)

    with pytest.raises(PresentationRefused) as refused:
        access_by_presentation(passport=world["passport"], presentation=presentation)

    assert refused.value.code == "challenge"
    assert "replay" in refused.value.detail


def test_a_wrong_challenge_fails(world):
    access_challenge(passport=world["passport"])

    with pytest.raises(PresentationRefused) as refused:
        access_by_presentation(passport=world["passport"],
                               presentation=present(world, "made-up-challenge"))

    assert refused.value.code == "challenge"


def test_a_wrong_domain_fails_naming_it(world):
    challenge = access_challenge(passport=world["passport"])["challenge"]

    with pytest.raises(PresentationRefused) as refused:
        access_by_presentation(passport=world["passport"],
                               presentation=present(world, challenge, domain="https://evil.x"))

    assert refused.value.code == "presentation_invalid"
    assert "aud mismatch" in refused.value.detail


def test_without_a_role_credential_there_is_no_access(world):
    challenge = access_challenge(passport=world["passport"])["challenge"]

    with pytest.raises(PresentationRefused) as refused:
        access_by_presentation(passport=world["passport"],
                               presentation=present(world, challenge, credentials=["identity"]))

    assert refused.value.code == "role_missing"
    assert refused.value.status == 403


def test_a_role_from_an_untrusted_issuer_gives_no_access(world):
    TrustedAnchor.objects.all().delete()
    challenge = access_challenge(passport=world["passport"])["challenge"]

    with pytest.raises(PresentationRefused) as refused:
        access_by_presentation(passport=world["passport"], presentation=present(world,
                                                                                 challenge))

    assert refused.value.code in ("identity_untrusted", "role_untrusted")


def test_a_tampered_presentation_fails(world):
    challenge = access_challenge(passport=world["passport"])["challenge"]
    header, payload, signature = present(world, challenge).split(".")
    tampered = ".".join([header, payload, signature[::-1]])

    with pytest.raises(PresentationRefused) as refused:
        access_by_presentation(passport=world["passport"], presentation=tampered)

    assert refused.value.code == "presentation_invalid"


def test_an_sd_jwt_presentation_discloses_only_what_was_chosen(world):
    presentation = sd_jwt_presentation_create(
        holder=world["recycle"], credential=world["business_identity"],
        disclose=["legal_name"], nonce="n-1", aud="https://verifier.example")

    verdict = verify(presentation, nonce="n-1", aud="https://verifier.example",
                     require_key_binding=True, now=datetime.now(UTC))

    assert verdict["verified"] is True, verdict["errors"]
    assert verdict["credential"]["legal_name"] == "Recycle Partners B.V."
    assert "euid" not in verdict["credential"]
    wrong_nonce = verify(presentation, nonce="n-2", aud="https://verifier.example",
                         require_key_binding=True, now=datetime.now(UTC))
    assert wrong_nonce["verified"] is False
    assert "nonce" in wrong_nonce["errors"][0]


def test_a_tampered_disclosure_fails(world):
    presentation = sd_jwt_presentation_create(
        holder=world["recycle"], credential=world["business_identity"],
        disclose=["legal_name"], nonce="n-1", aud="https://verifier.example")
    parts = presentation.split("~")
    parts[1] = parts[1][:-2] + ("AA" if parts[1][-2:] != "AA" else "BB")

    verdict = verify("~".join(parts), nonce="n-1", aud="https://verifier.example",
                     require_key_binding=True, now=datetime.now(UTC))

    assert verdict["verified"] is False
    assert verdict["checks"][0]["check"] == "proof"


def test_importing_a_credential_verifies_it_first(world):
    other = organisation("other", "Other B.V.")
    role = role_credential_issue(issuer=world["register"], holder=other, role="repairer",
                                 access_group="legitimate_interest")
    role.delete()  # as if it arrived from outside the wallet

    held, verdict = credential_import(holder=other, secured=role.credential)

    assert held.holder == other and verdict["verified"] is True
    header, payload, signature = role.credential.split(".")
    with pytest.raises(WalletError, match="does not verify"):
        credential_import(holder=other, secured=".".join([header, payload, signature[::-1]]))
    with pytest.raises(WalletError, match="is about"):
        credential_import(holder=world["acme"], secured=world["role"].credential)


def test_a_credential_from_an_issuer_elsewhere_is_held_once_it_verifies(world, settings):
    """A certified provider outside this service (x5c to a configured anchor) attests something
    about an organisation here; the organisation keeps it in its wallet. Without the anchor it
    does not verify and is refused; nothing is stored then."""
    holder = world["recycle"]
    root = root_ca()
    attestation = foreign_sd_jwt_vc(root.issue(), None,
                                    vct="https://example.eu/vct/waste-permit",
                                    claims={"sub": holder.did, "permit": "NL-AFV-2026-118"})

    with pytest.raises(WalletError, match="does not verify"):
        credential_import(holder=holder, secured=attestation)
    assert not WalletCredential.objects.filter(kind="imported").exists()

    settings.OPENID4VP_TRUSTED_ISSUER_CERTIFICATES = root.pem
    held, verdict = credential_import(holder=holder, secured=attestation)

    assert verdict["verified"] and verdict["issuer"]["trusted"]
    assert held.issuer is None and held.foreign_issuer == PID_ISSUER
    assert held.issuer_identifier == PID_ISSUER and held.holder == holder
    with pytest.raises(WalletError, match="already holds"):
        credential_import(holder=holder, secured=attestation)
