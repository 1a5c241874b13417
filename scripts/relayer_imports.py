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

import ast
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
    ("tests", "test_eu_wallet_end_to_end"): ("tests.support", "eu_wallet"),
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
    if not names:
        return match.group(0)  # not an import statement after all (prose, a broken line)
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


def _sides(text: str) -> tuple[str, str]:
    """The text with every conflict hunk taken from one side, then from the other."""
    ours, theirs, side = [], [], None
    for line in text.split("\n"):
        if line.startswith("<<<<<<< "):
            side = "ours"
        elif line.startswith("||||||| ") and side:
            side = "base"
        elif line.startswith("=======") and side:
            side = "theirs"
        elif line.startswith(">>>>>>> ") and side:
            side = None
        elif side is None:
            ours.append(line)
            theirs.append(line)
        elif side == "ours":
            ours.append(line)
        elif side == "theirs":
            theirs.append(line)
    return "\n".join(ours), "\n".join(theirs)


def _import_block(text: str) -> tuple[str, list[str], str]:
    """(what precedes the module's first imports, each import statement, what follows them)."""
    tree = ast.parse(text)
    statements = []
    for node in tree.body:
        if isinstance(node, ast.Expr) and not statements and isinstance(node.value, ast.Constant):
            continue  # the docstring
        if not isinstance(node, ast.Import | ast.ImportFrom):
            break
        statements.append(node)
    if not statements:
        raise SyntaxError("no imports")
    lines = text.split("\n")
    first, last = statements[0].lineno - 1, statements[-1].end_lineno
    return ("\n".join(lines[:first]), [ast.get_source_segment(text, node) for node in statements],
            "\n".join(lines[last:]))


def resolve_import_conflicts(text: str) -> str | None:
    """A file whose conflicts all lie in its leading imports -> both sides' imports (rewritten,
    each statement once); None when some conflict is elsewhere (for a person)."""
    ours, theirs = _sides(text)
    try:
        (before, our_imports, after), (before_2, their_imports, after_2) = (
            _import_block(ours), _import_block(theirs))
    except SyntaxError:
        return None
    if (before, after) != (before_2, after_2):
        return None
    statements = []
    for statement in our_imports + their_imports:
        statement = rewrite(statement)
        if statement not in statements:
            statements.append(statement)
    return "\n".join([before, *statements, after])


def main(paths: list[str]) -> None:
    if paths and paths[0] == "--resolve":
        paths = paths[1:]
        for path in map(Path, paths):
            resolved = resolve_import_conflicts(path.read_text(encoding="utf-8"))
            if resolved is None:
                print(f"{path}: conflicts outside the imports are left for a person")
            else:
                path.write_text(resolved, encoding="utf-8")
    for path in map(Path, paths):
        if "migrations" in path.parts or path.name == Path(__file__).name:
            continue  # migrations name apps and models, never these modules; nor rewrite this
        before = path.read_text(encoding="utf-8")
        after = rewrite(before)
        if after != before:
            path.write_text(after, encoding="utf-8")
            print("rewrote", path)


if __name__ == "__main__":
    main(sys.argv[1:])
