"""scripts/relayer_imports.py, which carries code written before the layering step (issue #17)
over to the modules' new places, and settles merge conflicts that are only about imports."""

import importlib.util

from tests.support.environment import ROOT

spec = importlib.util.spec_from_file_location("relayer_imports",
                                              ROOT / "scripts" / "relayer_imports.py")
relayer = importlib.util.module_from_spec(spec)
spec.loader.exec_module(relayer)


def test_moved_modules_and_names_are_imported_from_where_they_live_now():
    before = (
        "from config import ratelimit\n"
        "from passports.api.views import ApiView, CredentialIssueApi, validated\n"
        "from wallet.models import Message, Organisation  # noqa: F401\n"
        "from wallet.identity import WalletError, attestation_approve\n"
        "from tests.passports.factories import organisation\n"
        "    from wallet.verification import verify\n"
        'DEFAULT = ["wallet.identity_models.WalletCredential.Kind", "wallet.models.ApiToken"]\n'
        "from django.db import models\n")

    assert relayer.rewrite(before) == (
        "from core import ratelimit\n"
        "from core.api.views import ApiView, validated\n"
        "from passports.api.views import CredentialIssueApi\n"
        "from wallet.business.messaging.models import Message\n"
        "from wallet.tenancy.models import Organisation  # noqa: F401\n"
        "from wallet.tenancy.errors import WalletError\n"
        "from wallet.business.identity.services import attestation_approve\n"
        "from tests.support.factories import organisation\n"
        "    from wallet.business.verification import verify\n"
        'DEFAULT = ["wallet.tenancy.legal_models.WalletCredential.Kind", '
        '"wallet.tenancy.models.ApiToken"]\n'
        "from django.db import models\n")


def test_a_conflict_only_in_the_imports_keeps_both_sides_imports_where_they_live_now():
    conflicted = ('"""A module."""\n\n'
                  "<<<<<<< main\n"
                  "from wallet.authority import operator\n"
                  "from wallet.models import Organisation\n"
                  "=======\n"
                  "from wallet.tenancy.models import Organisation\n"
                  ">>>>>>> layers\n"
                  "\n\nX = 1\n")

    assert relayer.resolve_import_conflicts(conflicted) == (
        '"""A module."""\n\n'
        "from wallet.tenancy.authority import operator\n"
        "from wallet.tenancy.models import Organisation\n"
        "\n\nX = 1\n")


def test_a_conflict_outside_the_imports_is_left_for_a_person():
    conflicted = ("from wallet.models import Organisation\n\n\n"
                  "<<<<<<< main\n"
                  "X = 1\n"
                  "=======\n"
                  "X = 2\n"
                  ">>>>>>> layers\n")

    assert relayer.resolve_import_conflicts(conflicted) is None
