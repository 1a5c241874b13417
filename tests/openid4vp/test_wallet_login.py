"""Logging in to the admin with a mandate from an EU wallet (issue #21), through the pages as a
browser without script sees them: the session carries exactly the presented mandates, ends
when one is revoked, and every refusal says why."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from passports.models import Entitlement
from tests.support import eu_wallet
from tests.support.api import battery_product, issue
from tests.support.environment import generous_rate_limits
from tests.support.wallet_login import (
    ASKED,
    answer_login,
    answer_with_role,
    link_on_page,
    recycler_with_role,
    wallet_with_mandates,
)
from wallet.tenancy.legal_models import Mandate
from wallet.tenancy.login_models import MandateLogin, MandateLoginEvent
from wallet.tenancy.mandates import mandate_grant, mandate_revoke, mandate_suspend
from wallet.tenancy.models import Organisation

parties = eu_wallet.parties  # the fixture: acme (attested), jan with a passports:issue mandate


@pytest.fixture(autouse=True)
def _generous_rate_limits(settings):
    generous_rate_limits(settings, "openid4vci", "verify", "public")


def start(browser: Client) -> tuple[str, str]:
    """Press "Log in with your wallet": (the waiting page's path, the wallet link on it)."""
    started = browser.post("/admin/login/wallet/")
    assert started.status_code == 302, started.content
    page = browser.get(started["Location"])
    assert page.status_code == 200
    assert '<meta http-equiv="refresh"' in page.content.decode()
    return started["Location"], link_on_page(page.content.decode())


def test_a_person_logs_in_with_a_mandate_and_acts_only_within_it(client, parties):
    jan = parties["mandate"].grantee_user
    # Jan also holds a revoke mandate, but presents only the issue one.
    mandate_grant(organisation=parties["acme"], scope=Mandate.Scope.PASSPORTS_REVOKE, user=jan)
    holder = wallet_with_mandates(client, parties["mandate"])
    browser = Client()

    waiting, link = start(browser)
    assert browser.get(waiting).status_code == 200  # still waiting: the page refreshes
    assert answer_login(holder, link).status_code == 200
    landed = browser.get(waiting)

    assert landed.status_code == 302 and landed["Location"] == "/admin/"
    assert browser.get("/admin/").status_code == 200
    user = browser.get("/admin/").wsgi_request.user
    assert user == jan and user.is_staff and not user.has_usable_password()
    assert user.has_perm("passports.add_passport")  # passports:issue
    assert not user.has_perm("passports.change_passport")  # revoke: held, not presented
    login = MandateLogin.objects.get(user=jan)
    assert login.scopes == ["passports:issue"]
    assert list(login.mandates.all()) == [parties["mandate"]]
    assert MandateLoginEvent.objects.filter(login=login, kind="logged_in",
                                            mandates=[parties["mandate"].pk]).exists()


def test_a_revoked_mandate_ends_the_session_and_is_refused_at_the_next_login(
        client, parties, settings):
    settings.MANDATE_LOGIN_RECHECK_SECONDS = 0  # check on every request (documented N: 30 s)
    holder = wallet_with_mandates(client, parties["mandate"])
    browser = Client()
    waiting, link = start(browser)
    answer_login(holder, link)
    assert browser.get(waiting).status_code == 302
    assert browser.get("/admin/").status_code == 200

    mandate_revoke(mandate=parties["mandate"], reason="left the company")
    after = browser.get("/admin/")

    assert after.status_code == 302 and after["Location"].startswith("/admin/login/")
    login_page = browser.get(after["Location"])
    assert "The mandate was revoked by the organisation." in login_page.content.decode()
    assert MandateLogin.objects.get().end_reason == "revoked"

    waiting, link = start(Client())
    refused = answer_login(holder, link)
    assert refused.status_code == 400 and "revoked" in refused.json()["error_description"]


def test_a_suspended_mandate_is_refused_at_login_in_the_persons_language(client, parties):
    holder = wallet_with_mandates(client, parties["mandate"])
    mandate_suspend(mandate=parties["mandate"], reason="on leave")
    browser = Client(HTTP_ACCEPT_LANGUAGE="nl")
    waiting, link = start(browser)
    answer_login(holder, link)

    page = browser.get(waiting)

    assert page.status_code == 403
    assert "Het mandaat is door de organisatie geschorst." in page.content.decode()
    assert MandateLoginEvent.objects.filter(kind="refused", code="suspended").count() == 1


def test_a_replayed_wallet_response_is_refused(client, parties):
    holder = wallet_with_mandates(client, parties["mandate"])
    first_browser, second_browser = Client(), Client()
    waiting, link = start(first_browser)
    request = holder.fetch(link)
    presentation = holder.presentation(request, "mandate0", ASKED)
    assert holder.answer(request, {"mandate": [presentation]}).status_code == 200
    assert first_browser.get(waiting).status_code == 302

    other_waiting, other_link = start(second_browser)
    replayed = holder.answer(holder.fetch(other_link), {"mandate": [presentation]})
    page = second_browser.get(other_waiting)

    assert replayed.status_code == 400 and "replay" in replayed.json()["error_description"]
    assert page.status_code == 403
    assert "already used" in page.content.decode()
    assert MandateLogin.objects.count() == 1


def test_only_the_browser_that_started_the_login_can_finish_it(client, parties):
    holder = wallet_with_mandates(client, parties["mandate"])
    waiting, link = start(Client())
    answer_login(holder, link)

    stranger = Client().get(waiting)

    assert stranger.status_code == 302 and stranger["Location"] == "/admin/login/"
    assert not MandateLogin.objects.exists()


def test_an_organisation_can_turn_passwords_off_for_its_staff(parties, django_user_model):
    jan = parties["mandate"].grantee_user
    jan.set_password("correct horse battery staple")
    jan.save()
    acme = parties["acme"]
    acme.wallet_login_required = True
    acme.save()
    operator = django_user_model.objects.create_superuser("root", password="operator pass")

    refused = Client().post("/admin/login/", {"username": jan.username,
                                              "password": "correct horse battery staple"})
    allowed = Client().post("/admin/login/", {"username": operator.username,
                                              "password": "operator pass"})

    assert refused.status_code == 200  # the form again, not logged in
    assert "log in only with their wallet" in refused.content.decode()
    assert allowed.status_code == 302


def test_a_partners_staff_member_reads_only_the_entitled_group(
        client, parties, django_capture_on_commit_callbacks):
    passport = issue(battery_product(parties["acme"]), django_capture_on_commit_callbacks)
    recycle, holder = recycler_with_role(client, parties["acme"])
    browser = Client()
    waiting, link = start(browser)

    assert answer_with_role(holder, link).status_code == 200
    landed = browser.get(waiting)
    page = browser.get("/partner/")

    assert landed.status_code == 302, landed.content.decode()[-3000:]
    assert landed["Location"] == "/partner/"
    text = page.content.decode()
    assert page.status_code == 200 and f'data-passport="{passport.pk}"' in text
    assert "putIntoServiceDate" in text  # legitimate_interest
    assert "testReportResults" not in text  # authorities: not this partner's
    assert 'data-group="legitimate_interest"' in text and "authorities" not in text
    assert not browser.get("/admin/").wsgi_request.user.is_authenticated  # no admin account

    Entitlement.objects.filter(partner=recycle).delete()  # the manufacturer withdraws it
    ended = browser.get("/partner/")
    assert ended.status_code == 302
    assert "The mandate was revoked" in browser.get(ended["Location"]).content.decode()


def test_the_first_login_makes_the_staff_account_named_by_the_pid(
        client, parties, django_user_model):
    from tests.support.openid4vp import issue_identity

    newcomer = django_user_model.objects.create_user(username="newcomer")  # no staff, no member
    ends = timezone.now().replace(microsecond=0) + timedelta(hours=2)
    mandate = mandate_grant(organisation=parties["acme"], scope=Mandate.Scope.PASSPORTS_REVOKE,
                            user=newcomer, valid_until=ends)
    holder = wallet_with_mandates(client, mandate)
    register = Organisation.objects.get(slug="register")
    holder.credentials["pid"] = issue_identity(
        register, holder, vct="urn:eudi:pid:1",
        claims={"given_name": "Erika", "family_name": "Mustermann"}).credential
    browser = Client()
    waiting, link = start(browser)
    request = holder.fetch(link)
    answered = holder.answer(request, {
        "mandate": [holder.presentation(request, "mandate0", ASKED)],
        "pid": [holder.presentation(request, "pid", [["given_name"], ["family_name"]])]})

    assert answered.status_code == 200, answered.content
    assert browser.get(waiting).status_code == 302
    newcomer.refresh_from_db()
    assert newcomer.is_staff and not newcomer.has_usable_password()
    assert (newcomer.first_name, newcomer.last_name) == ("Erika", "Mustermann")
    assert newcomer.membership.organisation == parties["acme"]
    assert browser.session.get_expiry_date() == ends  # the session ends with the mandate


def test_the_session_rechecks_its_mandates_only_every_n_seconds(client, parties, settings):
    holder = wallet_with_mandates(client, parties["mandate"])
    browser = Client()
    waiting, link = start(browser)
    answer_login(holder, link)
    browser.get(waiting)

    def mandate_queries() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert browser.get("/admin/").status_code == 200
        return sum("wallet_mandatelogin" in q["sql"] for q in queries.captured_queries)

    settings.MANDATE_LOGIN_RECHECK_SECONDS = 30
    between_checks = mandate_queries()
    settings.MANDATE_LOGIN_RECHECK_SECONDS = 0
    checking = mandate_queries()

    assert between_checks == 0
    assert checking == 2  # the login, and its mandates with their state
