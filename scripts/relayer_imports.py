"""Rewrite imports of the modules that the layering step (issue #17) moved, in code written
before it (a branch merged after it, or a conflict resolved by taking the other side's imports):

    .venv/bin/python scripts/relayer_imports.py $(git ls-files '*.py')
    .venv/bin/ruff check --fix .   # sorts and joins the rewritten import blocks
    .venv/bin/lint-imports

In a merge, `--resolve` first settles the conflicts that are import lines on both sides (it
keeps both sides' lines; the rewrite and ruff then join them) and names the files whose other
conflicts need a person:

    .venv/bin/python scripts/relayer_imports.py --resolve $(git diff --name-only --diff-filter=U)

Only `from ... import ...`/`import ...` lines and dotted "module.Name" strings (settings, mock
targets) change; a name that moved gets the module it lives in now. It renames nothing else:
`passports.services.verification.verify_passport` is now `verify_passport_uncached` (call sites
by hand). Delete this script once every branch of that time is merged."""

from __future__ import annotations

import re
import sys
from pathlib import Path

# Modules that moved whole.
MODULES = {
    "config.ratelimit": "core.ratelimit",
    "passports.qr": "core.qr",
    "passports.api.problems": "core.api.problems",
    "passports.api.throttling": "core.api.throttling",
    "passports.api.permissions": "core.api.permissions",
    "passports.api.authentication": "wallet.tenancy.authentication",
    "passports.services.openid4vp_access": "openid4vp.passport_access",
    "wallet.identity_models": "wallet.tenancy.legal_models",
    "wallet.api_tokens": "wallet.tenancy.api_tokens",
    "wallet.mandates": "wallet.tenancy.mandates",
    "wallet.credential_status": "wallet.tenancy.credential_status",
    "wallet.admin_scoping": "wallet.tenancy.admin_scoping",
    "wallet.selectors": "wallet.tenancy.selectors",
    "wallet.services": "wallet.tenancy.services",
    "wallet.demo": "wallet.tenancy.demo",
    "wallet.authority": "wallet.tenancy.authority",  # if moved there with `git mv`
    "wallet.identity": "wallet.business.identity.services",
    "wallet.identity_demo": "wallet.business.identity.demo",
    "wallet.admin_identity": "wallet.business.identity.admin",
    "wallet.messaging": "wallet.business.messaging.services",
    "wallet.messaging_models": "wallet.business.messaging.models",
    "wallet.messaging_demo": "wallet.business.messaging.demo",
    "wallet.admin_messaging": "wallet.business.messaging.admin",
    "wallet.invoices": "wallet.business.messaging.invoices",
    "wallet.presentations": "wallet.business.presentations",
    "wallet.trust": "wallet.business.trust",
    "wallet.verification": "wallet.business.verification",
    "wallet.checks": "wallet.business.checks",
    "wallet.api": "wallet.business.api",
    "tests.passports.factories": "tests.support.factories",
    "tests.openid4vci.wallet": "tests.support.openid4vci_wallet",
    "tests.openid4vp.wallet": "tests.support.openid4vp_wallet",
    "tests.credentials.pki": "tests.support.pki",
    "tests.credentials.fixtures": "tests.support.credential_fixtures",
    "tests.api.formats": "tests.support.formats",
    "tests.openid4vp.vectors": "tests.support.openid4vp_vectors",
    "tests.published": "tests.support.published",
    "tests.openid4vci.schemas": "tests.support.openid4vci_schemas",
    "tests.openid4vp.schemas": "tests.support.openid4vp_schemas",
    "tests.conftest": "tests.support.environment",
    "tests.public.conftest": "tests.support.public",
    "tests.api.conftest": "tests.support.api",
    "tests.openid4vp.conftest": "tests.support.openid4vp",
    "tests.openid4vci.test_token": "tests.support.openid4vci",
    "tests.openid4vci.test_wallet_flow": "tests.support.openid4vci",
    "tests.openid4vci.test_credential": "tests.support.openid4vci",
    "tests.openid4vp.test_refusals": "tests.support.openid4vp",
    "tests.openid4vp.test_dcql": "tests.support.openid4vp",
    "tests.wallet.test_presentations": "tests.support.wallet",
    "tests.wallet.test_identity_api": "tests.support.wallet",
    "tests.wallet.test_identity": "tests.support.wallet",
    "tests.credentials.test_sd_jwt": "tests.support.credential_fixtures",
    "tests.test_eu_wallet_end_to_end": "tests.support.eu_wallet",
}
# Modules some of whose names moved: {module: {name: new module}}.
NAMES = {
    "passports.api.views": dict.fromkeys(
        ("ApiView", "OpenApiView", "validated", "Pages", "page_parameters"), "core.api.views"),
    "passports.api.serializers": dict.fromkeys(
        ("StrictInput", "FieldErrorSerializer", "ProblemSerializer", "paginated"),
        "core.api.serializers"),
    "passports.api.schema": dict.fromkeys(
        ("PROBLEM_DESCRIPTIONS", "problems", "KEYED", "WRITE", "OPEN", "COMPACT_BODY",
         "TokenAuthenticationScheme"), "core.api.schema"),
    "wallet.models": {
        **dict.fromkeys(("Organisation", "Member", "ApiToken", "slug_validator"),
                        "wallet.tenancy.models"),
        **dict.fromkeys(("AttestationRequest", "LegalDetails", "Mandate", "TrustedAnchor",
                         "WalletCredential"), "wallet.tenancy.legal_models"),
        **dict.fromkeys(("InboxMessage", "Invoice", "Message", "MessageAttachment",
                         "OutboxMessage"), "wallet.business.messaging.models"),
    },
    "wallet.business.identity.services": {"WalletError": "wallet.tenancy.errors",
                                          "credential_url": "wallet.tenancy.credential_status"},
    "passports.services.presentation_access": {},
    "tests.passports": {"sample_value": "tests.support.attributes"},
}
# `from package import module` forms: {(package, module): (new package, new module)}.
PACKAGE_MEMBERS = {
    ("passports", "qr"): ("core", "qr"),
    ("config", "ratelimit"): ("core", "ratelimit"),
    ("wallet", "invoices"): ("wallet.business.messaging", "invoices"),
    ("wallet", "messaging"): ("wallet.business.messaging", "services as messaging"),
    ("wallet", "checks"): ("wallet.business", "checks"),
    ("tests.openid4vci", "schemas"): ("tests.support", "openid4vci_schemas as schemas"),
    ("tests.openid4vp", "schemas"): ("tests.support", "openid4vp_schemas as schemas"),
}

