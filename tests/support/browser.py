"""A real headless Chromium (Debian's chromium + chromium-driver, driven by Selenium; nothing
is downloaded at test time) for the browser tests: the admin's in a desktop window in a chosen
language, logged in as a staff user; the public page's in a phone's window, with Chrome's
DevTools network events recorded.

Without Chromium the tests skip with the reason, except under CI=true or
REQUIRE_REAL_SERVICES=1, where they fail: .ci/run installs it."""

from __future__ import annotations

import os
import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client

from tests.support.environment import ROOT

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-dev-shm-usage"]
MUST_RUN = os.environ.get("CI") == "true" or os.environ.get("REQUIRE_REAL_SERVICES") == "1"


def _missing() -> str | None:
    for path in (CHROMIUM, CHROMEDRIVER):
        if not Path(path).exists():
            return f"{path} is missing (apt-get install chromium chromium-driver)"
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium is not installed (pip install -e '.[dev]')"
    return None


@contextmanager
def chromium(language: str = "en", *, window: dict[str, int] = DESKTOP, mobile: bool = False,
             record_network: bool = False, implicit_wait: float = 0):
    """A headless Chromium whose Accept-Language is `language` and whose viewport is exactly
    `window` (whatever the window decorations). `record_network` keeps the DevTools network
    events and the console for `get_log("performance")` / `get_log("browser")`;
    `implicit_wait` is how long a lookup waits for its element to appear."""
    reason = _missing()
    if reason:
        if MUST_RUN:
            pytest.fail(f"browser tests must run here: {reason}", pytrace=False)
        pytest.skip(f"no browser: {reason}")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="chromium-profile-")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in [*FLAGS, f"--window-size={window['width']},{window['height']}",
                 f"--user-data-dir={profile}", f"--lang={language}"]:
        options.add_argument(flag)
    options.add_experimental_option("prefs", {"intl.accept_languages": language})
    if record_network:
        options.set_capability("goog:loggingPrefs", {"performance": "ALL", "browser": "ALL"})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                           {**window, "deviceScaleFactor": 1, "mobile": mobile})
    driver.implicitly_wait(implicit_wait)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def log_in(driver, live_server, user) -> None:
    """Give the browser a session of `user` (no password typed: the login form is Django's)."""
    client = Client()
    client.force_login(user)
    driver.get(live_server.url + "/admin/login/")
    driver.add_cookie({"name": settings.SESSION_COOKIE_NAME, "path": "/",
                       "value": client.cookies[settings.SESSION_COOKIE_NAME].value})


def screenshot(driver, name: str, readme_name: str | None = None) -> None:
    """To var/screenshots/<name>.png; with UPDATE_SCREENSHOTS=1 also to
    docs/screenshots/<readme_name>.png when the README shows it."""
    folder = ROOT / "var" / "screenshots"
    folder.mkdir(parents=True, exist_ok=True)
    assert driver.save_screenshot(str(folder / f"{name}.png"))
    if readme_name and os.environ.get("UPDATE_SCREENSHOTS") == "1":
        assert driver.save_screenshot(str(ROOT / "docs" / "screenshots" / f"{readme_name}.png"))


def click_through(driver, by: str, value: str) -> None:
    """Click what submits a form or follows a link, and wait until the next page replaced it."""
    from selenium.common.exceptions import StaleElementReferenceException, WebDriverException
    from selenium.webdriver.support.ui import WebDriverWait

    page = driver.find_element("tag name", "html")
    driver.find_element(by, value).click()

    def replaced(_driver) -> bool:
        try:
            page.is_enabled()
        except StaleElementReferenceException:
            return True
        except WebDriverException as error:
            # Mid-navigation Chromium may answer this instead of "stale": the same news.
            if "does not belong to the document" in str(error):
                return True
            raise
        return False

    WebDriverWait(driver, 30).until(replaced)
