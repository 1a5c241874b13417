"""The evidence tree of a verdict in words, for the public page: one line per claim, event or
record, and one per group of input passports (by product and issuer), each verified or not
with the reason ("Carbon footprint: attested by Voltcheck, verified"; "NMC811 cell: 12
passports from Cellfab, verified")."""

from __future__ import annotations

from django.utils.translation import gettext, ngettext


def _reason(branch: dict) -> str:
    errors = " ".join(branch.get("errors") or [])
    issuer = (branch.get("issuer") or {}).get("name") or gettext("its issuer")
    if "revoked" in errors:
        return gettext("revoked")
    if "suspended" in errors:
        return gettext("suspended")
    if branch.get("hash") == "mismatch":
        return gettext("changed since it was linked")
    if "issuer: not trusted" in errors:
        return gettext("%(issuer)s is not trusted") % {"issuer": issuer}
    if "fetch:" in errors:
        return gettext("could not be fetched")
    if "proof:" in errors:
        return gettext("its signature does not match")
    failed = [child for child in branch.get("links") or [] if not child.get("verified")]
    if failed:
        return gettext("its own evidence is not verified")
    return gettext("not verified")


def _outcome(branches: list[dict]) -> str:
    failed = [b for b in branches if not b.get("verified")]
    if not failed:
        return gettext("verified")
    reasons = sorted({_reason(b) for b in failed})
    if len(branches) == 1:
        return gettext("not verified: %(reasons)s") % {"reasons": ", ".join(reasons)}
    return ngettext("%(count)d not verified: %(reasons)s",
                    "%(count)d not verified: %(reasons)s",
                    len(failed)) % {"count": len(failed), "reasons": ", ".join(reasons)}


def _issuer(branch: dict) -> str:
    issuer = branch.get("issuer") or {}
    return issuer.get("name") or issuer.get("id") or gettext("an unknown issuer")


def evidence_lines(verdict: dict | None) -> list[dict]:
    """[{"ok": bool, "text": str}] for the verdict's evidence, in the tree's order."""
    tree = (verdict or {}).get("evidence") or {}
    lines: list[dict] = []
    groups: dict[tuple[str, str], list[dict]] = {}
    for branch in tree.get("links") or []:
        kind = branch.get("kind")
        if kind == "passport":
            product = (branch.get("subject") or {}).get("product") or branch.get("name")
            key = (product, _issuer(branch))
            if key not in groups:
                groups[key] = []
                lines.append({"group": key})
            groups[key].append(branch)
            continue
        values = {"issuer": _issuer(branch), "outcome": _outcome([branch])}
        if branch.get("role") == "claim":
            values["topic"] = (branch.get("claim") or {}).get("topic") or branch.get("name")
            text = gettext("%(topic)s: attested by %(issuer)s, %(outcome)s") % values
        elif kind == "traceability":
            values["name"] = branch.get("name")
            text = gettext("%(name)s: recorded by %(issuer)s, %(outcome)s") % values
        elif not branch.get("followed"):
            text = gettext("%(name)s: not checked") % {"name": branch.get("name")}
        else:
            values["name"] = branch.get("name")
            text = gettext("%(name)s: issued by %(issuer)s, %(outcome)s") % values
        lines.append({"ok": bool(branch.get("verified")), "text": text})
    return [_group_line(line["group"], groups[line["group"]]) if "group" in line else line
            for line in lines]


def _group_line(key: tuple[str, str], branches: list[dict]) -> dict:
    product, issuer = key
    text = ngettext("%(product)s: %(count)d passport from %(issuer)s, %(outcome)s",
                    "%(product)s: %(count)d passports from %(issuer)s, %(outcome)s",
                    len(branches)) % {"product": product, "count": len(branches),
                                      "issuer": issuer, "outcome": _outcome(branches)}
    return {"ok": all(b.get("verified") for b in branches), "text": text}
