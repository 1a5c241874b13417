"""The admin as a manufacturer's staff member uses it, in a real headless Chromium at
1280 x 900, in German and in English: the country choice, the revoke confirmations (a
passport's, a mandate's), the import review, the passport's verdict and a batch's progress.

Screenshots go to var/screenshots/ (docs/screenshots/ with UPDATE_SCREENSHOTS=1)."""

from __future__ import annotations

import pytest
from django.urls import reverse
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

from passports.models import Passport, Product
from passports.services.status import passport_revoke, passport_suspend
from tests.support.browser import chromium, click_through, log_in, screenshot
from tests.support.factories import GTINS, organisation, staff_member
from tests.support.public import issue, make_product
from wallet.tenancy.authority import operator
from wallet.tenancy.legal_models import Mandate

# What the pages say, in each language of the test.
WORDS = {
    "de": {"netherlands": "Niederlande", "save": "Sichern", "required": "Dieses Feld ist zwingend"},
    "en": {"netherlands": "Netherlands", "save": "Save", "required": "This field is required"},
}


@pytest.fixture(scope="module", params=["de", "en"])
def browser(request):
    # a clicked form's next page: lookups wait for its elements
    with chromium(request.param, implicit_wait=15) as driver:
        driver.language = request.param
        yield driver


@pytest.fixture
def acme(transactional_db):
    return organisation("acme", "Acme Batteries B.V.")


@pytest.fixture
def staff(browser, live_server, acme):
    user = staff_member(acme, "acme-staff")
    browser.delete_all_cookies()
    log_in(browser, live_server, user)
    return user


def words(browser) -> dict:
    return WORDS[browser.language]


# The README's pictures of the admin: (shot, language) → file in docs/screenshots/.
README_SHOTS = {("passports", "en"): "admin-passports",
                ("passport-revoked", "en"): "admin-passport",
                ("country", "de"): "admin-country-de",
                ("revoke-confirmation", "de"): "admin-revoke-confirmation-de",
                ("import-errors", "en"): "admin-import-errors",
                ("batch-progress", "en"): "admin-batch-progress",
                ("batch-done", "de"): "admin-batch-done-de"}


def shot(browser, name: str) -> None:
    screenshot(browser, f"admin-{name}-{browser.language}",
               README_SHOTS.get((name, browser.language)))


def test_the_country_is_chosen_by_name_and_stored_as_its_code(browser, live_server, staff):
    browser.get(live_server.url + reverse("admin:passports_product_add") + "?category=generic")
    assert browser.find_element(By.TAG_NAME, "html").get_attribute("lang") == browser.language
    browser.find_element(By.NAME, "gtin").send_keys(GTINS[0])
    browser.find_element(By.NAME, "serial").send_keys("SN-1")
    browser.find_element(By.NAME, "name").send_keys("Widget")
    country = Select(browser.find_element(By.NAME, "country_of_production"))
    country.select_by_visible_text(words(browser)["netherlands"])
    shot(browser, "country")
    click_through(browser, By.NAME, "_save")
    browser.find_element(By.ID, "result_list")  # back on the list: saved

    assert Product.objects.get().country_of_production == "NL"


def test_revoke_asks_for_confirmation_and_a_reason(browser, live_server, staff, acme):
    passport = issue(make_product(acme))
    browser.get(live_server.url + reverse("admin:passports_passport_changelist"))
    browser.find_element(By.CSS_SELECTOR, "input.action-select").click()
    Select(browser.find_element(By.NAME, "action")).select_by_value("revoke")
    click_through(browser, By.NAME, "index")

    # A page naming the passport and what revoking means; nothing changed yet.
    assert passport.product.name in browser.find_element(By.ID, "status-passports").text
    assert browser.find_element(By.ID, "status-warning").text
    passport.refresh_from_db()
    assert passport.state == Passport.State.ISSUED
    # No reason: refused by the browser's own check, then (without it) by the server.
    browser.execute_script("document.querySelector('#id_reason').removeAttribute('required')")
    click_through(browser, By.ID, "confirm-status")
    assert words(browser)["required"] in browser.find_element(By.ID, "status-confirmation").text
    passport.refresh_from_db()
    assert passport.state == Passport.State.ISSUED

    browser.find_element(By.ID, "id_reason").send_keys("Cell defect in this batch")
    shot(browser, "revoke-confirmation")
    click_through(browser, By.ID, "confirm-status")
    browser.find_element(By.ID, "result_list")

    passport.refresh_from_db()
    assert (passport.state, passport.state_reason) == (Passport.State.REVOKED,
                                                       "Cell defect in this batch")


