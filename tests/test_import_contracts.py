"""The import contracts (.importlinter; docs/architecture.md, Layers) hold for the project, and
import-linter really refuses a wrong import: the same contracts, run over a copy of the packages
with one import added that points the wrong way, break and name it."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("core", "credentials", "wallet", "passports", "openid4vci", "openid4vp", "webhooks",
            "replication", "config")
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def lint_imports(directory: Path) -> subprocess.CompletedProcess:
    # The packages are found from the working directory first (lint-imports puts it on the path).
    env = {**os.environ, "PYTHONPATH": str(directory)}
    return subprocess.run([str(LINT_IMPORTS), "--config", str(directory / ".importlinter"),
                           "--no-cache"], cwd=directory, env=env, capture_output=True,
                          text=True, timeout=300, check=False)


def test_the_project_keeps_its_import_contracts():
    result = lint_imports(ROOT)

    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def _not_python(_directory, names) -> list[str]:
    return [name for name in names
            if name == "__pycache__" or ("." in name and not name.endswith(".py"))]


@pytest.fixture
def copy_of_the_project(tmp_path):
    for package in PACKAGES:
        shutil.copytree(ROOT / package, tmp_path / package, ignore=_not_python)
    shutil.copy(ROOT / ".importlinter", tmp_path / ".importlinter")
    return tmp_path


@pytest.mark.parametrize(("path", "wrong_import"), [
    ("passports/upward.py", "from openid4vp.services import links"),  # domain -> protocol
    ("wallet/tenancy/upward.py", "from wallet.business import trust"),  # tenancy -> business
    ("wallet/business/upward.py", "import passports.models"),  # business wallet -> passports
    ("credentials/upward.py", "from wallet.tenancy.models import Organisation"),
    ("core/upward.py", "import credentials.jose"),  # the bottom layer imports no app
    ("openid4vci/sideways.py", "import openid4vp.models"),  # the OpenID apps are independent
])
def test_a_wrong_import_breaks_the_contracts(copy_of_the_project, path, wrong_import):
    assert lint_imports(copy_of_the_project).returncode == 0  # the copy itself keeps them

    module = copy_of_the_project / path
    module.write_text(f'"""Deliberately wrong."""\n\n{wrong_import}\n')
    result = lint_imports(copy_of_the_project)

    assert result.returncode == 1, result.stdout
    assert "1 broken" in result.stdout
    assert path.removesuffix(".py").replace("/", ".") in result.stdout
