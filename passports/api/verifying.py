"""The API's verifier: the service's verifier (passports/services/verification.py, the same
checks the public page makes), with two short-lived caches.

- Keys: our own did:web documents come from the database; a partner verifying many passports of
  one manufacturer would look the same key up for every request. A key stays cached for KEY_TTL
  seconds per process: a key added by a rotation is found at once (a miss is looked up, never
  cached), a key removed from a DID document stops verifying within KEY_TTL.
- Verdicts: the verdict of the same credential (same bytes, same expected challenge/domain) is
  kept in the cache (Redis when configured) for API_VERDICT_CACHE_SECONDS, like the public
  page's. It is used only while every passport of this service it names is still in the state
  it had (one indexed query), so a revocation, suspension, reinstatement or new version shows
  on the next request. A verdict with a status check that names no passport (a credential
  issued through the VC-API, whose status its issuer may change at any time, or a foreign
  one) is not cached; one with an evidence tree no longer than its branches are
  (EVIDENCE_CACHE_SECONDS, credentials.evidence). What else can change (an issuer's trust, a
  key) shows within those seconds. 0 turns the verdict cache off.

`verify_json` gives the same verdict as the API's compact JSON; a cached verdict keeps its
rendering in this process, so a repeat costs one state query and no rendering."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import time
import uuid

import orjson
from django.conf import settings
from django.db import connection
from rest_framework.renderers import JSONRenderer

from core.outages import best_effort
from credentials.did_web import is_own_did
from credentials.keys import PublicKey
from credentials.verifier import Verifier
from passports.models import Passport
from passports.services import verification

KEY_TTL = 30.0
MAX_KEYS = 1024

_keys: dict[str, tuple[PublicKey, float]] = {}


class CachedOwnKeys:
    """A KeyResolver around another: our own verification methods' keys kept for KEY_TTL."""

    def __init__(self, resolver):
        self.resolver = resolver

    def public_key(self, verification_method: str) -> PublicKey:
        if not _own_method(verification_method):
            return self.resolver.public_key(verification_method)
        now = time.monotonic()
        cached = _keys.get(verification_method)
        if cached is not None and cached[1] > now:
            return cached[0]
        key = self.resolver.public_key(verification_method)  # raises when unknown
        if len(_keys) >= MAX_KEYS:
            _keys.clear()
        _keys[verification_method] = (key, now + KEY_TTL)
        return key


def _own_method(verification_method) -> bool:
    return (isinstance(verification_method, str) and verification_method.startswith("did:web:")
            and is_own_did(verification_method.split("#", 1)[0]))


def api_verifier() -> Verifier:
    base = verification.verifier()
    return dataclasses.replace(base, keys=CachedOwnKeys(base.keys))


def verify(secured, **expected) -> dict:
    """The verdict for any credential or presentation (docs/architecture.md, Verdict)."""
    return _verdict_entry(secured, expected)["verdict"]


def verify_json(secured, **expected) -> bytes:
    """verify() rendered as the API renders it (JSONRenderer, compact): the bytes of a cached
    verdict are rendered once per process and then reused."""
    entry = _verdict_entry(secured, expected)
    if "json" not in entry:
        entry["json"] = render_json(entry["verdict"])  # kept in this process only
    return entry["json"]


_DRF_ENCODER = JSONRenderer.encoder_class()
_PASSTHROUGH = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS


def render_json(verdict: dict) -> bytes:
    """The verdict as DRF's compact JSONRenderer writes it, by orjson (an uncached verdict,
    with its ~7 KB credential, cost the stdlib's encoder a twentieth of the request's CPU):
    UTF-8, no spaces, U+2028/U+2029 escaped as DRF escapes them. What orjson refuses (an integer
    beyond 64 bits) goes to JSONRenderer; a float's exponent may be written `1e16` where the
    stdlib writes `1e+16`, the same number."""
    try:  # what JSON has no type for (a date-time, a decimal) DRF's encoder writes, as DRF
        rendered = orjson.dumps(verdict, default=_DRF_ENCODER.default, option=_PASSTHROUGH)
    except TypeError:
        return JSONRenderer().render(verdict)
    if b"\xe2\x80\xa8" in rendered or b"\xe2\x80\xa9" in rendered:
        rendered = rendered.replace(b"\xe2\x80\xa8", b"\\u2028").replace(b"\xe2\x80\xa9",
                                                                         b"\\u2029")
    return rendered


