"""The admin speaks the staff member's language: every project string of the admin (the admin
modules of passports and the business wallet, their templates, the models' names, labels and
choices) is marked for translation and translated in nl, de and fr.

Two checks: the source marks every string a person reads (an AST scan of the admin modules for
literal labels, descriptions, titles and messages), and every marked string (extracted with
xgettext, as `makemessages` does) has a translation in each catalog."""

from __future__ import annotations

import ast
import subprocess
import tempfile
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import translation
from django.utils.translation.template import templatize

from tests.support.environment import ROOT
from tests.support.translations import catalog

ADMIN_MODULES = ["passports/admin.py", "wallet/admin.py", "wallet/business/identity/admin.py",
                 "wallet/business/messaging/admin.py", "passports/views_labels.py",
                 "openid4vp/login_views.py", "wallet/tenancy/mandate_login.py",
                 "passports/views_partner.py", "wallet/tenancy/login_sessions.py"]
MODEL_MODULES = ["passports/models.py", "wallet/tenancy/models.py",
                 "wallet/tenancy/legal_models.py", "wallet/business/messaging/models.py",
                 "wallet/tenancy/login_models.py",
                 "passports/apps.py", "wallet/apps.py"]
TEMPLATES = [*sorted((ROOT / "passports/templates/admin").rglob("*.html")),
             *sorted((ROOT / "wallet/templates/admin").rglob("*.html")),
             ROOT / "passports/templates/passports/labels.html",
             *sorted((ROOT / "openid4vp/templates/openid4vp").glob("*login*.html")),
             ROOT / "passports/templates/passports/partner.html"]
LANGUAGES = [code for code, _name in settings.LANGUAGES if code != "en"]
# Keyword arguments whose value a person reads in the admin.
SHOWN = {"description", "label", "help_text", "verbose_name", "verbose_name_plural", "title",
         "empty_value_display"}
# Calls whose first argument a person reads.
SAYING = {"message_user", "ValidationError", "PermissionDenied", "add_error"}


def _literal_text(node) -> str | None:
    """The text of a plain (untranslated) string literal or f-string with words, else None
    (an f-string of values alone, such as f"{obj}: {detail}", has nothing to translate)."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value.strip():
        return node.value
    if isinstance(node, ast.JoinedStr):
        words = "".join(part.value for part in node.values if isinstance(part, ast.Constant))
        return ast.unparse(node) if any(char.isalpha() for char in words) else None
    return None


def unmarked_strings(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if not isinstance(node, ast.Call):
            continue
        name = getattr(node.func, "attr", getattr(node.func, "id", ""))
        for keyword in node.keywords:
            text = _literal_text(keyword.value) if keyword.arg in SHOWN else None
            if text is not None:
                found.append(f"{path.name}:{node.lineno} {keyword.arg}={text!r}")
        if name in SAYING:
            said = node.args[1:2] if name == "add_error" else node.args[:2]  # (field, error)
            texts = [_literal_text(arg) for arg in said]
            found += [f"{path.name}:{node.lineno} {name}({text!r})" for text in texts if text]
    return found


@pytest.mark.parametrize("module", ADMIN_MODULES)
def test_the_admin_marks_every_string_a_person_reads(module):
    assert unmarked_strings(ROOT / module) == []


def marked_strings() -> set[str]:
    """The msgids of the admin's modules and templates, extracted as makemessages does."""
    with tempfile.TemporaryDirectory() as folder:
        sources = [str(ROOT / module) for module in [*ADMIN_MODULES, *MODEL_MODULES]]
        for template in TEMPLATES:
            converted = Path(folder) / f"{template.parent.name}-{template.name}.py"
            converted.write_text(templatize(template.read_text(encoding="utf-8"),
                                            origin=str(template)), encoding="utf-8")
            sources.append(str(converted))
        output = Path(folder) / "admin.pot"
        subprocess.run(["xgettext", "--language=Python", "--from-code=UTF-8", "--no-location",
                        "--keyword=_", "--keyword=gettext", "--keyword=gettext_lazy",
                        "--keyword=gettext_noop", "--keyword=ngettext:1,2",
                        "--keyword=ngettext_lazy:1,2", "--keyword=pgettext:1c,2",
                        "--keyword=pgettext_lazy:1c,2", "--keyword=npgettext:1c,2,3",
                        "-o", str(output), *sources], check=True)
        template_catalog = output.with_name("admin.po")
        template_catalog.write_text(output.read_text(encoding="utf-8"), encoding="utf-8")
        return set(catalog(template_catalog)) - {""}


@pytest.fixture(scope="module")
def admin_strings() -> set[str]:
    strings = marked_strings()
    assert len(strings) > 150  # the extraction found the admin's strings
    return strings


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_marked_admin_string_is_translated(admin_strings, language):
    entries = catalog(Path(settings.LOCALE_PATHS[0]) / language / "LC_MESSAGES" / "django.po")

    with translation.override(language):  # Django's own strings come translated by Django
        missing = sorted(text for text in admin_strings
                         if not entries.get(text) and translation.gettext(text) == text)

    assert missing == [], f"{len(missing)} admin strings without a {language} translation"
