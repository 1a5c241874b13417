"""Public views: the GS1 Digital Link resolver, the consumer page and QR codes.

`/01/<gtin>[/22/<cpv>][/10/<lot>][/21/<serial>]` answers people with the passport page and
machines with the credential or the linkset, chosen by `Accept` (docs/architecture.md, URLs):

- `text/html` (browsers), no `Accept` or `*/*`: the page, in the language of `?lang=`, else
  of `Accept-Language`;
- `application/vc+jwt`: the compact JWT;
- `application/vc`, `application/ld+json` or `application/json`: the credential with its
  embedded proof when it has one, else its `EnvelopedVerifiableCredential`;
- `application/linkset+json`, or `?linkType=linkset` / `all`: the linkset (`passports.linkset`);
- `?linkType=<type>`: 307 to that link (to the default link, the page, when there is none).

The current version is the newest signed one; `?version=<n>` asks for an older one. The CPV
qualifier (AI 22) is validated but selects nothing: products carry no variant, so a link with
one resolves to the product's record (the less granular key, as GS1 and UNTP resolvers do).

Each passport version's credential also lives at its own `id`, `/passports/<id>`
(`passport_credential`): the linkset's `untp:dpp` target, public like the resolver.

QR codes live under `/qr/` + the same path (a suffix such as `/qr.svg` would not be a Digital
Link): `/qr/01/<gtin>/21/<serial>?format=svg|png&size=<mm>` encodes the product's Digital Link
URI, `size` being the printed width of the symbol with its quiet zone, 10-100 mm (25 by
default); the PNG is tagged 300 dpi.

The page verifies the passport with the partners' verifier (`verify_passport_uncached`). Each
request reads what the page depends on in one precompiled query (`rows`: the product and each
passport's id, version, state and last change); the rendered page is cached under those rows
and the language for as long as its verdict is fresh (`VERDICT_SECONDS`), and the verdict itself
under the passport's id, state and `updated_at`. So a revocation or suspension shows on the next
request, a page is never older than `VERDICT_SECONDS`, and it says when it was checked.
Browsers revalidate the page on every visit (`no-cache` with an ETag: an unchanged page costs a
304); the machine answers may be cached for `VERDICT_SECONDS`."""

from __future__ import annotations

import functools
import hashlib
import json
import re
import time
import uuid
from dataclasses import dataclass
from datetime import date
from typing import NamedTuple

from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.template.loader import render_to_string
from django.utils import formats, timezone, translation
from django.utils.cache import get_conditional_response
from django.utils.http import urlencode
from django.utils.translation import gettext, gettext_noop, ngettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_safe

from core import hot_queries, qr, ratelimit
from core.api.problems import problem_response
from core.outages import best_effort
from credentials.signing import envelope
from passports import categories, gs1, linkset
from passports.evidence_words import evidence_lines
from passports.models import Passport, Product
from passports.services.verification import verify_passport_uncached

VERDICT_SECONDS = 10
SIGNED_STATES = linkset.SIGNED
CONTENT_SECURITY_POLICY = ("default-src 'none'; style-src 'self'; img-src 'self'; "
                           "form-action 'self'; base-uri 'none'; frame-ancestors 'none'")
HTML, JWT, JSON, LINKSET = "text/html", "application/vc+jwt", "application/vc", linkset.MEDIA_TYPE
# What the resolver offers, in its order of preference when a client likes several equally.
OFFERS = (HTML, JWT, JSON, "application/ld+json", "application/json", LINKSET)
CREDENTIAL_JSON = {JSON, "application/ld+json", "application/json"}
QR_FORMATS = {"svg": "image/svg+xml", "png": "image/png"}
QR_SIZE_MM = (10, 100)
QR_DEFAULT_MM = 25
MM_PER_INCH = 25.4

# GS1 Digital Link 1.2 §4: after /01/<gtin>, the qualifiers in their fixed order. A value may
# hold a "/" (GS1 character set 82), so the lazy groups let the keys that follow delimit it.
_QUALIFIERS = re.compile(r"^(?:/22/(?P<cpv>.+?))?(?:/10/(?P<lot>.+?))?(?:/21/(?P<serial>.+))?$")
_SVG_SIZE = re.compile(rb'<svg([^>]*?) width="(\d+)" height="(\d+)"')