FROM_IMPORT = re.compile(
    r"^(?P<indent>[ \t]*)from (?P<module>[\w.]+) import "
    r"(?P<names>\((?:[^)]*)\)|[^\n#]*?)(?P<comment>[ \t]*#[^\n]*)?$", re.M)
PLAIN_IMPORT = re.compile(r"^(?P<indent>[ \t]*)import (?P<module>[\w.]+)(?P<rest>.*)$", re.M)
DOTTED = re.compile(r"([\"'])((?:config|passports|wallet|tests)\.[\w.]+)\1")


def moved_module(module: str) -> str:
    best = max((old for old in MODULES if module == old or module.startswith(old + ".")),
               key=len, default=None)
    return MODULES[best] + module[len(best):] if best else module


def _rewrite_from(match: re.Match) -> str:
    indent, module = match["indent"], moved_module(match["module"])
    comments = re.findall(r"#[^\n]*", match["names"]) + [match["comment"] or ""]
    comment = "  " + " ".join(c.strip() for c in comments if c.strip()) if any(comments) else ""
    names = [n.strip() for n in re.sub(r"#[^\n]*", "", match["names"]).strip("()").split(",")
             if n.strip()]
    groups: dict[str, list[str]] = {}
    for name in names:
        base = name.split(" as ")[0].strip()
        if (match["module"], base) in PACKAGE_MEMBERS:
            package, member = PACKAGE_MEMBERS[(match["module"], base)]
            alias = name.split(" as ")[1] if " as " in name else None
            member = f"{member.split(' as ')[0]} as {alias}" if alias else member
            groups.setdefault(package, []).append(member)
            continue
        target = NAMES.get(module, {}).get(base) or NAMES.get(match["module"], {}).get(base)
        groups.setdefault(target or module, []).append(name)
    if list(groups) == [match["module"]]:
        return match.group(0)  # nothing of it moved: left as written
    lines = [f"{indent}from {target} import {', '.join(group)}" for target, group in groups.items()]
    lines[-1] += comment
    return "\n".join(lines)


def rewrite(text: str) -> str:
    text = FROM_IMPORT.sub(_rewrite_from, text)
    text = PLAIN_IMPORT.sub(
        lambda m: f"{m['indent']}import {moved_module(m['module'])}{m['rest']}", text)

    def dotted(match: re.Match) -> str:
        value = match[2]
        module, _, name = value.rpartition(".")
        for owner, names in NAMES.items():  # "wallet.models.Organisation" and the like
            if module == owner and name in names:
                return f"{match[1]}{names[name]}.{name}{match[1]}"
        return f"{match[1]}{moved_module(value)}{match[1]}"

    return DOTTED.sub(dotted, text)


IMPORT_LINE = re.compile(r"^\s*(from [\w.]+ import|import [\w.]+|\)|[\w ,]+,?\s*(#.*)?$|#|$)")


def resolve_import_conflicts(text: str) -> tuple[str, int]:
    """Conflict hunks whose two sides are only import lines -> both sides' lines; returns the
    text and how many hunks are left for a person."""
    out, left, lines, i = [], 0, text.split("\n"), 0
    while i < len(lines):
        if not lines[i].startswith("<<<<<<< "):
            out.append(lines[i])
            i += 1
            continue
        end = i + 1
        while not lines[end].startswith(">>>>>>> "):
            end += 1
        hunk = lines[i:end + 1]
        sides, side = {"ours": [], "base": [], "theirs": []}, "ours"
        for line in hunk[1:-1]:
            if line.startswith("||||||| "):
                side = "base"
            elif line.startswith("======="):
                side = "theirs"
            else:
                sides[side].append(line)
        if all(IMPORT_LINE.match(line) for line in sides["ours"] + sides["theirs"]):
            out.extend(sides["ours"] + sides["theirs"])
        else:
            out.extend(hunk)
            left += 1
        i = end + 1
    return "\n".join(out), left


def main(paths: list[str]) -> None:
    if paths and paths[0] == "--resolve":
        paths = paths[1:]
        for path in map(Path, paths):
            text, left = resolve_import_conflicts(path.read_text(encoding="utf-8"))
            path.write_text(text, encoding="utf-8")
            if left:
                print(f"{path}: {left} conflict(s) left that are not only imports")
    for path in map(Path, paths):
        if "migrations" in path.parts:
            continue  # migrations name apps and models, never these modules
        before = path.read_text(encoding="utf-8")
        after = rewrite(before)
        if after != before:
            path.write_text(after, encoding="utf-8")
            print("rewrote", path)


if __name__ == "__main__":
    main(sys.argv[1:])
