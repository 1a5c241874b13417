"""The public page: the verdict badge for every state, key facts, the manufacturer's identity,
version history, languages, its security headers, size and caching."""

from __future__ import annotations

import html as markup
import re

import pytest
from django.contrib.staticfiles import finders
from django.db import connection

from passports import views
from passports.models import Passport
from passports.services.status import passport_revoke, passport_suspend
from tests.support.environment import postgres_only
from tests.support.public import issue, make_product
from wallet.tenancy.authority import operator

LINK = "/01/09506000134352/21/SN-0001"


def page(client, path=LINK, **headers) -> str:
    response = client.get(path, HTTP_ACCEPT="text/html", **headers)
    assert response.status_code == 200
    return response.content.decode()


def text_of(html: str) -> str:
    """The visible text, roughly: tags dropped, white space collapsed."""
    text = markup.unescape(re.sub(r"<[^>]+>", " ", html))
    return re.sub(r"[ \t\r\n]+", " ", text).strip()  # keeps no-break spaces


def badge(html: str) -> str:
    return text_of(re.search(r'<h2 id="verdict" class="badge">(.*?)</h2>', html, re.S)[1])


def test_issued_passport_is_verified_with_what_was_checked(client, issued):
    html = page(client)
    text = text_of(html)
    assert badge(html) == "Verified"
    assert 'class="verdict verdict-verified"' in html
    for line in ("The manufacturer's digital signature is valid.",
                 "The signing key belongs to the manufacturer.",
                 "The passport is within its validity period.",
                 "The manufacturer has neither revoked nor suspended it.",
                 "Its data follows the UN Digital Product Passport format."):
        assert f"Passed: {line}" in text
    assert "Checked on" in text and re.search(r'<time datetime="\d{4}-\d\d-\d\dT', html)


def test_the_page_shows_name_category_key_facts_and_identity(client, issued):
    text = text_of(page(client))
    assert "<h1>75 kWh EV battery pack</h1>" in page(client)
    assert "Battery" in text
    assert "Battery chemistry NMC811" in text
    assert "Rated capacity 200\u00a0Ah" in text
    assert "Battery carbon footprint per Functional Unit 61.2\u00a0kg CO₂e/kWh" in text
    assert "Post-consumer recycled cobalt share 16\u00a0%" in text
    assert "Legal name Acme Batteries B.V." in text
    assert "did:web:localhost%3A8000:orgs:acme" in text
    assert "Registry attestation not available" in text


def test_revoked_passport_says_revoked_with_the_reason(client, issued):
    passport_revoke(actor=operator(), passport=issued, reason="Cell defect found in this batch")
    html = page(client)
    assert badge(html) == "Revoked"
    assert 'class="verdict verdict-revoked"' in html
    assert "Do not rely on the information in it." in html
    assert "Cell defect found in this batch" in html


def test_suspended_passport_says_suspended_with_the_reason(client, issued):
    passport_suspend(passport=issued, reason="Under review by the market authority",
                     actor=operator())
    html = page(client)
    assert badge(html) == "Suspended"
    assert "Under review by the market authority" in html
    text = text_of(html)
    assert "Passed: The manufacturer has not revoked it." in text
    assert "neither revoked nor suspended" not in text


def test_an_older_version_says_superseded_and_links_the_current_one(client, battery):
    issue(battery)
    issue(battery)
    current = text_of(page(client))
    assert "Version 2 · Valid" in current and "Version 1 · Superseded" in current

    html = page(client, f"{LINK}?version=1")
    assert badge(html) == "Superseded"
    assert "This is version 1, an older version of this passport." in html
    assert f'<a class="button" href="{LINK}">See the current version (version 2)</a>' in html
    assert f'<a href="{LINK}?version=2">Version 2</a>' in html


def test_a_tampered_credential_cannot_be_verified_and_its_data_is_not_shown(client, issued):
    header, payload, signature = issued.jwt.split(".")
    flipped = ("A" if signature[0] != "A" else "B") + signature[1:]
    Passport.objects.filter(pk=issued.pk).update(jwt=f"{header}.{payload}.{flipped}")
    html = page(client)
    assert badge(html) == "Cannot verify"
    assert "The digital signature does not match the data" in html
    assert "The product data is not shown because its signature could not be checked." in html
    assert "NMC811" not in html


def test_a_pending_passport_cannot_be_verified_yet(client, battery):
    Passport.objects.create(product=battery, version=1)
    html = page(client)
    assert badge(html) == "Cannot verify"
    assert "The passport has not been issued yet." in html


def test_a_product_without_a_passport_says_so(client, battery):
    html = page(client)
    assert badge(html) == "Cannot verify"
    assert "No passport has been issued for this product yet." in html


@pytest.mark.parametrize(("category", "facts"), [
    ("textile", ["Fibre composition"]),
    ("electronics", ["Repairability score", "Spare parts availability 7\u00a0years"]),
])
def test_other_categories_show_their_key_facts(client, acme, category, facts):
    attributes = {"textile": {"fibreComposition": "100 % organic cotton", "careInstructions":
                              "Wash at 30 °C"},
                  "electronics": {"repairabilityScore": 7.5, "sparePartsAvailabilityYears": 7}}
    from tests.support.factories import required_attributes

    issue(make_product(acme, category=category, name="Thing",
                       attributes={**required_attributes(category), **attributes[category]}))
    text = text_of(page(client))
    for fact in facts:
        assert fact in text


