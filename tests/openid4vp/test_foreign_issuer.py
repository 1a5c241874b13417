"""An EU wallet presents a PID that a foreign provider issued the HAIP 1.0 way (iss an https URL,
the X.509 chain in x5c, holder-bound by cnf.jwk, status in the provider's Token Status List):
the Verifier accepts it when the chain leads to one of its configured trust anchors
(OPENID4VP_TRUSTED_ISSUER_CERTIFICATES) and refuses it, naming why, otherwise."""

import pytest

from openid4vp.models import ReceivedPresentation
from openid4vp.services import authorization_request, presentation_request_create
from tests.support.openid4vp import create_request, failed, refused, result_of, simple_query
from tests.support.pki import ISSUER, PID_VCT, foreign_sd_jwt_vc, root_ca, status_list_token

PID_QUERY = simple_query(["family_name"], ["given_name"], ["address", "locality"], vct=PID_VCT)


def ask(world, **fields):
    created = create_request(world, PID_QUERY, **fields)
    return created, world.wallet.fetch(created["authorization_request"])


@pytest.mark.parametrize("mode", ["direct_post", "direct_post.jwt"])
def test_a_certified_pid_is_accepted_and_its_provider_named(world, pid, anchored, status_lists,
                                                            mode):
    created, request = ask(world, mode=mode)

    answer = world.wallet.answer_query(request, "pid")

    assert answer.status_code == 200, answer.content
    result = result_of(world, created)
    assert result["status"] == "verified", result
    [credential] = result["credentials"]
    assert credential["ok"] and credential["vct"] == PID_VCT
    issuer = credential["issuer"]
    assert issuer["id"] == ISSUER and issuer["trusted"] is True
    assert issuer["legal_person"]["name"] == "PID Provider Example"
    assert issuer["legal_person"]["registry_id"] == "VATDE-123456789"
    assert issuer["legal_person"]["anchor_name"] == "Test Trust Service"
    assert {"check": "status", "ok": True, "purpose": "revocation",
            "detail": "valid"} in credential["checks"]
    assert result["disclosed"]["my_credential"] == {
        "iss": ISSUER, "vct": PID_VCT, "iat": credential["claims"]["iat"],
        "exp": credential["claims"]["exp"], "status": credential["claims"]["status"],
        "family_name": "Mustermann", "given_name": "Erika", "address": {"locality": "Köln"}}
    assert status_lists.fetches == [pid]


def test_the_anchors_can_be_a_pem_bundle_file(world, pid, settings, root, tmp_path):
    bundle = tmp_path / "trusted-list.pem"
    bundle.write_text(root_ca("Another Member State").pem + root.pem)
    settings.OPENID4VP_TRUSTED_ISSUER_CERTIFICATES = str(bundle)
    created, request = ask(world)

    world.wallet.answer_query(request, "pid")

    assert result_of(world, created)["status"] == "verified"


def test_a_pid_is_refused_when_no_anchor_is_configured(world, pid):
    created, request = ask(world)

    answer = world.wallet.answer_query(request, "pid")

    refused(answer, "access_denied", "does not lead to a trusted anchor")
    result = failed(world, created, "untrusted_issuer",
                    "issuer: x5c chain does not lead to a trusted anchor (no trust anchors are "
                    "configured)")
    assert result["disclosed"] == {}
    assert ReceivedPresentation.objects.filter(request__pk=created["id"]).count() == 1


def test_a_pid_under_another_ca_is_refused(world, anchored):
    rogue = root_ca("Rogue Root").issue()
    world.wallet.credentials["pid"] = foreign_sd_jwt_vc(rogue, world.wallet.key.public_key())
    created, request = ask(world)

    answer = world.wallet.answer_query(request, "pid")

    refused(answer, "access_denied")
    failed(world, created, "untrusted_issuer", "does not lead to a trusted anchor")


def test_a_pid_whose_certificate_names_another_issuer_is_refused(world, root, anchored):
    other = root.issue(uris=("https://other-provider.example.eu",))
    world.wallet.credentials["pid"] = foreign_sd_jwt_vc(other, world.wallet.key.public_key())
    created, request = ask(world)

    world.wallet.answer_query(request, "pid")

    failed(world, created, "untrusted_issuer", "certificate SAN does not match iss")


def test_a_revoked_pid_is_refused_naming_revoked(world, pid, provider, anchored, status_lists):
    status_lists.bodies[pid] = status_list_token(provider, pid, {7: 1})
    created, request = ask(world)

    answer = world.wallet.answer_query(request, "pid")

    refused(answer, "access_denied", "revoked")
    failed(world, created, "revoked", "revoked")


def test_a_request_accepting_only_some_issuers_keeps_working_with_https_issuers(
        world, pid, anchored):
    for accepted, status in (([ISSUER], "verified"), ([world.acme.did], "failed")):
        request, _ = presentation_request_create(
            organisation=world.verifier, dcql_query=PID_QUERY, purpose="Check the PID",
            accepted_issuers=accepted)
        fetched = world.wallet.fetch(authorization_request(request))

        world.wallet.answer_query(fetched, "pid")

        request.refresh_from_db()
        assert request.status == status, request.reason
        if status == "failed":
            assert request.error_code == "untrusted_issuer"
            assert f"issuer {ISSUER} is not one this request accepts" in request.reason
