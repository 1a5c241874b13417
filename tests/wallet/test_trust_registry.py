"""The trust registry's answer for an issuer DID (wallet/business/trust.py): which identity
credentials count, in which order, and who is trusted without one. It is read with one plain
SQL query on every verification (issue #20), so each rule it applies is pinned here."""

from datetime import UTC, datetime, timedelta

import pytest

from tests.support.factories import acme_with_legal_details, organisation, trust_anchor
from tests.support.wallet import attest
from wallet.business.trust import ServiceTrustRegistry
from wallet.tenancy.credential_status import wallet_credential_revoke
from wallet.tenancy.legal_models import TrustedAnchor, WalletCredential


@pytest.fixture
def register(db):
    return trust_anchor(registry_name="Demo Handelsregister")


@pytest.fixture
def acme(db):
    return acme_with_legal_details()


def legal_person(did, now=None):
    return ServiceTrustRegistry().legal_person(did, now=now or datetime.now(UTC))


def identity_anchor_of(org):
    return WalletCredential.objects.get(holder=org, kind=WalletCredential.Kind.IDENTITY_ANCHOR)


def test_an_attested_issuer_is_the_legal_person_its_identity_credential_names(acme, register):
    attest(acme, register)
    held = identity_anchor_of(acme)

    person, reason = legal_person(acme.did)

    assert reason == ""
    assert person == {"name": "Acme Batteries B.V.", "registry_id": "12345678",
                      "register": "Demo Handelsregister", "anchor": register.did,
                      "anchor_name": register.legal_name, "credential": held.credential_id}


def test_an_identity_credential_counts_only_within_its_validity_period(acme, register):
    attest(acme, register)
    held = identity_anchor_of(acme)

    before = held.valid_from - timedelta(seconds=1)
    assert legal_person(acme.did, now=before) == (
        None, "no identity credential from a trust anchor")

    WalletCredential.objects.filter(pk=held.pk).update(
        valid_until=datetime.now(UTC) - timedelta(minutes=1))
    assert legal_person(acme.did) == (None, "no identity credential from a trust anchor")


def test_the_newest_identity_credential_is_read_first_and_a_revoked_one_is_named(acme, register):
    first, _ = attest(acme, register)
    wallet_credential_revoke(credential=first, reason="superseded")
    second, _ = attest(acme, register)

    person, _ = legal_person(acme.did)
    assert person["credential"] == second.credential_id

    wallet_credential_revoke(credential=second, reason="company dissolved")
    assert legal_person(acme.did) == (
        None, f"its identity credential from {register.legal_name} is revoked; "
              f"its identity credential from {register.legal_name} is revoked")


def test_an_attestation_counts_while_its_anchor_is_in_the_registry_or_the_setting(
        acme, register, settings):
    attest(acme, register)
    TrustedAnchor.objects.all().delete()
    assert legal_person(acme.did) == (
        None, f"{register.legal_name} is not in the trust registry")

    settings.TRUSTED_ANCHOR_DIDS = [register.did]
    assert legal_person(acme.did)[0]["anchor"] == register.did


def test_an_anchor_is_its_own_legal_person(register):
    person, reason = legal_person(register.did)

    assert reason == ""
    assert person == {"name": register.legal_name, "registry_id": "", "register":
                      "trust registry", "anchor": register.did,
                      "anchor_name": register.legal_name, "credential": None}


def test_an_issuer_that_is_no_organisation_of_ours_has_no_legal_person(db):
    organisation("bolt")
    for did in ("did:web:elsewhere.example:orgs:bolt", "did:key:z6MkhaXgBZDvotDkL5257",
                organisation("cell").did.replace(":cell", ":nobody")):
        assert legal_person(did) == (
            None, "the issuer is not an organisation registered on this service")


# The registry as the ORM read it before it became one plain SQL query (issue #20): the fast
# path must give the same answer, word for word, in every state the registry can be in.

def reference_legal_person(issuer, now):
    from django.conf import settings
    from django.db.models import Exists, OuterRef, Q

    from credentials.signing import decode_jwt_parts
    from wallet.business.trust import organisation_for_did
    from wallet.tenancy.models import Organisation

    def is_anchor(ref):
        return Exists(TrustedAnchor.objects.filter(organisation=OuterRef(ref)))

    found = organisation_for_did(issuer)
    organisations = Organisation.objects.filter(pk=found.pk) if found else None
    held = [] if organisations is None else list(
        WalletCredential.objects
        .filter(holder__in=organisations, kind=WalletCredential.Kind.IDENTITY_ANCHOR,
                valid_from__lte=now)
        .filter(Q(valid_until__isnull=True) | Q(valid_until__gt=now))
        .select_related("issuer", "holder")
        .annotate(issuer_is_anchor=is_anchor("issuer"), holder_is_anchor=is_anchor("holder"))
        .order_by("-created_at"))
    if held:
        organisation, anchor = held[0].holder, held[0].holder_is_anchor
    else:
        organisation = (organisations.annotate(is_anchor=is_anchor("pk")).first()
                        if organisations is not None else None)
        anchor = organisation is not None and organisation.is_anchor
    if organisation is None:
        return None, "the issuer is not an organisation registered on this service"
    named = set(getattr(settings, "TRUSTED_ANCHOR_DIDS", []))
    if issuer in named or anchor and issuer == organisation.did:
        return {"name": organisation.legal_name, "registry_id": "",
                "register": "trust registry", "anchor": issuer,
                "anchor_name": organisation.legal_name, "credential": None}, ""
    reasons = []
    for credential in held:
        if credential.state != WalletCredential.State.ACTIVE:
            reasons.append(f"its identity credential from {credential.issuer.legal_name} is "
                           f"{credential.state}")
            continue
        if not (credential.issuer_is_anchor or credential.issuer.did in named):
            reasons.append(f"{credential.issuer.legal_name} is not in the trust registry")
            continue
        subject = decode_jwt_parts(credential.credential)[1]["credentialSubject"]
        return {"name": subject["registeredName"], "registry_id": subject["registeredId"],
                "register": subject["idScheme"]["name"], "anchor": credential.issuer.did,
                "anchor_name": credential.issuer.legal_name,
                "credential": credential.credential_id}, ""
    return None, "; ".join(reasons or ["no identity credential from a trust anchor"])


def test_the_registry_answers_as_the_orm_reference_in_every_state(acme, register, settings):
    bolt = organisation("bolt")
    dids = [acme.did, register.did, bolt.did, "did:web:elsewhere.example:orgs:acme"]

    def same_answers(now=None):
        moment = now or datetime.now(UTC)
        for did in dids:
            assert legal_person(did, now=moment) == reference_legal_person(did, moment), did

    same_answers()  # nobody attested
    first, _ = attest(acme, register)
    same_answers()
    same_answers(now=identity_anchor_of(acme).valid_from - timedelta(seconds=1))
    wallet_credential_revoke(credential=first, reason="superseded")
    same_answers()
    attest(acme, register)
    same_answers()
    TrustedAnchor.objects.filter(organisation=register).delete()
    same_answers()
    settings.TRUSTED_ANCHOR_DIDS = [register.did]
    same_answers()
    settings.TRUSTED_ANCHOR_DIDS = [acme.did]
    same_answers()