# GS1 Digital Link paths -----------------------------------------------------------------------

@dataclass(frozen=True)
class DigitalLink:
    gtin: str
    cpv: str = ""
    lot: str = ""
    serial: str = ""


def parse_digital_link(gtin: str, qualifiers: str | None) -> DigitalLink:
    """The keys of a Digital Link path; ValidationError (with a code) when it is not one."""
    match = _QUALIFIERS.match((qualifiers or "").removesuffix("/"))
    if match is None:
        raise ValidationError("Qualifiers follow the GTIN as /22/<cpv>, /10/<lot>, /21/<serial>, "
                              "in that order.", code="qualifiers")
    values = {name: value or "" for name, value in match.groupdict().items()}
    for value in values.values():
        gs1.validate_gs1_text(value)
    return DigitalLink(gtin=gs1.normalise_gtin(gtin), **values)


def signed(passport: Passport) -> bool:
    """Whether the passport carries a signed credential (the database guarantees it for these
    states), without loading the credential itself."""
    return passport.state in SIGNED_STATES


def product_for(link: DigitalLink) -> Product | None:
    return (Product.objects.select_related("organisation").defer("attributes")
            .filter(gtin=link.gtin, lot=link.lot, serial=link.serial).first())


def resolved(link: DigitalLink) -> tuple[Product | None, list[Passport]]:
    """The product a Digital Link names and its passports, newest first, in one query. The
    signed credentials stay in the database until one is needed (verifying, serving it)."""
    versions = list(Passport.objects.select_related("product__organisation")
                    .defer("jwt", "embedded", "product__attributes")
                    .filter(product__gtin=link.gtin, product__lot=link.lot,
                            product__serial=link.serial).order_by("-version"))
    return (versions[0].product, versions) if versions else (product_for(link), [])


class Row(NamedTuple):
    product: int
    product_updated: object
    passport: object  # None for a product without passports
    version: int | None
    state: str | None
    passport_updated: object


@functools.cache
def _rows_sql() -> tuple[str, tuple[int, ...]]:
    """The SQL of `rows`, compiled once by the ORM (compiling it costs more than running it),
    and where gtin, lot and serial go among its parameters."""
    sentinels = ("\x00gtin", "\x00lot", "\x00serial")
    query = (Product.objects.filter(gtin=sentinels[0], lot=sentinels[1], serial=sentinels[2])
             .values_list("pk", "updated_at", "passports__id", "passports__version",
                          "passports__state", "passports__updated_at")
             .order_by("-passports__version")).query
    sql, params = query.sql_with_params()
    return sql, tuple(sentinels.index(value) for value in params)


def rows(link: DigitalLink) -> list[Row]:
    """What the page's freshness depends on, cheaply: the product and each passport's id,
    version, state and last change, newest first ([] for an unknown product)."""
    sql, order = _rows_sql()
    keys = (link.gtin, link.lot, link.serial)
    return [Row(*row) for row in hot_queries.rows(sql, [keys[index] for index in order])]


# Content negotiation ---------------------------------------------------------------------------

def negotiate(accept: str | None, offers=OFFERS) -> str | None:
    """The offered media type the client prefers (RFC 9110 §12.5.1): the highest q of the most
    specific range that matches it; ties go to the earlier offer. No Accept: the first offer."""
    ranges = []
    for item in (accept or "").split(","):
        media, *parameters = (part.strip() for part in item.split(";"))
        if not media:
            continue
        quality = 1.0
        for parameter in parameters:
            name, _sep, value = parameter.partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = min(max(float(value), 0.0), 1.0)
                except ValueError:
                    quality = 0.0
        ranges.append((media.lower(), quality))
    if not ranges:
        return offers[0]
    best, best_quality = None, 0.0
    for offer in offers:
        quality = _quality(offer, ranges)
        if quality > best_quality:
            best, best_quality = offer, quality
    return best