def test_revoking_a_mandate_asks_for_confirmation_and_a_reason(browser, live_server, staff,
                                                               acme):
    colleague = staff_member(acme, "acme-colleague", mandates=[Mandate.Scope.PASSPORTS_ISSUE])
    mandate = Mandate.objects.get(grantee_user=colleague)
    browser.get(live_server.url + reverse("admin:wallet_mandate_changelist"))
    browser.find_element(By.CSS_SELECTOR, f'input.action-select[value="{mandate.pk}"]').click()
    Select(browser.find_element(By.NAME, "action")).select_by_value("revoke")
    click_through(browser, By.NAME, "index")

    # A page naming the mandate and what revoking means; nothing changed yet.
    assert "acme-colleague" in browser.find_element(By.ID, "revoke-mandates").text
    assert browser.find_element(By.ID, "mandate-warning").text
    mandate.refresh_from_db()
    assert mandate.state == Mandate.State.ACTIVE
    browser.execute_script("document.querySelector('#id_reason').removeAttribute('required')")
    click_through(browser, By.ID, "confirm-mandate-revoke")
    assert words(browser)["required"] in browser.find_element(By.ID,
                                                              "mandate-confirmation").text
    mandate.refresh_from_db()
    assert mandate.state == Mandate.State.ACTIVE

    browser.find_element(By.ID, "id_reason").send_keys("Left the company")
    shot(browser, "mandate-revoke-confirmation")
    click_through(browser, By.ID, "confirm-mandate-revoke")
    browser.find_element(By.ID, "result_list")

    mandate.refresh_from_db()
    assert (mandate.state, mandate.state_reason) == (Mandate.State.REVOKED, "Left the company")


def right_edge(browser, css: str) -> float:
    return browser.execute_script(
        "return document.querySelector(arguments[0]).getBoundingClientRect().right", css)


def test_the_state_stays_in_view_beside_a_long_product_name(browser, live_server, staff, acme):
    passport = issue(make_product(acme, name="Lithium-ion traction battery pack " * 4))
    for number, change in enumerate([None, passport_revoke, passport_suspend], start=2):
        other = issue(make_product(acme, serial=f"SN-{number}", name="75 kWh EV battery pack"))
        if change:
            change(actor=operator(), passport=other, reason="Cell defect in this batch")
    width = browser.execute_script("return window.innerWidth")

    browser.get(live_server.url + reverse("admin:passports_passport_changelist"))
    assert right_edge(browser, "#result_list td.field-state") <= width
    shot(browser, "passports")
    browser.get(live_server.url + reverse("admin:passports_product_changelist"))
    assert right_edge(browser, "#result_list td.field-passport_state") <= width
    assert right_edge(browser, "#result_list td.field-updated_at") <= width
    browser.get(live_server.url + reverse("admin:passports_passportevent_changelist"))
    assert right_edge(browser, "#result_list td.field-to_state") <= width
    assert passport.events.exists()


@pytest.mark.parametrize("case", ["issued", "revoked"])
def test_the_passport_page_shows_the_verdict_and_links_the_public_page(browser, live_server,
                                                                      staff, acme, case):
    passport = issue(make_product(acme))
    if case == "revoked":
        passport_revoke(actor=operator(), passport=passport, reason="Cell defect")

    browser.get(live_server.url + reverse("admin:passports_passport_change", args=[passport.pk]))

    word = browser.find_element(By.ID, "verdict-word")
    expected = {("issued", "de"): "Gültig", ("issued", "en"): "Valid",
                ("revoked", "de"): "Widerrufen", ("revoked", "en"): "Revoked"}
    assert word.text == expected[case, browser.language]
    assert f"verdict-{'verified' if case == 'issued' else 'revoked'}" in word.get_attribute("class")
    if case == "revoked":
        assert browser.find_element(By.ID, "verdict-reason").text == "Cell defect"
    link = browser.find_element(By.ID, "public-page-link").get_attribute("href")
    assert link == passport.product.digital_link
    shot(browser, f"passport-{case}")


