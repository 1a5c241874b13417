"""The verifier: a credential or presentation in, the verdict of docs/architecture.md, Verdict out.

Pure: everything it needs from the world comes through small interfaces (a key resolver, a
status-list fetcher, a trust registry, extra checks), so it is unit-testable and the same
verifier serves the partner API, the VC-API endpoints and the public page. Malformed input never
raises out of `verify`: it yields `verified: false` with the failing check named."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from core.outages import unavailable_service
from credentials import contexts, guarded_http, schemas
from credentials.errors import CredentialError
from credentials.foreign_issuers import ForeignIssuers
from credentials.suites import ProofResult, detect
from credentials.suites.base import KeyResolver

log = logging.getLogger(__name__)

STATUS_WORDS = {"revocation": "revoked", "suspension": "suspended"}
TOKEN_STATUS_WORDS = {1: "revoked", 2: "suspended"}  # IETF Token Status List: 0 = valid


class StatusListView(Protocol):
    """A fetched status list whose own proof has been verified by the fetcher."""

    issuer: str
    purpose: str | None  # Bitstring lists carry one purpose; Token Status Lists none

    def status(self, index: int) -> int: ...

    # Optional: `prefetch(index)`, called before anything else is asked, tells a view which
    # entry will be read (our own lists then read that entry alone, in one query).


class StatusFetcher(Protocol):
    def bitstring(self, url: str) -> StatusListView: ...

    def token(self, uri: str) -> StatusListView: ...


class TrustRegistry(Protocol):
    def legal_person(self, issuer: str, *, now: datetime) -> tuple[dict | None, str]:
        """(the legal person behind `issuer` attested by a trusted anchor, or None; reason)."""
        ...


ExtraCheck = Callable[[dict, dict], None]  # (credential, verdict) -> mutate verdict
# (credential, now) -> a context the credential's checks run in: a service that can read what
# they will ask (trust, status, its own state) in one round trip does so there.
ReadAhead = Callable[[dict, datetime], contextlib.AbstractContextManager]


@dataclass
class Verifier:
    keys: KeyResolver
    status: StatusFetcher | None = None
    trust: TrustRegistry | None = None
    extra_checks: list[ExtraCheck] = field(default_factory=list)
    # Issuers that are not DIDs (SD-JWT VCs signed under an X.509 chain or JWT VC Issuer
    # Metadata): their trust anchors. None: no such issuer is accepted.
    foreign_issuers: ForeignIssuers | None = None
    # Other names the same issuer goes by (an X.509-identified issuer's https `iss` and the DID
    # its status lists are issued under): a status list of any of them is the issuer's own.
    issuer_aliases: Callable[[str], set[str]] | None = None
    read_ahead: ReadAhead | None = None

    def verify(self, secured: Any, *, now: datetime | None = None, **expected) -> dict:
        """`expected` carries what a presentation must be bound to: challenge, domain, nonce,
        aud. Never raises for bad input."""
        now = now or datetime.now(UTC)
        try:
            with guarded_http.time_budget():  # one for everything fetched, inner credentials too
                return self._verify(secured, now, expected)
        except Exception as exc:  # noqa: BLE001 - the contract is: a verdict, never a crash
            if unavailable_service(exc):
                raise  # our database or cache is down: no verdict at all (503), not a false one
            log.exception("verifier crashed on input")
            return _finish(_verdict("unknown", [_check("format", False, f"cannot verify: "
                                                        f"{type(exc).__name__}")]))

    # --- steps ---------------------------------------------------------------------------

    def _verify(self, secured: Any, now: datetime, expected: dict) -> dict:
        refusal = _input_refusal(secured)
        if refusal:
            return _finish(_verdict("unknown", [_check("format", False, refusal)]))
        secured = _normalise_input(secured)
        suite = detect(secured) if secured is not None else None
        if suite is None:
            return _finish(_verdict("unknown", [_check("format", False,
                                                       _unrecognised(secured))]))
        result: ProofResult = suite.verify(secured, self.keys, now=now,
                                           foreign_issuers=self.foreign_issuers, **expected)
        verdict = _verdict(result.format, [_proof_check(result)], credential=result.credential)
        credential = result.credential
        if not isinstance(credential, dict):
            return _finish(verdict)
        if _is_presentation(credential, result):
            self._presentation(verdict, result, now)
            self._extra_checks(verdict, credential)
            return _finish(verdict)
        with self.read_ahead(credential, now) if self.read_ahead else contextlib.nullcontext():
            self._issuer(verdict, credential, result, now)
            self._validity(verdict, credential, now)
            self._status(verdict, credential)
            self._schema(verdict, credential, result)
            self._extra_checks(verdict, credential)
        return _finish(verdict)

    def _extra_checks(self, verdict, credential):
        for extra in self.extra_checks:
            extra(credential, verdict)

    def _issuer(self, verdict, credential, result, now):
        issuer = credential.get("issuer", credential.get("iss"))
        issuer_id = issuer.get("id") if isinstance(issuer, dict) else issuer
        name = issuer.get("name") if isinstance(issuer, dict) else None
        block = {"id": issuer_id, "name": name, "trusted": False, "legal_person": None}
        verdict["issuer"] = block
        method = result.verification_method or ""
        if not isinstance(issuer_id, str) or not issuer_id:
            verdict["checks"].append(_check("issuer", False, "no issuer"))
            return
        foreign = result.details.get("issuer_key")
        if foreign is not None:  # the suite bound the key to iss and judged its trust
            self._foreign_issuer(verdict, block, foreign)
            return
        if method and method.split("#", 1)[0] != issuer_id:
            verdict["checks"].append(_check(
                "issuer", False, f"signed by {method}, which is not a key of {issuer_id}"))
            return
        verdict["checks"].append(_check("issuer", True))
        if self.trust is None:
            verdict["warnings"].append("issuer trust not evaluated (no trust registry)")
            return
        legal_person, reason = self.trust.legal_person(issuer_id, now=now)
        block["trusted"] = legal_person is not None
        block["legal_person"] = legal_person
        if legal_person is None:
            verdict["warnings"].append(f"issuer not trusted: {reason}")

    def _foreign_issuer(self, verdict, block, foreign):
        """An issuer known by its X.509 chain (trusted when the chain leads to an anchor, the
        legal person its certificate's subject) or by its JWT VC Issuer Metadata."""
        block.update(name=block["name"] or foreign["name"], trusted=foreign["trusted"],
                     legal_person=foreign["legal_person"],
                     identified_by=foreign["method"])
        verdict["checks"].append(_check("issuer", True))
        if not foreign["trusted"]:
            verdict["warnings"].append(f"issuer not trusted: {foreign['reason']}")

    def _validity(self, verdict, credential, now):
        problems = []
        start = credential.get("validFrom", credential.get("issuanceDate"))
        end = credential.get("validUntil", credential.get("expirationDate"))
        for label, value, bad in (("valid from", start, lambda t: t > now),
                                  ("valid until", end, lambda t: t < now)):
            if value is None:
                continue
            moment = (datetime.fromtimestamp(value, UTC) if isinstance(value, int | float)
                      else schemas.parse_datetime(value))
            if moment is None:
                problems.append(f"{label}: not a date-time ({value!r})")
            elif bad(moment):
                problems.append("expired" if label == "valid until" else "not yet valid")
        for claim, bad, word in (("exp", lambda t: t < now, "expired"),
                                 ("nbf", lambda t: t > now, "not yet valid")):
            value = credential.get(claim)
            if isinstance(value, int | float) and bad(datetime.fromtimestamp(value, UTC)):
                problems.append(word)
        verdict["checks"].append(_check("validity_period", not problems, "; ".join(problems)))

    def _status(self, verdict, credential):
        entries = status_entries(credential)
        if not entries:
            return
        for kind, purpose, index, url in entries:
            check = {"check": "status", "purpose": purpose}
            if self.status is None:
                check.update(ok=False, detail="status not checked: no status fetcher")
            else:
                try:
                    check.update(self._read_status(kind, purpose, index, url, verdict))
                except CredentialError as exc:
                    check.update(ok=False, detail=f"status list unavailable: {exc.detail}")
            verdict["checks"].append(check)

    def _read_status(self, kind, purpose, index, url, verdict) -> dict:
        issuer = (verdict.get("issuer") or {}).get("id")
        view = self.status.token(url) if kind == "token" else self.status.bitstring(url)
        if hasattr(view, "prefetch"):
            view.prefetch(index)
        aliases = self.issuer_aliases(issuer) if self.issuer_aliases and issuer else set()
        if view.issuer != issuer and view.issuer not in aliases:
            return {"ok": False, "detail": f"status list issued by {view.issuer}, "
                                           f"not by the credential's issuer"}
        if kind == "bitstring" and view.purpose not in (None, purpose):
            return {"ok": False, "detail": f"status list purpose is {view.purpose}, "
                                           f"entry says {purpose}"}
        value = view.status(index)
        if kind == "token":
            word = "valid" if value == 0 else TOKEN_STATUS_WORDS.get(value, f"status {value}")
            return {"ok": value == 0, "detail": word,
                    "purpose": "suspension" if word == "suspended" else "revocation"}
        return {"ok": value == 0, "detail": STATUS_WORDS.get(purpose, purpose) if value else
                "valid"}

    def _schema(self, verdict, credential, result):
        if result.format in ("dc+sd-jwt", "vc+sd-jwt"):
            return  # SD-JWT VC claims are checked by their vct, not a VCDM schema
        types = credential.get("type") or []
        errors = _unknown_contexts(credential)
        name = schemas.schema_for_types(types if isinstance(types, list) else [types])
        if credential.get("@context", [None])[0] == schemas.VC_V2:
            errors += schemas.vcdm2_errors(credential)
        if name:
            errors += schemas.schema_errors(name, credential)
        check = _check("schema", not errors, "; ".join(errors[:10]))
        check["schema"] = name or _data_model(credential)
        verdict["checks"].append(check)

    def _presentation(self, verdict, result, now):
        """Each credential inside a presentation gets its own full verdict."""
        unknown = _unknown_contexts(result.credential)
        if unknown:
            verdict["checks"].append(_check("schema", False, "; ".join(unknown)))
        inner = []
        for item in result.details.get("credentials", []):
            inner.append(self.verify(item, now=now))
        verdict["credentials"] = inner
        verdict["holder"] = result.details.get("holder")
        if inner:
            verdict["checks"].append(_check(
                "credentials", all(v["verified"] for v in inner),
                "; ".join(f"credential {i + 1}: {', '.join(v['errors'])}"
                          for i, v in enumerate(inner) if not v["verified"])))


# --- helpers -----------------------------------------------------------------------------

def _normalise_input(secured: Any) -> Any:
    """A compact string without its data: URL prefix, a JSON object as is, anything else None
    (a string holding JSON was refused before: _input_refusal)."""
    if isinstance(secured, bytes):
        secured = secured.decode("utf-8", "replace")
    if isinstance(secured, str):
        text = secured.strip()
        for prefix in ("data:application/vc+jwt,", "data:application/dc+sd-jwt,",
                       "data:application/vp+jwt,"):
            text = text.removeprefix(prefix)
        return text
    return secured if isinstance(secured, dict) else None


ENVELOPES = ("EnvelopedVerifiableCredential", "EnvelopedVerifiablePresentation")


def _input_refusal(secured: Any) -> str | None:
    """Why `secured` is refused before any proof is looked at: a document sent as a string of
    JSON (VC Data Integrity §4.4: the secured document must be a map), or an envelope whose
    @context is not the VCDM 2.0 one (VCDM 2.0 §4.13)."""
    if isinstance(secured, bytes | str):
        text = secured.decode("utf-8", "replace") if isinstance(secured, bytes) else secured
        if text.lstrip().startswith(("{", "[")):
            return ("not a credential: a JSON document sent as a string; send the object "
                    "itself")
        return None
    if isinstance(secured, dict) and secured.get("type") in ENVELOPES:
        context = secured.get("@context")
        entries = context if isinstance(context, list) else [context]
        if entries[:1] != [schemas.VC_V2]:
            return f"{secured['type']}: @context must start with {schemas.VC_V2}"
    return None


def _unrecognised(secured) -> str:
    if secured is None:
        return "not a credential: expected a JSON object or a compact JWT / SD-JWT string"
    if isinstance(secured, dict) and "proof" not in secured:
        return "no proof: the credential is not secured (no proof, not a JWT or envelope)"
    return "unsupported or malformed credential format"


def _is_presentation(credential: dict, result: ProofResult) -> bool:
    types = credential.get("type") or []
    return "VerifiablePresentation" in (types if isinstance(types, list) else [types])


def _unknown_contexts(document: dict) -> list[str]:
    """Every context must be one the service knows (docs/architecture.md, Credentials), whatever
    secures the document: a JOSE-secured credential means what its contexts say just as much as an
    embedded-proof one."""
    context = document.get("@context", [])
    entries = context if isinstance(context, list) else [context]
    return [f"@context: unknown JSON-LD context {entry}" for entry in entries
            if isinstance(entry, str) and not contexts.known(entry)]


def status_entries(credential: dict) -> list[tuple[str, str, int, str]]:
    """(kind, purpose, index, url) for every status entry the credential carries."""
    entries = []
    status = credential.get("credentialStatus")
    for entry in status if isinstance(status, list) else [status] if status else []:
        if not isinstance(entry, dict):
            continue
        kind = entry.get("type")
        if kind in ("BitstringStatusListEntry", "StatusList2021Entry"):
            index = entry.get("statusListIndex")
            # UNTP 0.7.0 writes an integer, the W3C spec a string: accept both.
            if isinstance(index, str) and index.isdigit():
                index = int(index)
            if isinstance(index, int) and not isinstance(index, bool) and index >= 0:
                entries.append(("bitstring", entry.get("statusPurpose", "revocation"), index,
                                entry.get("statusListCredential")))
    token = credential.get("status")
    if isinstance(token, dict) and isinstance(token.get("status_list"), dict):
        ref = token["status_list"]
        if isinstance(ref.get("idx"), int) and isinstance(ref.get("uri"), str):
            entries.append(("token", "revocation", ref["idx"], ref["uri"]))
    return entries


def _data_model(credential: dict) -> str:
    context = credential.get("@context") or [None]
    return {"https://www.w3.org/ns/credentials/v2": "vcdm-2.0",
            "https://www.w3.org/2018/credentials/v1": "vcdm-1.1"}.get(context[0], "none")


# A proof that failed because its key could not be had: the signature was never checked, so
# the detail says which (only `signature_invalid` means the data or its signature changed).
KEY_FAILURES = {
    "key_not_found": "{party} key not found",
    "did_not_resolved": "{party}'s DID could not be resolved",
    "key_resolution": "{party}'s DID could not be resolved",
}


def _proof_check(result: ProofResult) -> dict:
    """The proof check; a failed one carries the suite's `code` (`signature_invalid`,
    `key_not_found`, `did_not_resolved`, ...; `proof_invalid` when it gave none)."""
    detail = "; ".join(result.errors)
    if result.ok:
        return _check("proof", True, detail)
    code = result.details.get("code") or "proof_invalid"
    if code in KEY_FAILURES:
        party = "holder" if result.format.startswith("vp") else "issuer"
        detail = f"{KEY_FAILURES[code].format(party=party)}: {detail}"
    check = _check("proof", False, detail)
    check["code"] = code
    return check


def _check(name: str, ok: bool, detail: str = "") -> dict:
    check = {"check": name, "ok": bool(ok)}
    if detail:
        check["detail"] = detail
    return check


def _verdict(format: str, checks: list[dict], *, credential=None) -> dict:
    return {"verified": False, "format": format, "issuer": None, "checks": checks,
            "errors": [], "warnings": [], "credential": credential}


def _finish(verdict: dict) -> dict:
    verdict["errors"] = [f"{c['check']}: {c.get('detail', 'failed')}"
                         for c in verdict["checks"] if not c["ok"]]
    verdict["verified"] = not verdict["errors"]
    return verdict
