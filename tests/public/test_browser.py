"""The public page in a real headless Chromium (Debian's chromium + chromium-driver, driven by
Selenium; nothing is downloaded at test time), served by pytest-django's live server.

For an issued, a revoked and a suspended passport it checks the visible verdict, that the page
made no request outside the service (Chrome's DevTools network events), that its own
stylesheet applied under the Content-Security-Policy, and that it fits a phone's width; it
saves a phone-sized screenshot (390 x 844) per case to var/screenshots/, and to
docs/screenshots/ (the README's pictures) when UPDATE_SCREENSHOTS=1.

Without Chromium the tests skip with the reason, except under CI=true or
REQUIRE_REAL_SERVICES=1, where they fail: .ci/run installs it."""

from __future__ import annotations

import json

import pytest

from passports.services.status import passport_revoke, passport_suspend
from tests.support.browser import PHONE, chromium, screenshot
from tests.support.factories import organisation
from tests.support.public import issue, make_product, tampered, without_verify_limit
from wallet.tenancy.authority import operator

LINK = "/01/09506000134352/21/SN-0001"


@pytest.fixture(scope="module")
def browser():
    with chromium("en", window=PHONE, mobile=True, record_network=True) as driver:
        yield driver


def open_page(browser, url: str) -> list[dict]:
    """Load `url` and return the DevTools network events of that load."""
    browser.get_log("performance")  # drop what came before
    browser.get(url)
    browser.find_element("css selector", "h1")
    events = [json.loads(entry["message"])["message"] for entry in browser.get_log("performance")]
    return [event for event in events if event["method"].startswith("Network.")]


def requested_urls(events: list[dict]) -> list[str]:
    return [event["params"]["request"]["url"] for event in events
            if event["method"] == "Network.requestWillBeSent"]


@pytest.fixture
def passport(transactional_db):
    acme = organisation("acme", "Acme Batteries B.V.")
    return issue(make_product(acme))


def verdict_of(browser) -> str:
    return browser.find_element("css selector", "#verdict").text.strip()


@pytest.mark.parametrize(("case", "word", "reason"), [
    ("verified", "Verified", None),
    ("revoked", "Revoked", "Cell defect found in this batch"),
    ("suspended", "Suspended", "Under review by the market authority"),
])
def test_the_page_shows_the_verdict_with_nothing_from_outside(browser, live_server, passport,
                                                              case, word, reason):
    if case == "revoked":
        passport_revoke(actor=operator(), passport=passport, reason=reason)
    elif case == "suspended":
        passport_suspend(actor=operator(), passport=passport, reason=reason)

    events = open_page(browser, live_server.url + LINK)

    assert verdict_of(browser) == word
    verdict = browser.find_element("css selector", ".verdict")
    assert f"verdict-{case}" in verdict.get_attribute("class")
    if reason:
        assert reason in verdict.text
    else:
        assert "The manufacturer's digital signature is valid." in verdict.text
    assert "Battery chemistry" in browser.find_element("css selector", "main").text

    urls = requested_urls(events)
    assert live_server.url + LINK in urls
    assert live_server.url + "/static/passports/public.css" in urls
    outside = [url for url in urls if not url.startswith(live_server.url + "/")]
    assert outside == []
    loaded = sum(event["params"].get("encodedDataLength", 0) for event in events
                 if event["method"] == "Network.loadingFinished")
    assert loaded < 100_000

    # Our stylesheet applied (the CSP lets the service's own CSS in), and nothing was blocked.
    assert verdict.value_of_css_property("border-top-style") == "solid"
    blocked = [entry for entry in browser.get_log("browser")
               if "Content Security Policy" in entry.get("message", "")]
    assert blocked == []
    # Fits the phone: no sideways scrolling.
    assert browser.execute_script("return document.documentElement.scrollWidth") \
        <= PHONE["width"]
    screenshot(browser, case, case)


def test_the_language_switcher_works_without_script(browser, live_server, passport):
    open_page(browser, live_server.url + LINK)
    browser.find_element("css selector", 'a[hreflang="de"]').click()
    browser.find_element("css selector", "h1")
    assert browser.find_element("css selector", "html").get_attribute("lang") == "de"
    assert verdict_of(browser) == "Verifiziert"
    screenshot(browser, "verified-de", "verified-de")


# The verifier page (/verify/): a person pastes what they received and submits the form.

@pytest.mark.parametrize(("case", "word", "says"), [
    ("valid", "Verified", "The manufacturer's digital signature is valid."),
    ("revoked", "Revoked", "Cell defect found in this batch"),
    ("tampered", "Cannot verify", "the passport may have been changed"),
])
def test_the_verifier_page_checks_a_pasted_credential(browser, live_server, passport, settings,
                                                      case, word, says):
    without_verify_limit(settings)
    credential = tampered(passport.jwt) if case == "tampered" else passport.jwt
    if case == "revoked":
        passport_revoke(actor=operator(), passport=passport,
                        reason="Cell defect found in this batch")

    open_page(browser, live_server.url + "/verify/")
    assert browser.execute_script("return document.scripts.length") == 0
    browser.find_element("css selector", "#credential").send_keys(credential)
    browser.find_element("css selector", "form.verify-form button[type=submit]").click()
    from selenium.webdriver.support.wait import WebDriverWait
    WebDriverWait(browser, 60).until(lambda driver: driver.find_elements("css selector",
                                                                         "#verdict"))

    assert verdict_of(browser) == word
    assert says in browser.find_element("css selector", ".verdict").text
    assert browser.execute_script("return document.documentElement.scrollWidth") \
        <= PHONE["width"]
    screenshot(browser, f"verifier-{case}", f"verifier-{case}")
