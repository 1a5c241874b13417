"""The .dockerignore rules of .ci/image-check (moby/patternmatcher semantics), on the patterns
the project uses: the context it builds is the one Docker would send."""

import importlib.machinery
import importlib.util

import pytest

from tests.support.environment import ROOT

_loader = importlib.machinery.SourceFileLoader("image_check", str(ROOT / ".ci" / "image-check"))
image_check = importlib.util.module_from_spec(importlib.util.spec_from_loader("image_check",
                                                                              _loader))
_loader.exec_module(image_check)


@pytest.fixture
def rules(tmp_path):
    (tmp_path / ".dockerignore").write_text(
        "# comment\n.env\n.env.*\n!.env.example\n/var\n**/__pycache__\n**/*.mo\n*.egg-info\n"
        "docs\nsecret?.txt\nbuild[0-9]\n")
    return image_check.read_dockerignore(tmp_path / ".dockerignore")


@pytest.mark.parametrize("path, ignored", [
    (".env", True), (".env.local", True), (".env.example", False),
    ("var/db.sqlite3", True), ("config/var.py", False), ("passports/var", False),
    ("__pycache__/x.pyc", True), ("config/__pycache__/x.pyc", True),
    ("a/b/c/__pycache__/x.pyc", True), ("config/pycache.py", False),
    ("locale/nl/LC_MESSAGES/django.mo", True), ("locale/nl/LC_MESSAGES/django.po", False),
    ("dpp_wallet.egg-info/PKG-INFO", True), ("sub/dpp.egg-info/PKG-INFO", False),
    ("docs/screenshots/a.png", True), ("passports/docs.py", False),
    ("secret1.txt", True), ("secret12.txt", False), ("build7/x", True), ("buildx/x", False),
    ("config/settings.py", False),
])
def test_paths_are_ignored_as_docker_ignores_them(rules, path, ignored):
    assert image_check.is_ignored(path, rules) is ignored


def test_the_last_matching_rule_decides(tmp_path):
    (tmp_path / ".dockerignore").write_text("!keep.txt\n*.txt\n!keep.txt\n")
    rules = image_check.read_dockerignore(tmp_path / ".dockerignore")

    assert image_check.is_ignored("other.txt", rules)
    assert not image_check.is_ignored("keep.txt", rules)
