"""The resolver's linkset for a product (RFC 9264, in the UNTP 0.7.0 identity-resolver shape).

One link context object, anchored at the product's GS1 Digital Link URI. Its link relation
types are IANA-registered names or absolute URIs, the two forms the bundled UNTP linkset schema
accepts (`credentials/schemas/LinksetSchema.json`; its pattern rejects CURIEs such as
`untp:dpp` and URIs with a `#`, so UNTP's link type travels in each target's `rel`, as that
schema's description of `rel` invites):

| relation | target |
|---|---|
| `https://gs1.org/voc/defaultLink` | the public page (the resolver URI itself, for people) |
| `https://gs1.org/voc/pip` | the public page, once per language (`hreflang`) |
| `describedby` | the current passport credential (`rel: ["untp:dpp", "latest-version"]`) |
| `predecessor-version` | each older version's credential, newest first (`rel: ["untp:dpp"]`) |
| `author` | the issuer's DID document |
| `alternate` | the same credential (and DID document) at each back-up provider (docs/backup.md) |

`?linkType=` names a relation by its key, by a CURIE (`gs1:pip`, `untp:dpp`) or by a short
alias (`pip`, `dpp`, `did`); `linkset` and `all` ask for the whole linkset (RFC 9264 §6)."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.urls import reverse
from django.utils.http import urlencode

from passports.models import Passport, Product

MEDIA_TYPE = "application/linkset+json"
SCHEMA = "untp-linkset-0.7.0"
GS1_VOC = "https://gs1.org/voc/"
DEFAULT = GS1_VOC + "defaultLink"
PIP = GS1_VOC + "pip"
DESCRIBEDBY = "describedby"
PREDECESSOR = "predecessor-version"
AUTHOR = "author"
UNTP_DPP = "untp:dpp"
WHOLE_LINKSET = {"linkset", "all"}
# States whose passports carry a signed credential (the database enforces it).
SIGNED = {Passport.State.ISSUED, Passport.State.SUSPENDED, Passport.State.REVOKED,
          Passport.State.SUPERSEDED}

ALIASES = {
    "gs1:defaultLink": DEFAULT, "defaultLink": DEFAULT, "default": DEFAULT,
    "gs1:pip": PIP, "pip": PIP,
    UNTP_DPP: DESCRIBEDBY, "dpp": DESCRIBEDBY, "credential": DESCRIBEDBY,
    "did": AUTHOR, "issuer": AUTHOR,
}
LANGUAGE_NAMES = {"en": "Product passport", "nl": "Productpaspoort", "de": "Produktpass",
                  "fr": "Passeport produit"}


ALTERNATE = "alternate"
# Where else this service's documents are served, at the same paths: the replication app
# registers `source() -> [(name, base URL), ...]` (its active back-up providers).
_alternate_sources: list = []


def register_alternates(source) -> None:
    if source not in _alternate_sources:
        _alternate_sources.append(source)


def alternates() -> list[tuple[str, str]]:
    return [found for source in _alternate_sources for found in source()]


@dataclass(frozen=True)
class Versions:
    """The passports a linkset links: the current one and older signed versions."""

    current: Passport | None
    older: tuple[Passport, ...]


def relation_for(link_type: str) -> str:
    """The linkset key a `?linkType=` value names (unknown values pass through unchanged)."""
    return ALIASES.get(link_type, link_type)


def page_url(product: Product, **query) -> str:
    query = {name: value for name, value in query.items() if value}
    return product.digital_link + (f"?{urlencode(query)}" if query else "")


def linkset_url(product: Product) -> str:
    return page_url(product, linkType="linkset")


def did_document_url(product: Product) -> str:
    return settings.PUBLIC_BASE_URL + reverse("organisation-did",
                                              args=[product.organisation.slug])


def _credential_link(passport: Passport, rel: list[str], title: str) -> dict:
    return {"href": passport.credential_url, "title": title, "type": "application/vc+jwt",
            "hreflang": ["en"], "rel": rel}


def build(product: Product, versions: Versions) -> dict:
    """The linkset document for `product`."""
    languages = [code for code, _name in settings.LANGUAGES]
    context: dict = {
        "anchor": product.digital_link,
        "description": product.name,
        DEFAULT: [{"href": product.digital_link, "title": "Product passport page",
                   "type": "text/html", "hreflang": languages}],
        PIP: [{"href": page_url(product, lang=code),
               "title": LANGUAGE_NAMES.get(code, "Product passport"), "type": "text/html",
               "hreflang": [code]} for code in languages],
    }
    if versions.current is not None:
        current = versions.current
        context[DESCRIBEDBY] = [_credential_link(
            current, [UNTP_DPP, "latest-version"],
            f"Digital Product Passport, version {current.version}")]
    if versions.older:
        context[PREDECESSOR] = [
            _credential_link(old, [UNTP_DPP],
                             f"Digital Product Passport, version {old.version} (superseded)")
            for old in versions.older]
    context[AUTHOR] = [{"href": did_document_url(product),
                        "title": f"Issuer DID document: {product.organisation.did}",
                        "type": "application/did+json"}]
    backups = alternates()
    if backups:
        # The same bytes under each back-up provider's host: verifiers fall back to them when
        # this service cannot be reached (docs/backup.md).
        did_path = did_document_url(product).removeprefix(settings.PUBLIC_BASE_URL)
        context[ALTERNATE] = []
        for name, base in backups:
            if versions.current is not None:
                path = versions.current.credential_url.removeprefix(settings.PUBLIC_BASE_URL)
                context[ALTERNATE].append({
                    "href": base + path, "type": "application/vc+jwt", "hreflang": ["en"],
                    "rel": [UNTP_DPP, "latest-version"],
                    "title": f"Digital Product Passport, version {versions.current.version}, "
                             f"back-up copy at {name}"})
            context[ALTERNATE].append({"href": base + did_path, "type": "application/did+json",
                                       "title": f"Issuer DID document, back-up copy at {name}"})
    return {"linkset": [context]}


def target(linkset: dict, link_type: str) -> str | None:
    """The href `?linkType=link_type` redirects to: the first target of that relation."""
    targets = linkset["linkset"][0].get(relation_for(link_type))
    if isinstance(targets, list) and targets:
        return targets[0]["href"]
    return None


def default_target(linkset: dict) -> str:
    return linkset["linkset"][0][DEFAULT][0]["href"]


def link_header(product: Product, current: Passport | None, *,
                latest_page: str | None = None) -> str:
    """The HTTP Link header of every resolver answer (RFC 8288): the linkset, the credential
    and, on an older version, the current one."""
    links = [f'<{linkset_url(product)}>; rel="linkset"; type="{MEDIA_TYPE}"']
    if current is not None and current.state in SIGNED:
        links.append(f'<{current.credential_url}>; rel="describedby"; '
                     f'type="application/vc+jwt"')
    if latest_page:
        links.append(f'<{latest_page}>; rel="latest-version"; type="text/html"')
    links.append(f'<{did_document_url(product)}>; rel="author"; type="application/did+json"')
    return ", ".join(links)
