"""Digital Credentials Query Language (OpenID4VP 1.0 §6, §7): checking a query before it is
sent, and checking what a Wallet disclosed against it. Pure: no database, no crypto.

The Verifier asks for `dc+sd-jwt` credentials only (what this service verifies) and always
requires Cryptographic Holder Binding. Claims path pointers follow §7: strings select object
members, non-negative integers array elements, null every element of an array.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

FORMAT = "dc+sd-jwt"
ID = re.compile(r"^[A-Za-z0-9_-]+$")  # §6.1 / §6.3: credential and claim ids
MAX_QUERY_BYTES = 32 * 1024
MAX_CREDENTIALS = 20
MAX_CLAIMS = 100

ClaimPath = tuple  # of str | int | None


class DcqlError(ValueError):
    """A query that is not valid DCQL (or asks what this Verifier cannot verify)."""

    def __init__(self, detail: str, *, field: str = "dcql_query"):
        super().__init__(detail)
        self.detail, self.field = detail, field


# --- the query ---------------------------------------------------------------------------------

def validate_query(query: Any) -> dict:
    """The query if it is valid DCQL this Verifier can answer; DcqlError naming the first fault
    (with a JSON-path-like `field`) otherwise."""
    if not isinstance(query, dict):
        raise DcqlError("a DCQL query is a JSON object")
    if len(json.dumps(query)) > MAX_QUERY_BYTES:
        raise DcqlError(f"the query is larger than {MAX_QUERY_BYTES} bytes")
    credentials = query.get("credentials")
    if not isinstance(credentials, list) or not credentials:
        raise DcqlError("credentials: a non-empty array of Credential Queries is required",
                        field="dcql_query.credentials")
    if len(credentials) > MAX_CREDENTIALS:
        raise DcqlError(f"credentials: at most {MAX_CREDENTIALS} Credential Queries",
                        field="dcql_query.credentials")
    ids: list[str] = []
    for index, credential in enumerate(credentials):
        ids.append(_credential_query(credential, f"dcql_query.credentials.{index}"))
    if duplicate := _first_duplicate(ids):
        raise DcqlError(f"credentials: the id {duplicate!r} is used twice",
                        field="dcql_query.credentials")
    if "credential_sets" in query:
        _credential_sets(query["credential_sets"], set(ids))
    return query


def _credential_query(credential: Any, at: str) -> str:
    if not isinstance(credential, dict):
        raise DcqlError("a Credential Query is a JSON object", field=at)
    query_id = credential.get("id")
    if not isinstance(query_id, str) or not ID.match(query_id):
        raise DcqlError("id: required, letters, digits, _ and - only", field=f"{at}.id")
    if credential.get("format") != FORMAT:
        raise DcqlError(f"format: {credential.get('format')!r} is not supported by this "
                        f"verifier (only {FORMAT})", field=f"{at}.format")
    meta = credential.get("meta")
    if not isinstance(meta, dict):
        raise DcqlError("meta: required (an object)", field=f"{at}.meta")
    vct_values = meta.get("vct_values")
    if (not isinstance(vct_values, list) or not vct_values
            or not all(isinstance(v, str) and v for v in vct_values)):
        raise DcqlError("meta.vct_values: a non-empty array of type identifiers is required "
                        "for dc+sd-jwt", field=f"{at}.meta.vct_values")
    for flag in ("multiple", "require_cryptographic_holder_binding"):
        if flag in credential and not isinstance(credential[flag], bool):
            raise DcqlError(f"{flag}: must be true or false", field=f"{at}.{flag}")
    if credential.get("require_cryptographic_holder_binding") is False:
        raise DcqlError("require_cryptographic_holder_binding: this verifier always requires "
                        "holder binding (a Key Binding JWT)",
                        field=f"{at}.require_cryptographic_holder_binding")
    if "trusted_authorities" in credential:
        _trusted_authorities(credential["trusted_authorities"], f"{at}.trusted_authorities")
    claim_ids = _claims(credential.get("claims"), f"{at}.claims") \
        if "claims" in credential else None
    if "claim_sets" in credential:
        if claim_ids is None:
            raise DcqlError("claim_sets: not allowed without claims", field=f"{at}.claim_sets")
        _claim_sets(credential["claim_sets"], claim_ids, f"{at}.claim_sets")
    return query_id


def _claims(claims: Any, at: str) -> list[str | None]:
    if not isinstance(claims, list) or not claims:
        raise DcqlError("claims: must be a non-empty array when present", field=at)
    if len(claims) > MAX_CLAIMS:
        raise DcqlError(f"claims: at most {MAX_CLAIMS}", field=at)
    ids: list[str | None] = []
    paths: list[ClaimPath] = []
    for index, claim in enumerate(claims):
        where = f"{at}.{index}"
        if not isinstance(claim, dict):
            raise DcqlError("a Claims Query is a JSON object", field=where)
        claim_id = claim.get("id")
        if claim_id is not None and (not isinstance(claim_id, str) or not ID.match(claim_id)):
            raise DcqlError("id: letters, digits, _ and - only", field=f"{where}.id")
        ids.append(claim_id)
        paths.append(check_path(claim.get("path"), f"{where}.path"))
        if "values" in claim:
            values = claim["values"]
            if (not isinstance(values, list) or not values
                    or not all(isinstance(v, str | int | bool) for v in values)):
                raise DcqlError("values: a non-empty array of strings, integers or booleans",
                                field=f"{where}.values")
    if duplicate := _first_duplicate([i for i in ids if i is not None]):
        raise DcqlError(f"claims: the id {duplicate!r} is used twice", field=at)
    if duplicate := _first_duplicate(paths):
        raise DcqlError(f"claims: the path {list(duplicate)} is asked for twice", field=at)
    return ids


def check_path(path: Any, at: str = "path") -> ClaimPath:
    """A claims path pointer (§7): a non-empty array of strings, nulls and non-negative
    integers."""
    if not isinstance(path, list) or not path:
        raise DcqlError("path: a non-empty array is required", field=at)
    for component in path:
        if component is None or isinstance(component, str):
            continue
        if isinstance(component, int) and not isinstance(component, bool) and component >= 0:
            continue
        raise DcqlError(f"path: {component!r} is not a string, null or a non-negative integer",
                        field=at)
    return tuple(path)


def _claim_sets(claim_sets: Any, claim_ids: list[str | None], at: str) -> None:
    if None in claim_ids:
        raise DcqlError("claims: every claim needs an id when claim_sets is present",
                        field=at)
    if not isinstance(claim_sets, list) or not claim_sets:
        raise DcqlError("claim_sets: a non-empty array of arrays of claim ids", field=at)
    for option in claim_sets:
        if not isinstance(option, list) or not option:
            raise DcqlError("claim_sets: each option is a non-empty array of claim ids",
                            field=at)
        if unknown := [i for i in option if i not in claim_ids]:
            raise DcqlError(f"claim_sets: no claim with id {unknown[0]!r}", field=at)


def _trusted_authorities(value: Any, at: str) -> None:
    if not isinstance(value, list) or not value:
        raise DcqlError("trusted_authorities: a non-empty array", field=at)
    for entry in value:
        if (not isinstance(entry, dict) or not isinstance(entry.get("type"), str)
                or not isinstance(entry.get("values"), list) or not entry["values"]
                or not all(isinstance(v, str) for v in entry["values"])):
            raise DcqlError("trusted_authorities: each entry has a type and a non-empty "
                            "array of values", field=at)


def _credential_sets(sets: Any, ids: set[str]) -> None:
    at = "dcql_query.credential_sets"
    if not isinstance(sets, list) or not sets:
        raise DcqlError("credential_sets: a non-empty array when present", field=at)
    for index, credential_set in enumerate(sets):
        where = f"{at}.{index}"
        if not isinstance(credential_set, dict):
            raise DcqlError("a Credential Set Query is a JSON object", field=where)
        options = credential_set.get("options")
        if not isinstance(options, list) or not options:
            raise DcqlError("options: a non-empty array of arrays of credential ids",
                            field=f"{where}.options")
        for option in options:
            if not isinstance(option, list) or not option:
                raise DcqlError("options: each option is a non-empty array of ids",
                                field=f"{where}.options")
            if unknown := [i for i in option if i not in ids]:
                raise DcqlError(f"options: no Credential Query with id {unknown[0]!r}",
                                field=f"{where}.options")
        if "required" in credential_set and not isinstance(credential_set["required"], bool):
            raise DcqlError("required: must be true or false", field=f"{where}.required")


def _first_duplicate(items: Iterable) -> Any:
    seen = set()
    for item in items:
        if item in seen:
            return item
        seen.add(item)
    return None


def credential_queries(query: dict) -> dict[str, dict]:
    """id → Credential Query."""
    return {credential["id"]: credential for credential in query["credentials"]}


# --- what came back ------------------------------------------------------------------------------

class _Missing(Exception):
    pass


def select(claims: dict, path: Sequence) -> list:
    """§7.1 processing: the elements `path` selects in `claims`; empty when the claim is not
    there (or the pointer runs into something of the wrong type)."""
    selected: list = [claims]
    try:
        for component in path:
            following: list = []
            for element in selected:
                if isinstance(component, str):
                    if not isinstance(element, dict):
                        raise _Missing
                    if component in element:
                        following.append(element[component])
                elif component is None:
                    if not isinstance(element, list):
                        raise _Missing
                    following.extend(element)
                else:
                    if not isinstance(element, list):
                        raise _Missing
                    if component < len(element):
                        following.append(element[component])
            selected = following
    except _Missing:
        return []
    return selected


def _same_value(a: Any, b: Any) -> bool:
    """`values` match exactly, type included (True is not 1)."""
    return type(a) is type(b) and a == b


def covers(requested: Sequence, disclosed: Sequence) -> bool:
    """Whether asking for `requested` allows disclosing the claim at `disclosed`: the claim
    itself, anything inside it, or a claim that contains it (its Disclosure has to be shown
    for the requested one to be reachable)."""
    for want, got in zip(requested, disclosed, strict=False):
        if want is None:
            if not isinstance(got, int):
                return False
        elif want != got or type(want) is not type(got):
            return False
    return True


@dataclass
class ClaimsOutcome:
    ok: bool
    missing: list[list] = field(default_factory=list)
    over_disclosed: list[list] = field(default_factory=list)
    wrong_values: list[list] = field(default_factory=list)

    @property
    def code(self) -> str:
        if self.missing:
            return "missing_claim"
        if self.over_disclosed:
            return "over_disclosure"
        if self.wrong_values:
            return "claim_value"
        return ""

    @property
    def reason(self) -> str:
        parts = []
        if self.missing:
            parts.append("requested claims not disclosed: " + _names(self.missing))
        if self.over_disclosed:
            parts.append("claims disclosed that were not requested (over-disclosure): "
                         + _names(self.over_disclosed))
        if self.wrong_values:
            parts.append("claims whose value is not among the requested values: "
                         + _names(self.wrong_values))
        return "; ".join(parts)


def _names(paths: list[list]) -> str:
    return ", ".join(".".join("*" if p is None else str(p) for p in path) for path in paths)


def check_claims(credential_query: dict, claims: dict, disclosed: Iterable[Sequence], *,
                 also_allowed: Iterable[Sequence] = ()) -> ClaimsOutcome:
    """Every requested claim present (one option of `claim_sets`, when there are several),
    values as requested, and no selectively disclosed claim beyond what was asked (§6.4.1, §7:
    "Wallets MUST NOT send selectively disclosable claims that have not been selected").
    `also_allowed`: paths other Credential Queries of the same request ask for (the same
    credential may answer several of them)."""
    disclosed = [tuple(path) for path in disclosed]
    query_claims = credential_query.get("claims") or []
    by_id = {claim.get("id"): claim for claim in query_claims}
    options = ([[by_id[i] for i in option] for option in credential_query["claim_sets"]]
               if credential_query.get("claim_sets") else [query_claims])
    extra = [tuple(path) for path in also_allowed]
    outcomes = [_check_option(option, claims, disclosed, extra) for option in options]
    for outcome in outcomes:
        if outcome.ok:
            return outcome
    # None satisfied: report against the option the Wallet came closest to.
    return min(outcomes, key=lambda o: (len(o.missing), len(o.over_disclosed)))


def _check_option(option: list[dict], claims: dict, disclosed: list[tuple],
                  extra: list[tuple]) -> ClaimsOutcome:
    outcome = ClaimsOutcome(ok=False)
    for claim in option:
        found = select(claims, claim["path"])
        if not found:
            outcome.missing.append(list(claim["path"]))
        elif "values" in claim and not any(_same_value(value, wanted) for value in found
                                           for wanted in claim["values"]):
            outcome.wrong_values.append(list(claim["path"]))
    allowed = [tuple(claim["path"]) for claim in option] + extra
    outcome.over_disclosed = [list(path) for path in disclosed
                              if not any(covers(want, path) for want in allowed)]
    outcome.ok = not (outcome.missing or outcome.over_disclosed or outcome.wrong_values)
    return outcome


def sets_satisfied(query: dict, answered: set[str]) -> tuple[bool, str]:
    """§6.4.2 / §7.2: whether the Credential Queries answered (with a valid presentation)
    satisfy the query: all of them without `credential_sets`, else one option of every
    required set. (False, what is missing) otherwise."""
    sets = query.get("credential_sets")
    if not sets:
        missing = [c["id"] for c in query["credentials"] if c["id"] not in answered]
        return (not missing,
                f"no valid presentation for: {', '.join(missing)}" if missing else "")
    for credential_set in sets:
        if credential_set.get("required", True) is False:
            continue
        if not any(set(option) <= answered for option in credential_set["options"]):
            wanted = " or ".join("+".join(option) for option in credential_set["options"])
            return False, f"no valid presentation for a required set: {wanted}"
    return True, ""


def requested_ids(query: dict) -> set[str]:
    """The Credential Query ids a response may answer: all of them, or with `credential_sets`
    those some set names."""
    sets = query.get("credential_sets")
    if not sets:
        return {c["id"] for c in query["credentials"]}
    return {i for credential_set in sets for option in credential_set["options"] for i in option}