IMPORT_WORDS = {
    "de": {"nothing": "Nichts wurde importiert: 3 Fehler.", "ready": "keine Fehler",
           "all_issued": "Alle ausgestellt: 2 Pässe."},
    "en": {"nothing": "Nothing was imported: 3 errors.", "ready": "has no errors",
           "all_issued": "All issued: 2 passports."},
}


def upload(browser, path) -> None:
    browser.find_element(By.NAME, "file").send_keys(str(path))


def test_the_import_lists_every_error_at_once_then_imports_and_follows_the_batch(
        browser, live_server, staff, acme, tmp_path):
    make_product(acme, serial="SN-1")  # the file's first row duplicates it
    header = "gtin,serial,name,category,country_of_production\n"
    bad = tmp_path / "products.csv"
    bad.write_text(header + f"{GTINS[0]},SN-1,Widget,generic,NL\n"
                            f"{GTINS[0]},SN-2,,generic,NL\n"
                            f"{GTINS[0]},SN-3,Widget,generic,Holland\n")
    good = tmp_path / "fixed.csv"
    good.write_text(header + f"{GTINS[0]},SN-2,Widget,generic,NL\n"
                             f"{GTINS[0]},SN-3,Widget,generic,Netherlands\n")
    said = IMPORT_WORDS[browser.language]

    browser.get(live_server.url + reverse("admin:passports_product_import"))
    upload(browser, bad)
    click_through(browser, By.ID, "import-check")

    # Every error of the file at once: the duplicate of a stored product among them.
    assert said["nothing"] in browser.find_element(By.ID, "import-summary").text
    rows = [row.text for row in browser.find_elements(By.CSS_SELECTOR, "#import-errors tbody tr")]
    assert [row.split()[0:2] for row in rows] == [["1", "gtin"], ["2", "name"],
                                                  ["3", "country_of_production"]]
    assert browser.find_element(By.ID, "import-errors-download").get_attribute("href")
    shot(browser, "import-errors")
    assert Product.objects.count() == 1

    upload(browser, good)
    browser.find_element(By.ID, "id_issue").click()
    click_through(browser, By.ID, "import-check")
    assert said["ready"] in browser.find_element(By.ID, "import-ready").text
    assert Product.objects.count() == 1  # checked, not imported yet
    click_through(browser, By.ID, "import-submit")

    assert browser.find_element(By.ID, "batch-status").text == said["all_issued"]
    assert Product.objects.count() == 3
    assert set(Product.objects.values_list("country_of_production", flat=True)) == {"NL"}


def test_the_batch_progress_updates_itself_until_all_are_issued(browser, live_server, staff,
                                                                acme):
    from django.contrib.sessions.backends.db import SessionStore
    from selenium.common.exceptions import StaleElementReferenceException
    from selenium.webdriver.support.ui import WebDriverWait

    from passports.admin import BATCHES_SESSION_KEY
    from passports.services.issuance import passports_sign

    products = [make_product(acme, serial=f"SN-{n}") for n in range(2)]
    # Requested, not signed yet: what the worker has still to do.
    pending = [Passport.objects.create(product=product, version=1) for product in products]
    session = SessionStore(session_key=browser.get_cookie("sessionid")["value"])
    session[BATCHES_SESSION_KEY] = {"batch1": [p.pk for p in products]}
    session.save()

    browser.get(live_server.url + reverse("admin:passports_passport_progress", args=["batch1"]))
    first = browser.find_element(By.ID, "batch-status")
    assert "0" in first.text and "2" in first.text
    shot(browser, "batch-progress")
    passports_sign([p.pk for p in pending])

    # No get(), no refresh(): the page reloads itself (meta refresh) and says so. An element
    # found just before a reload is stale when its text is read: look again.
    WebDriverWait(browser, 30, ignored_exceptions=(StaleElementReferenceException,)).until(
        lambda driver: driver.find_element(By.ID, "batch-status").text
        == IMPORT_WORDS[driver.language]["all_issued"])
    assert not browser.find_elements(By.CSS_SELECTOR, 'meta[http-equiv="refresh"]')
    shot(browser, "batch-done")
