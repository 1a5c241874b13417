"""Logging in with the wallet in a real headless Chromium (issue #21): the test plays the
person's EU wallet (reads the QR code, or follows the link on the same device, and answers the
request); the browser lands in the admin with exactly the presented mandate's permissions. A
revoked mandate is refused at login and ends a live session; a replayed answer is refused.

Screenshots go to var/screenshots/ (docs/screenshots/ with UPDATE_SCREENSHOTS=1)."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from django.test import Client
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from tests.support import eu_wallet
from tests.support.browser import chromium, click_through, screenshot
from tests.support.environment import generous_rate_limits
from tests.support.wallet_login import (
    ASKED,
    answer_login,
    read_qr,
    started_link,
    wallet_with_mandates,
)
from wallet.tenancy.mandates import mandate_revoke

parties = eu_wallet.parties  # acme (attested), jan with a passports:issue mandate


@pytest.fixture(autouse=True)
def _generous_rate_limits(settings):
    generous_rate_limits(settings, "openid4vci", "verify", "public")


@pytest.fixture(scope="module")
def browser():
    with chromium("en", implicit_wait=15) as driver:
        yield driver


@pytest.fixture
def fresh(browser, transactional_db):
    browser.delete_all_cookies()
    return browser


def waiting_page(browser, live_server, *, shots: bool = False) -> None:
    browser.get(live_server.url + "/admin/login/")
    if shots:
        screenshot(browser, "wallet-login-page", "admin-login-wallet")
    click_through(browser, By.ID, "wallet-login")
    assert browser.find_element(By.ID, "waiting")
    if shots:
        screenshot(browser, "wallet-login-qr", "admin-login-wallet-qr")


def landed_in_the_admin(browser) -> None:
    WebDriverWait(browser, 30).until(lambda driver: urlsplit(driver.current_url).path
                                     == "/admin/")  # the page's refresh meta brings it here


def test_cross_device_login_lands_in_the_admin_with_the_mandates_permissions(
        fresh, live_server, parties):
    holder = wallet_with_mandates(Client(), parties["mandate"])
    waiting_page(fresh, live_server, shots=True)

    link = read_qr(Client(), fresh.find_element(By.ID, "wallet-qr").get_attribute("src"))
    assert answer_login(holder, link).status_code == 200
    landed_in_the_admin(fresh)

    page = fresh.find_element(By.ID, "content-main").text
    assert "Passports" in page and "Products" in page  # passports:issue opens these
    assert "Invoices" not in page and "Messages" not in page  # no mandate for these
    assert "Add" in fresh.find_element(By.CSS_SELECTOR, "tr.model-product").text
    screenshot(fresh, "wallet-login-landed")


def test_same_device_login_returns_through_the_redirect(fresh, live_server, parties):
    holder = wallet_with_mandates(Client(), parties["mandate"])
    waiting_page(fresh, live_server)

    link = fresh.find_element(By.ID, "same-device").get_attribute("href")
    answered = answer_login(holder, link)
    back_to = answered.json()["redirect_uri"]  # the wallet opens it in the same browser
    fresh.get(live_server.url + urlsplit(back_to).path + "?" + urlsplit(back_to).query)

    landed_in_the_admin(fresh)


def test_a_revoked_mandate_ends_the_live_session_and_is_refused_at_login(
        fresh, live_server, parties, settings):
    settings.MANDATE_LOGIN_RECHECK_SECONDS = 0  # every request (production: 30 s)
    holder = wallet_with_mandates(Client(), parties["mandate"])
    waiting_page(fresh, live_server)
    answer_login(holder, read_qr(Client(), fresh.find_element(By.ID, "wallet-qr")
                                 .get_attribute("src")))
    landed_in_the_admin(fresh)

    mandate_revoke(mandate=parties["mandate"], reason="left the company")
    fresh.get(live_server.url + "/admin/passports/passport/")

    assert urlsplit(fresh.current_url).path == "/admin/login/"
    assert "The mandate was revoked by the organisation." in fresh.page_source
    waiting_page(fresh, live_server)
    link = read_qr(Client(), fresh.find_element(By.ID, "wallet-qr").get_attribute("src"))
    assert answer_login(holder, link).status_code == 400
    WebDriverWait(fresh, 30).until(lambda driver: driver.find_elements(By.ID, "refusal"))
    assert fresh.find_element(By.ID, "refusal").get_attribute("data-code") == "revoked"
    screenshot(fresh, "wallet-login-refused")


def test_a_replayed_answer_is_refused(fresh, live_server, parties):
    holder = wallet_with_mandates(Client(), parties["mandate"])
    first = holder.fetch(started_link(Client()))  # the first login, in another browser
    presentation = holder.presentation(first, "mandate0", ASKED)
    assert holder.answer(first, {"mandate": [presentation]}).status_code == 200

    waiting_page(fresh, live_server)
    link = read_qr(Client(), fresh.find_element(By.ID, "wallet-qr").get_attribute("src"))
    replayed = holder.answer(holder.fetch(link), {"mandate": [presentation]})

    assert replayed.status_code == 400
    WebDriverWait(fresh, 30).until(lambda driver: driver.find_elements(By.ID, "refusal"))
    assert fresh.find_element(By.ID, "refusal").get_attribute("data-code") == "replayed"
    assert "already used" in fresh.find_element(By.ID, "refusal").text


def test_a_partners_staff_member_sees_only_the_entitled_data(fresh, live_server, parties):
    from passports.services.issuance import passport_request
    from tests.support.api import battery_product
    from tests.support.wallet_login import answer_with_role, recycler_with_role
    from wallet.tenancy.authority import operator

    passport = passport_request(actor=operator(), product=battery_product(parties["acme"]))
    _, holder = recycler_with_role(Client(), parties["acme"])
    waiting_page(fresh, live_server)

    link = read_qr(Client(), fresh.find_element(By.ID, "wallet-qr").get_attribute("src"))
    assert answer_with_role(holder, link).status_code == 200
    WebDriverWait(fresh, 30).until(lambda driver: urlsplit(driver.current_url).path
                                   == "/partner/")

    shown = fresh.find_elements(By.CSS_SELECTOR, ".passport-data")
    assert [(box.get_attribute("data-passport"), box.get_attribute("data-group"))
            for box in shown] == [(str(passport.pk), "legitimate_interest")]
    text = fresh.find_element(By.ID, "partner-data").text
    assert "putIntoServiceDate" in text and "testReportResults" not in text
    screenshot(fresh, "wallet-login-partner", "partner-restricted-data")
