"""Every visible string of the public page exists in English, Dutch, German and French: the
catalogs are complete and compiled, category labels are covered, and a page rendered in each
language carries no English sentence that its catalog leaves untranslated."""

from __future__ import annotations

import gettext
import html as markup
import re
from pathlib import Path

import pytest
from django.conf import settings

from passports import categories
from passports.services.status import passport_revoke, passport_suspend
from tests.support.public import issue
from tests.support.translations import catalog as po_catalog
from tests.support.translations import fuzzy_entries
from wallet.tenancy.authority import operator

LANGUAGES = [code for code, _name in settings.LANGUAGES if code != "en"]
LOCALE = Path(settings.LOCALE_PATHS[0])
LINK = "/01/09506000134352/21/SN-0001"


def catalog(language: str) -> dict[str, str]:
    """msgid → msgstr of the .po file (plural entries by their singular), none of them fuzzy."""
    path = LOCALE / language / "LC_MESSAGES" / "django.po"
    assert fuzzy_entries(path) == []
    return {msgid: msgstr for msgid, msgstr in po_catalog(path).items() if msgid}


@pytest.mark.parametrize("language", LANGUAGES)
def test_catalogs_are_complete_and_compiled(language):
    entries = catalog(language)
    assert len(entries) > 80
    untranslated = [msgid for msgid, msgstr in entries.items() if not msgstr]
    assert untranslated == []
    compiled = gettext.GNUTranslations(
        (LOCALE / language / "LC_MESSAGES" / "django.mo").open("rb"))
    stale = [msgid for msgid, msgstr in entries.items()
             if "%(" not in msgid and compiled.gettext(msgid) != msgstr]
    assert stale == [], "run `manage.py compilemessages` and commit the .mo files"


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_key_fact_label_and_category_is_translated(language):
    entries = catalog(language)
    for category in categories.all_versions():
        for attribute in category.key_facts:
            assert entries.get(attribute.label), (language, attribute.label)


def text_nodes(html: str) -> set[str]:
    body = html[html.index("<body>"):]
    return {markup.unescape(re.sub(r"[ \t\r\n]+", " ", node)).strip()
            for node in re.findall(r">([^<]+)<", body)} - {""}


@pytest.mark.parametrize("state", ["issued", "revoked", "suspended", "superseded", "pending"])
def test_no_english_is_left_on_the_page_in_other_languages(client, battery, state):
    if state != "pending":
        first = issue(battery)
        if state == "superseded":
            issue(battery)
        elif state == "revoked":
            passport_revoke(actor=operator(), passport=first, reason="")
        elif state == "suspended":
            passport_suspend(actor=operator(), passport=first, reason="")
    else:
        battery.passports.create(version=1)
    path = f"{LINK}?version=1"

    english = text_nodes(client.get(path, HTTP_ACCEPT="text/html",
                                     HTTP_ACCEPT_LANGUAGE="en").content.decode())
    for language in LANGUAGES:
        same = [re.compile(re.sub(r"%\\\(\w+\\\)s", ".+", re.escape(msgstr)))
                for msgid, msgstr in catalog(language).items() if msgid == msgstr]
        page = client.get(f"{path}&lang={language}", HTTP_ACCEPT="text/html").content.decode()
        left = {node for node in english & text_nodes(page)
                if re.search(r"[a-z]{3}", node)
                and not any(pattern.fullmatch(node) for pattern in same)}
        # What stays the same in every language: data, names, codes and units.
        data = {battery.name, battery.organisation.legal_name, battery.organisation.did,
                "English", "Nederlands", "Deutsch", "Français", "NMC811"}
        left = {node for node in left - data if not re.fullmatch(r"[\d.,]+\s\S+", node)}
        assert left == set(), language