# Languages -------------------------------------------------------------------------------------

@pytest.mark.parametrize(("accept_language", "lang", "word"), [
    ("nl-NL,nl;q=0.9,en;q=0.5", "nl", "Geverifieerd"),
    ("de-DE,de;q=0.9", "de", "Verifiziert"),
    ("fr-FR,fr;q=0.9", "fr", "Vérifié"),
    ("es-ES,es;q=0.9", "en", "Verified"),
])
def test_the_language_follows_accept_language(client, issued, accept_language, lang, word):
    response = client.get(LINK, HTTP_ACCEPT="text/html", HTTP_ACCEPT_LANGUAGE=accept_language)
    html = response.content.decode()
    assert f'<html lang="{lang}">' in html
    assert response["Content-Language"] == lang
    assert badge(html) == word
    assert "Accept-Language" in response["Vary"]


def test_the_switcher_is_plain_links_and_lang_wins(client, issued):
    html = page(client, f"{LINK}?lang=fr", HTTP_ACCEPT_LANGUAGE="de")
    assert '<html lang="fr">' in html and badge(html) == "Vérifié"
    for code in ("en", "nl", "de", "fr"):
        assert f'href="?lang={code}" hreflang="{code}" lang="{code}"' in html
    assert 'hreflang="fr" lang="fr" aria-current="true"' in html
    assert "<form" not in html and "<script" not in html


def test_numbers_are_written_the_local_way(client, issued):
    assert "61,2\u00a0kg CO₂e/kWh" in text_of(page(client, f"{LINK}?lang=de"))
    assert "Batteriechemie NMC811" in text_of(page(client, f"{LINK}?lang=de"))


def test_links_keep_the_language_asked_for(client, battery):
    issue(battery)
    issue(battery)
    html = page(client, f"{LINK}?version=1&lang=nl")
    assert f'href="{LINK}?lang=nl"' in html
    assert 'href="?version=1&amp;lang=de"' in html


# What the page is made of ----------------------------------------------------------------------

def test_the_page_is_small_self_contained_and_has_a_strict_csp(client, issued):
    response = client.get(LINK, HTTP_ACCEPT="text/html")
    html = response.content.decode()
    assert len(response.content) < 100_000
    csp = response["Content-Security-Policy"]
    assert "default-src 'none'" in csp and "unsafe" not in csp and "script-src" not in csp
    assert "<script" not in html and " style=" not in html and "<style" not in html
    for url in re.findall(r'(?:src|href)="([^"]+)"', html):
        assert not url.startswith(("http:", "https:", "//")), url
    assert finders.find("passports/public.css")


def test_the_page_is_accessible_by_structure(client, issued):
    html = page(client)
    assert html.count("<h1>") == 1 and "<main id=\"main\">" in html
    assert '<nav aria-label="Language">' in html
    # The badge's meaning is in its words; the icon is decoration.
    assert re.search(r'<h2 id="verdict" class="badge"><svg class="icon" aria-hidden="true"',
                     html)


def test_the_verdict_is_cached_briefly_and_a_state_change_shows_at_once(client, issued,
                                                                         monkeypatch):
    calls = []
    real = views.verify_passport_uncached
    monkeypatch.setattr(views, "verify_passport_uncached", lambda p: calls.append(p.pk) or real(p))

    page(client)
    page(client)
    page(client, f"{LINK}?lang=nl")
    assert len(calls) == 1

    passport_suspend(actor=operator(), passport=issued, reason="check")
    assert badge(page(client)) == "Suspended"
    assert len(calls) == 2


def test_the_machine_links_point_at_the_service(client, issued):
    html = page(client)
    assert f'href="/passports/{issued.pk}?format=jwt"' in html
    assert f'href="{LINK}?linkType=linkset"' in html
    assert 'href="/orgs/acme/did.json"' in html
    assert f'href="/qr{LINK}?format=svg"' in html


def test_browsers_revalidate_the_page_and_get_304_when_nothing_changed(client, issued):
    first = client.get(LINK, HTTP_ACCEPT="text/html")
    assert first["Cache-Control"] == "no-cache"
    again = client.get(LINK, HTTP_ACCEPT="text/html", HTTP_IF_NONE_MATCH=first["ETag"])
    assert again.status_code == 304

    passport_revoke(actor=operator(), passport=issued, reason="recall")
    changed = client.get(LINK, HTTP_ACCEPT="text/html", HTTP_IF_NONE_MATCH=first["ETag"])
    assert changed.status_code == 200 and badge(changed.content.decode()) == "Revoked"


def test_a_cached_page_costs_one_query(client, issued, django_assert_num_queries):
    page(client)
    with django_assert_num_queries(1):
        assert badge(page(client)) == "Verified"


@postgres_only
def test_a_cached_page_runs_its_one_query_prepared(client, issued):
    """The page's rows are read as a prepared statement (core/hot_queries.py): PostgreSQL
    parses and plans it once per connection, not on every scan of a QR code."""
    def executions() -> int:
        with connection.cursor() as cursor:
            cursor.execute("SELECT coalesce(sum(generic_plans + custom_plans), 0) FROM "
                           "pg_prepared_statements WHERE statement LIKE %s",
                           ["%passports_product%passports_passport%"])
            return cursor.fetchone()[0]

    page(client)
    before = executions()
    assert badge(page(client)) == "Verified"
    assert executions() == before + 1