def _quality(offer: str, ranges: list[tuple[str, float]]) -> float:
    kind = offer.split("/", 1)[0]
    quality, specificity = 0.0, -1
    for media, value in ranges:
        rank = 2 if media == offer else 1 if media == f"{kind}/*" else 0 if media == "*/*" else -1
        if rank > specificity:
            quality, specificity = value, rank
    return quality


# Responses -------------------------------------------------------------------------------------

ERROR_TITLES = {400: _("Invalid product code"), 404: _("Product not found")}
ERROR_TEXTS = {
    "gtin_format": _("A GTIN has 8, 12, 13 or 14 digits."),
    "gtin_check_digit": _("The check digit of this GTIN is wrong: the code was probably "
                          "mistyped or misread."),
    "unknown_product": _("No product is registered under this code."),
    "unknown_version": _("This product has no passport with that version."),
    "unknown_passport": _("No passport has this id."),
}


def _problem(status: int, code: str, title: str, detail: str) -> HttpResponse:
    return problem_response(status, code, str(detail), title=str(title))


def _public_html(body: str | bytes, *, status: int = 200, language: str) -> HttpResponse:
    response = HttpResponse(body, status=status, content_type="text/html; charset=utf-8")
    response["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    response["Content-Language"] = language
    return response


def _language(request) -> tuple[str, str]:
    """(the page's language, the `lang` to keep in links: the one asked for in the URL)."""
    codes = [code for code, _name in settings.LANGUAGES]
    asked = request.GET.get("lang", "")
    if asked in codes:
        return asked, asked
    current = getattr(request, "LANGUAGE_CODE", settings.LANGUAGE_CODE)
    return (current if current in codes else settings.LANGUAGE_CODE), ""


def _switcher(language: str, **query) -> list[dict]:
    """The language links: the same page with `?lang=` (no script, no cookie)."""
    return [{"code": code, "name": name, "current": code == language,
             "url": "?" + urlencode({**{k: v for k, v in query.items() if v}, "lang": code})}
            for code, name in settings.LANGUAGES]


def _error(request, wanted: str | None, status: int, code: str, detail: str) -> HttpResponse:
    """A 400 or 404: a page in the reader's language for people, problem+json for machines."""
    if wanted == HTML:
        language, _kept = _language(request)
        with translation.override(language):
            body = render_to_string("passports/public/error.html", {
                "title": ERROR_TITLES[status],
                "detail": ERROR_TEXTS.get(code, _("This address is not a valid GS1 Digital "
                                                  "Link.")),
                "languages": _switcher(language),
            })
        response = _public_html(body, status=status, language=language)
    else:
        title = "Not a valid GS1 Digital Link" if status == 400 else "Not found"
        response = _problem(status, code, title, detail)
    response["Vary"] = "Accept"
    return response


def _redirect(url: str) -> HttpResponse:
    response = HttpResponse(status=307)
    response["Location"] = url
    return response


# The resolver ----------------------------------------------------------------------------------

@require_safe
@ratelimit.limit("public")
def resolve(request, gtin: str, qualifiers: str | None = None):
    wanted = negotiate(request.headers.get("Accept"))
    try:
        link = parse_digital_link(gtin, qualifiers)
    except ValidationError as error:
        return _error(request, wanted, 400, error.code or "invalid", " ".join(error.messages))
    found = rows(link)
    if not found:
        return _error(request, wanted, 404, "unknown_product",
                      "No product is registered under this code.")
    version = request.GET.get("version")
    if version and not any(str(row.version) == version for row in found):
        return _error(request, wanted, 404, "unknown_version",
                      "This product has no passport with that version.")
    link_type = request.GET.get("linkType")
    if wanted == HTML and not link_type:
        response = _page(request, link, found)
    else:
        response = _for_machines(link, wanted, link_type, version)
    response["Vary"] = "Accept"
    response.setdefault("Cache-Control", f"public, max-age={VERDICT_SECONDS}")
    return response


def _current(versions: list[Passport]) -> Passport | None:
    """The newest signed version (a newer one may still be pending)."""
    return next((p for p in versions if signed(p)), None)


def _chosen(versions: list[Passport], version: str | None) -> Passport | None:
    """The version asked for, else the current one, else the newest (pending or failed), else
    None."""
    if version:
        return next((p for p in versions if str(p.version) == version), None)
    return _current(versions) or (versions[0] if versions else None)


def _link_header(product: Product, versions: list[Passport], passport: Passport | None) -> str:
    current = _current(versions)
    older = passport is not None and current is not None and passport.pk != current.pk
    return linkset.link_header(product, passport,
                               latest_page=product.digital_link if older else None)


def _for_machines(link: DigitalLink, wanted: str | None, link_type: str | None,
                  version: str | None) -> HttpResponse:
    """The credential, the linkset or a redirect to one of its links."""
    product, versions = resolved(link)
    passport = _chosen(versions, version)
    if link_type or wanted == LINKSET:
        current = _current(versions)
        document = linkset.build(product, linkset.Versions(current, tuple(
            p for p in versions if signed(p) and current and p.version < current.version)))
        if link_type and link_type not in linkset.WHOLE_LINKSET:
            response = _redirect(linkset.target(document, link_type)
                                 or linkset.default_target(document))
        else:
            response = HttpResponse(json.dumps(document, indent=2), content_type=LINKSET)
    elif wanted in (JWT, *CREDENTIAL_JSON):
        response = _credential(passport, wanted)
    else:
        response = _problem(406, "not_acceptable", "Not acceptable",
                            f"Available: {', '.join(OFFERS)}.")
    response["Link"] = _link_header(product, versions, passport)
    return response


def _credential(passport: Passport | None, wanted: str) -> HttpResponse:
    if passport is None or not signed(passport):
        return _problem(404, "not_issued", "No credential",
                        "This product has no signed passport yet.")
    if wanted == JWT:
        return HttpResponse(passport.jwt, content_type=JWT)
    document = passport.embedded or envelope(passport.jwt)
    return HttpResponse(json.dumps(document), content_type=wanted)


# The passport's own address -------------------------------------------------------------------

# Machines first: a client that takes anything (`*/*`, no Accept) gets the credential.
CREDENTIAL_OFFERS = (JWT, JSON, "application/ld+json", "application/json", HTML)
# `?format=` names a representation where a client cannot set Accept (a link on the page).
CREDENTIAL_FORMATS = {"jwt": JWT, "json": JSON}
# A signed credential never changes (a revocation changes its status list, not its bytes).
CREDENTIAL_MAX_AGE = 3600


def public_passport(passport_id: str) -> Passport | None:
    """The passport with this id (its credential is public, like the resolver's), or None."""
    try:
        key = uuid.UUID(passport_id)
    except ValueError:
        return None
    return (Passport.objects.select_related("product__organisation")
            .defer("product__attributes").filter(pk=key).first())


@require_safe
@ratelimit.limit("public")
def passport_credential(request, passport_id: str):
    """`/passports/<id>`: the passport version's credential at its own `id` (the linkset's
    `untp:dpp` target), for anyone: the compact JWT for `application/vc+jwt`, JSON for
    `application/vc`, `application/ld+json` or `application/json` (as the resolver gives
    them), and for `text/html` a 303 to the page of that version. Cacheable: ETag and
    Cache-Control, like /status/. `?format=jwt|json` overrides Accept."""
    wanted = (CREDENTIAL_FORMATS.get(request.GET.get("format", ""))
              or negotiate(request.headers.get("Accept"), CREDENTIAL_OFFERS))
    passport = public_passport(passport_id)
    if passport is None:
        response = _error(request, wanted, 404, "unknown_passport", "No passport has this id.")
    elif wanted == HTML:
        response = HttpResponse(status=303)
        response["Location"] = linkset.page_url(passport.product, version=passport.version)
    elif wanted is None:
        response = _problem(406, "not_acceptable", "Not acceptable",
                            f"Available: {', '.join(CREDENTIAL_OFFERS)}.")
    else:
        response = _credential(passport, wanted)
        if response.status_code == 200:
            etag = '"' + hashlib.blake2b(response.content, digest_size=16).hexdigest() + '"'
            response["ETag"] = etag
            response["Cache-Control"] = f"public, max-age={CREDENTIAL_MAX_AGE}"
            response["Access-Control-Allow-Origin"] = "*"  # public, read by browser verifiers
            response = get_conditional_response(request, etag=etag, response=response)
    response["Vary"] = "Accept"
    response.setdefault("Cache-Control", f"public, max-age={VERDICT_SECONDS}")
    return response


# The page --------------------------------------------------------------------------------------

# Rendered pages, in this process only: their keys come from the database on every request, so
# a page is never served for a state it was not rendered for, and a hit costs no round trip to
# the shared cache. The verdicts they show are shared (Redis, best effort), so all workers
# agree. A plain dict keyed by the rows themselves (with the version asked for and the
# language): read on every page request, it costs no pickling and no hashing of a key's text;
# its values are (body as bytes, Link header, ETag, expiry), the body encoded and the ETag
# hashed once per rendering.
_rendered: dict[tuple, tuple[bytes, str, str, float]] = {}
MAX_RENDERED = 2000


def _page(request, link: DigitalLink, found: list[Row]) -> HttpResponse:
    """The page, from the cache while the rows it was rendered from are unchanged and its
    verdict is fresh; rendered from the full rows and a (cached) verdict otherwise."""
    language, kept = _language(request)
    version = request.GET.get("version", "")
    key = (*found, version, language, kept)
    cached = _rendered.get(key)
    if cached is None or cached[3] <= time.monotonic():
        product, versions = resolved(link)
        passport = _chosen(versions, version)
        checked = _checked_verdict(passport)
        with translation.override(language):
            context = page_context(product, versions, passport, checked["verdict"],
                                   checked["at"], lang=kept)
            context["languages"] = _switcher(language, version=version)
            body = render_to_string("passports/public/page.html", context).encode()
        etag = '"' + hashlib.blake2b(body, digest_size=12).hexdigest() + '"'
        # Kept as long as the verdict it shows, so no page is older than VERDICT_SECONDS.
        age = (timezone.now() - checked["at"]).total_seconds()
        if len(_rendered) >= MAX_RENDERED:
            _rendered.clear()
        cached = (body, _link_header(product, versions, passport), etag,
                  time.monotonic() + max(1, round(VERDICT_SECONDS - age)))
        _rendered[key] = cached
    body, link_header, etag, _expiry = cached
    response = _public_html(body, language=language)
    response["Link"] = link_header
    # Browsers revalidate every time (a revocation must show on the next scan), cheaply.
    response["Cache-Control"] = "no-cache"
    response["ETag"] = etag
    return get_conditional_response(request, etag=etag, response=response)


def _checked_verdict(passport: Passport | None) -> dict:
    """The verdict of `passport` and when it was made, cached briefly (module docstring)."""
    if passport is None:
        return {"verdict": None, "at": timezone.now()}
    key = f"dpp-verdict:{passport.pk}:{passport.state}:{passport.updated_at.timestamp()}"
    checked = best_effort.get(key)
    if checked is None:
        checked = {"verdict": verify_passport_uncached(passport), "at": timezone.now()}
        best_effort.set(key, checked, VERDICT_SECONDS)
    return checked


# What a verdict means to a person. Each check: (what passing means, what failing means).
CHECKS = {
    "proof": (_("The manufacturer's digital signature is valid."),
              _("The digital signature does not match the data: the passport may have been "
                "changed.")),
    "issuer": (_("The signing key belongs to the manufacturer."),
               _("The signing key does not belong to the manufacturer named in the passport.")),
    "validity_period": (_("The passport is within its validity period."),
                        _("The passport has expired or is not valid yet.")),
    "status": (_("The manufacturer has not revoked it."),
               _("Whether it was revoked could not be checked just now. Please try again "
                 "later.")),
    "schema": (_("Its data follows the UN Digital Product Passport format."),
               _("Its data does not follow the Digital Product Passport format.")),
    "format": (_("The passport could be read."), _("The passport could not be read.")),
    "issued": (_("The passport has been issued."),
               _("The passport has not been issued yet. Please try again in a minute.")),
}
# A proof that failed, by the verdict's code: only a signature that does not match says the
# data may have changed; a key or DID that could not be found means nothing was checked.
PROOF_FAILURES = {
    "signature_invalid": CHECKS["proof"][1],
    "key_not_found": _("The signature could not be checked: the manufacturer's signing key was "
                       "not found."),
    "did_not_resolved": _("The signature could not be checked: the manufacturer's digital "
                          "identifier could not be looked up."),
    "key_compromised": _("The signature was made with a key the manufacturer has declared "
                         "compromised, and it cannot be shown to predate that: the passport "
                         "may not be genuine."),
}
PROOF_FAILURES["key_resolution"] = PROOF_FAILURES["did_not_resolved"]
PROOF_NOT_CHECKED = _("The digital signature could not be checked.")
ISSUER_AT_EARLIER_ADDRESS = _("The signing key belongs to the manufacturer. This service "
                              "recorded it under its earlier web address.")
NEITHER_REVOKED_NOR_SUSPENDED = _("The manufacturer has neither revoked nor suspended it.")
STATE_LABELS = {
    "pending": _("Being issued"), "issued": _("Valid"), "failed": _("Not issued"),
    "suspended": _("Suspended"), "revoked": _("Revoked"), "superseded": _("Superseded"),
}
# The shown version's word in the version list: the verdict's, so the two never disagree.
BADGE_LABELS = {
    "verified": STATE_LABELS["issued"], "revoked": STATE_LABELS["revoked"],
    "suspended": STATE_LABELS["suspended"], "superseded": STATE_LABELS["superseded"],
    "unknown": _("Cannot verify"),
}
CATEGORY_LABELS = {
    "battery": _("Battery"), "textile": _("Textile"),
    "electronics": _("Electronics (smartphones and tablets)"), "generic": _("Product"),
}
# Labels of the key facts in the category files, for `makemessages`: the page translates each
# label at render time, so a new category version with a new label falls back to English.
KEY_FACT_LABELS = (
    gettext_noop("Battery mass"), gettext_noop("Battery carbon footprint per Functional Unit"),
    gettext_noop("Battery chemistry"), gettext_noop("Post-consumer recycled nickel share"),
    gettext_noop("Post-consumer recycled cobalt share"),
    gettext_noop("Post-consumer recycled lithium share"),
    gettext_noop("Post-consumer recycled lead share"), gettext_noop("Rated capacity"),
    gettext_noop("Certified usable battery energy"), gettext_noop("Nominal voltage"),
    gettext_noop("Fibre composition"), gettext_noop("Recycled content"),
    gettext_noop("Care instructions"), gettext_noop("Durability (wash cycles)"),
    gettext_noop("Country of confection"), gettext_noop("Repairability score"),
    gettext_noop("Spare parts availability"), gettext_noop("Energy efficiency class"),
    gettext_noop("Main material"), gettext_noop("Mass"),
)
UNIT_SYMBOLS = {"AMH": "Ah", "CEL": "°C", "KGM": "kg", "KWH": "kWh", "MIN": "min", "OHM": "Ω",
                "P1": "%", "VLT": "V", "WTT": "W", "C62": "", "kgCO2e/kWh": "kg CO₂e/kWh"}


def _failure_text(check: dict) -> str:
    if check.get("check") == "issued" and check.get("detail") == Passport.State.FAILED:
        return gettext("The passport could not be issued.")
    if check.get("check") == "proof":
        return str(PROOF_FAILURES.get(check.get("code"), PROOF_NOT_CHECKED))
    return str(CHECKS.get(check.get("check"), CHECKS["format"])[1])


def _success_text(check: dict) -> str:
    if check.get("check") == "issuer" and check.get("code") == "earlier_address":
        return str(ISSUER_AT_EARLIER_ADDRESS)
    return str(CHECKS[check["check"]][0])


def badge(verdict: dict | None, passport: Passport | None) -> dict:
    """The one word a person sees first (verified, revoked, suspended, superseded or unknown)
    and the reason, where there is one."""
    if verdict is None:
        return {"kind": "unknown",
                "reason": gettext("No passport has been issued for this product yet.")}
    checks = verdict.get("checks", [])
    for detail in ("revoked", "suspended"):
        for check in checks:
            if check.get("check") == "status" and check.get("detail") == detail:
                reason = check.get("reason") or (passport.state_reason if passport else "")
                return {"kind": detail, "reason": reason}
    if not verdict.get("verified"):
        failed = next((c for c in checks if not c.get("ok")), {"check": "format"})
        return {"kind": "unknown", "reason": _failure_text(failed)}
    if verdict.get("superseded_by"):
        return {"kind": "superseded", "reason": "",
                "current_version": verdict["superseded_by"]["version"]}
    return {"kind": "verified", "reason": ""}


def check_lines(verdict: dict | None) -> list[dict]:
    """What was checked, in words: one line per check of the verdict."""
    checks = (verdict or {}).get("checks", [])
    # Suspension lives in the service (docs/architecture.md, Status): for its own passports the
    # verdict carries the passport's state, and a suspension check only when it is suspended.
    not_suspended = bool((verdict or {}).get("passport")) and not any(
        c.get("check") == "status" and c.get("purpose") == "suspension" for c in checks)
    lines = []
    for check in checks:
        name, ok = check.get("check"), bool(check.get("ok"))
        if name == "status" and check.get("detail") in ("revoked", "suspended"):
            continue  # the badge says it, with the reason
        if name not in CHECKS:
            continue
        text = _success_text(check) if ok else _failure_text(check)
        if name == "status" and ok and not_suspended:
            text = NEITHER_REVOKED_NOR_SUSPENDED
        lines.append({"ok": ok, "text": text})
    return lines


def _unit(attribute: categories.Attribute, value) -> str:
    code = attribute.display_unit or ""
    if code == "ANN":
        return ngettext("year", "years", value if isinstance(value, int) else 2)
    return UNIT_SYMBOLS.get(code, code)


def _display_value(attribute: categories.Attribute, value) -> str:
    if isinstance(value, dict):  # a UNTP Measure
        value = value.get("value")
    if isinstance(value, bool):
        return gettext("Yes") if value else gettext("No")
    if isinstance(value, int | float):
        unit = _unit(attribute, value)
        number = formats.number_format(value, use_l10n=True)
        return f"{number}\N{NO-BREAK SPACE}{unit}" if unit else number
    if attribute.type == "date" and isinstance(value, str):
        try:
            return formats.date_format(date.fromisoformat(value), "DATE_FORMAT")
        except ValueError:
            return value
    return str(value)


def key_facts(product: Product, subject: dict) -> list[dict]:
    """The category's key facts as the credential's subject states them, translated, with
    units."""
    values = subject.get("characteristics") or {}
    try:
        category = categories.get(product.category, product.category_version)
    except categories.UnknownCategory:
        return []
    return [{"label": gettext(item.label), "value": _display_value(item, values[item.key])}
            for item in category.key_facts if item.key in values]


def _local(url: str) -> str:
    """A link of this service as a path: the page works under any host name it is served at."""
    return url.removeprefix(settings.PUBLIC_BASE_URL) or "/"


def _passed(verdict: dict | None, name: str) -> bool:
    return any(c.get("check") == name and c.get("ok") for c in (verdict or {}).get("checks", []))


def page_context(product: Product, versions: list[Passport], passport: Passport | None,
                 verdict: dict | None, checked_at, *, lang: str = "") -> dict:
    """Everything the page shows. Product data comes from the credential, and only when its
    signature holds: the page never shows data it could not check."""
    credential = (verdict or {}).get("credential") or {}
    proof_ok = _passed(verdict, "proof")
    subject = (credential.get("credentialSubject") or {}) if proof_ok else {}
    issuer = (verdict or {}).get("issuer") or {}
    shown_badge = badge(verdict, passport)
    return {
        "product": product,
        "name": subject.get("name") or product.name,
        "category": CATEGORY_LABELS.get(product.category, product.category),
        "badge": shown_badge,
        "checks": check_lines(verdict),
        "evidence": evidence_lines(verdict),
        "checked_at": checked_at,
        "facts": key_facts(product, subject),
        "data_hidden": passport is not None and signed(passport) and not proof_ok,
        "passport": passport,
        "issuer": {
            "name": issuer.get("name") or product.organisation.legal_name,
            "id": issuer.get("id") or product.organisation.did,
            "verified": _passed(verdict, "issuer"),
            "legal_person": issuer.get("legal_person"),
        },
        "versions": [_version_item(product, p, passport, shown_badge, lang)
                     for p in versions if signed(p)],
        "current_url": _local(linkset.page_url(product, lang=lang)),
        # A browser following the link asks for HTML: `format` gets it the credential.
        "credential_url": (_local(passport.credential_url) + "?format=jwt"
                           if passport and signed(passport) else None),
        "linkset_url": _local(linkset.linkset_url(product)),
        "did_url": _local(linkset.did_document_url(product)),
        "qr_svg_url": _local(qr_url(product, "svg")),
        "qr_png_url": _local(qr_url(product, "png")),
    }


def _version_item(product: Product, version: Passport, shown: Passport | None, shown_badge: dict,
                  lang: str) -> dict:
    """A line of the version list. The shown version says what its verdict says; the others
    what the service recorded for them."""
    is_shown = shown is not None and version.pk == shown.pk
    label = (BADGE_LABELS[shown_badge["kind"]] if is_shown
             else STATE_LABELS.get(version.state, version.state))
    return {"version": version.version, "state": label, "issued_at": version.issued_at,
            "shown": is_shown,
            "url": _local(linkset.page_url(product, version=version.version, lang=lang))}


# QR codes --------------------------------------------------------------------------------------

def qr_url(product: Product, kind: str) -> str:
    path = product.digital_link.removeprefix(settings.PUBLIC_BASE_URL)
    return f"{settings.PUBLIC_BASE_URL}/qr{path}?format={kind}"


def svg_in_mm(svg: bytes, width_mm: float) -> bytes:
    """A segno SVG drawn at scale 1 (one user unit per module), set to print `width_mm` wide."""
    def sized(match):
        return (b'<svg%s width="%gmm" height="%gmm" viewBox="0 0 %s %s"'
                % (match[1], width_mm, width_mm, match[2], match[3]))

    return _SVG_SIZE.sub(sized, svg, count=1)


def modules(svg: bytes) -> int:
    """Modules across a segno SVG drawn at scale 1, quiet zone included."""
    return int(_SVG_SIZE.search(svg)[2])


def qr_print(uri: str, kind: str, size_mm: int) -> bytes:
    """The QR code of `uri`, `size_mm` wide in print: a sized SVG, or a 300 dpi PNG with whole
    pixels per module (the nearest size below, never less than one pixel per module)."""
    svg = qr.qr_svg(uri, scale=1)
    if kind == "svg":
        return svg_in_mm(svg, size_mm)
    pixels = size_mm / MM_PER_INCH * qr.PRINT_DPI
    scale = min(max(int(pixels // modules(svg)), qr.MIN_SCALE), qr.MAX_SCALE)
    return qr.qr_png(uri, scale=scale, dpi=qr.PRINT_DPI)


@require_safe
@ratelimit.limit("public")
def qr_code(request, gtin: str, qualifiers: str | None = None):
    try:
        product = product_for(parse_digital_link(gtin, qualifiers))
    except ValidationError as error:
        return _problem(400, error.code or "invalid", "Not a valid GS1 Digital Link",
                        " ".join(error.messages))
    if product is None:
        return _problem(404, "unknown_product", "Unknown product",
                        "No product is registered under this code.")
    kind = request.GET.get("format", "svg")
    size = request.GET.get("size", str(QR_DEFAULT_MM))
    low, high = QR_SIZE_MM
    if kind not in QR_FORMATS or not size.isdigit() or not low <= int(size) <= high:
        return _problem(400, "qr_options", "Invalid QR options",
                        f"format is svg or png; size is the printed width in mm, {low}-{high}.")
    response = HttpResponse(qr_print(product.digital_link, kind, int(size)),
                            content_type=QR_FORMATS[kind])
    name = "-".join(part for part in ("qr", product.gtin, product.lot, product.serial) if part)
    response["Content-Disposition"] = f'inline; filename="{name}.{kind}"'
    response["Cache-Control"] = "public, max-age=86400"
    return response