def _verdict_entry(secured, expected: dict) -> dict:
    """{"verdict", "passports": {id: state}}: cached, or made now (see the module's doc)."""
    seconds = settings.API_VERDICT_CACHE_SECONDS
    if not seconds:
        return {"verdict": api_verifier().verify(secured, **expected)}
    key = _verdict_key(secured, expected)
    cached = _recent_verdict(key)
    if cached is not None and _passport_states(cached["passports"]) == cached["passports"]:
        return cached
    verdict = api_verifier().verify(secured, **expected)
    entry = {"verdict": verdict, "passports": _named_passports(verdict)}
    if not entry["passports"] and _has_status(verdict):
        return entry  # a status no passport state tracks (a VC-API credential's) may change now
    if "evidence" in verdict:
        # The linked credentials' states are not tracked here: kept no longer than their
        # branches are (EVIDENCE_CACHE_SECONDS), so what changes there shows as soon.
        seconds = min(seconds, settings.EVIDENCE_CACHE_SECONDS)
        if not seconds:
            return entry
    best_effort.set(key, entry, seconds)
    _remember(key, entry, seconds)
    return entry


# This process's own copies of recent verdicts, so a repeat costs no cache round trip.
_local: dict[str, tuple[dict, float]] = {}


def _recent_verdict(key: str) -> dict | None:
    now = time.monotonic()
    local = _local.get(key)
    if local is not None and local[1] > now:
        return local[0]
    entry = best_effort.get(key)
    if entry is not None:
        _remember(key, entry, settings.API_VERDICT_CACHE_SECONDS)
    return entry


def _remember(key: str, entry: dict, seconds: float) -> None:
    if len(_local) >= MAX_KEYS:
        _local.clear()
    _local[key] = (entry, time.monotonic() + seconds)


def _verdict_key(secured, expected: dict) -> str:
    try:  # orjson: a fifth of the stdlib's time for a 7 KB JWT, paid on every request
        text = orjson.dumps([secured, expected], option=orjson.OPT_SORT_KEYS)
    except TypeError:  # what orjson refuses: integers beyond 64 bits, lone surrogates, ...
        text = json.dumps([secured, expected], sort_keys=True, separators=(",", ":"),
                          default=str).encode("utf-8", "surrogatepass")
    return "api-verdict:" + hashlib.sha256(text).hexdigest()


def _has_status(verdict: dict) -> bool:
    return (any(check["check"] == "status" for check in verdict.get("checks") or [])
            or any(_has_status(inner) for inner in verdict.get("credentials") or []))


def _named_passports(verdict: dict) -> dict[str, str]:
    """passport id → state, for every passport of ours the verdict (or an inner one) names."""
    named = {}
    if isinstance(verdict.get("passport"), dict):
        named[verdict["passport"]["id"]] = verdict["passport"]["state"]
    for inner in verdict.get("credentials") or []:
        named.update(_named_passports(inner))
    return named


def _passport_states(named: dict[str, str]) -> dict[str, str]:
    """The current state of each named passport. Plain SQL: this runs for every cached answer,
    and building the ORM query costs more than its round trip to the database."""
    if not named:
        return {}
    pk = Passport._meta.pk
    ids = [pk.get_db_prep_value(uuid.UUID(value), connection) for value in named]
    places = ", ".join(["%s"] * len(ids))
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT id, state FROM {Passport._meta.db_table} "  # noqa: S608
                       f"WHERE id IN ({places})", ids)
        return {str(pk.to_python(value)): state for value, state in cursor.fetchall()}


def verify_passport(passport: Passport) -> dict:
    """The verdict for one of our passports, from its stored credential."""
    if not passport.jwt:
        return verification.verify_passport_uncached(passport)  # not signed: says so
    return verify(passport.jwt)
