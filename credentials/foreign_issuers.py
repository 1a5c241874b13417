"""Keys of SD-JWT VC issuers that are not DIDs: how EU PID and (Q)EAA providers sign.

SD-JWT VC (draft-ietf-oauth-sd-jwt-vc §3.5 "Issuer Signature Mechanisms") defines two:

- X.509: the issuer-signed JWT carries its certificate chain in the `x5c` header (HAIP 1.0
  §6.1.1 makes this the mandatory mechanism). The chain must lead to one of the Verifier's trust
  anchors, and the leaf must name `iss`: a uniformResourceIdentifier SAN equal to it, or a
  dNSName SAN equal to its host. Such an issuer is trusted (the anchor vouches for it) and the
  legal person behind it is the leaf's subject (O, organizationIdentifier, C).
- JWT VC Issuer Metadata (§5): `https://<host>/.well-known/jwt-vc-issuer<path of iss>` names
  the issuer (it must equal `iss`) and its keys (`jwks` or `jwks_uri`, one of them), `kid`
  picks one. It proves only that the key belongs to whoever runs that host, so such an issuer
  verifies but is trusted only when the Verifier lists it.

Fetching goes through credentials.guarded_http (https only, public addresses only, pinned, one
deadline, size cap) and is cached briefly."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import urlsplit

from core.outages import best_effort
from credentials import x509
from credentials.errors import CredentialError, KeyResolutionError
from credentials.guarded_http import FetchError, fetch_json
from credentials.keys import PublicKey

METADATA_PATH = "/.well-known/jwt-vc-issuer"
CACHE_SECONDS = 300
X5C = "x5c"
METADATA = "jwt-vc-issuer-metadata"


@dataclass(frozen=True)
class IssuerKey:
    """The key an issuer signed with, how it was found, and what that says about trust."""

    public_key: PublicKey
    issuer: str
    method: str  # X5C or METADATA
    trusted: bool
    name: str | None = None
    legal_person: dict | None = None
    reason: str = ""  # why it is not trusted
    certificate: str | None = None  # x509_hash of the leaf, for x5c

    def details(self) -> dict:
        """What a verification result reports (never key material beyond the public key id)."""
        return {"method": self.method, "issuer": self.issuer, "trusted": self.trusted,
                "name": self.name, "legal_person": self.legal_person, "reason": self.reason,
                "certificate": self.certificate, "kid": self.public_key.id or None}


@dataclass(frozen=True)
class ForeignIssuers:
    """How a Verifier finds and trusts the keys of issuers that are not DIDs: the X.509 trust
    anchors, the https issuers it trusts on their JWT VC Issuer Metadata alone, and whether it
    may fetch that metadata at all."""

    anchors: x509.TrustAnchors = x509.NO_ANCHORS
    listed: frozenset[str] = field(default_factory=frozenset)
    allow_remote: bool = True

    def key(self, header: dict, issuer: str, *, now: datetime) -> IssuerKey:
        """The key behind a JWT from `issuer` (its `iss`) with this JOSE header: `x5c` when
        present, else JWT VC Issuer Metadata for an https `iss`. Raises CredentialError whose
        detail starts with "issuer:" and names the reason."""
        if X5C in header:
            return self._certified(header[X5C], issuer, now)
        if urlsplit(issuer).scheme == "https":
            return self._published(issuer, header.get("kid"))
        raise CredentialError(f"issuer: iss {issuer!r} is neither a DID nor an https URL, and "
                              f"the JWT has no x5c header", code="issuer_unresolved")

    def _certified(self, x5c, issuer: str, now: datetime) -> IssuerKey:
        try:
            chain = x509.validate_chain(x5c, self.anchors, now=now)
        except x509.CertificateError as exc:
            raise CredentialError(f"issuer: {exc.detail}", code="issuer_untrusted") from None
        leaf = chain.leaf
        if not x509.names_issuer(leaf, issuer):
            names = [f"URI {u}" for u in leaf.uris] + [f"DNS {d}" for d in leaf.dns_names]
            raise CredentialError(
                f"issuer: certificate SAN does not match iss {issuer!r} (SAN: "
                f"{', '.join(names) or 'none'})", code="issuer_mismatch")
        name = leaf.organisation or leaf.subject_common_name
        legal_person = {"name": name, "registry_id": leaf.organisation_identifier or "",
                        "country": leaf.country or "", "register": "X.509 certificate",
                        "anchor": chain.anchor_subject, "anchor_name": chain.anchor_name,
                        "credential": None, "certificate": leaf.x509_hash}
        return IssuerKey(leaf.public_key, issuer, X5C, True, name, legal_person,
                         certificate=leaf.x509_hash)

    def _published(self, issuer: str, kid) -> IssuerKey:
        if not self.allow_remote:
            raise CredentialError(f"issuer: the JWT VC Issuer Metadata of {issuer} is not "
                                  f"fetched (remote resolution off)", code="issuer_unresolved")
        try:
            key = metadata_key(jwt_vc_issuer_metadata(issuer), kid, issuer)
        except (KeyResolutionError, FetchError) as exc:
            detail = exc.detail.removeprefix("issuer: ")
            raise CredentialError(f"issuer: {detail}", code="issuer_unresolved") from None
        trusted = issuer in self.listed
        reason = "" if trusted else (f"{issuer} is known only by its JWT VC Issuer Metadata "
                                     f"and is not a listed trusted issuer")
        return IssuerKey(key, issuer, METADATA, trusted, reason=reason)


NO_FOREIGN_ISSUERS = ForeignIssuers(allow_remote=False)


# --- JWT VC Issuer Metadata (SD-JWT VC §5) ------------------------------------------------------

def metadata_url(issuer: str) -> str:
    """§5: the well-known string goes between the host and the path of `iss` (a trailing `/`
    of the path removed); `iss` is https with no query or fragment."""
    parts = urlsplit(issuer)
    if (parts.scheme != "https" or not parts.hostname or parts.query or parts.fragment
            or "@" in parts.netloc):
        raise KeyResolutionError(f"iss {issuer!r} is not an https URL without query or "
                                 f"fragment")
    return f"https://{parts.netloc}{METADATA_PATH}{parts.path.rstrip('/')}"


def jwt_vc_issuer_metadata(issuer: str) -> dict:
    """The issuer's metadata with its JWK Set inline (`jwks`, fetched from `jwks_uri` when
    that is what it gives), checked (§5.3: `issuer` identical to `iss`) and cached."""
    cache_key = f"jwt-vc-issuer:{issuer}"
    metadata = best_effort.get(cache_key)
    if metadata is not None:
        return metadata
    url = metadata_url(issuer)
    metadata = fetch_json(url, accept="application/json")
    if not isinstance(metadata, dict):
        raise KeyResolutionError(f"the JWT VC Issuer Metadata at {url} is not a JSON object")
    if metadata.get("issuer") != issuer:
        raise KeyResolutionError(f"the JWT VC Issuer Metadata at {url} names issuer "
                                 f"{metadata.get('issuer')!r}, not iss {issuer!r}")
    has_jwks, has_uri = "jwks" in metadata, "jwks_uri" in metadata
    if has_jwks == has_uri:
        raise KeyResolutionError(f"the JWT VC Issuer Metadata at {url} must have either jwks "
                                 f"or jwks_uri, not {'both' if has_jwks else 'neither'}")
    jwks = metadata["jwks"] if has_jwks else _fetch_jwks(metadata["jwks_uri"])
    if not isinstance(jwks, dict) or not isinstance(jwks.get("keys"), list):
        raise KeyResolutionError(f"the JWK Set of {issuer} is not an object with keys")
    metadata = {"issuer": issuer, "jwks": jwks}
    best_effort.set(cache_key, metadata, CACHE_SECONDS)
    return metadata


def _fetch_jwks(uri) -> dict:
    if not isinstance(uri, str):
        raise KeyResolutionError("jwks_uri is not a URL")
    return fetch_json(uri, accept="application/jwk-set+json, application/json")


def metadata_key(metadata: dict, kid, issuer: str) -> PublicKey:
    """The signing key `kid` names in the issuer's JWK Set; with no `kid`, its only one."""
    keys = [k for k in metadata["jwks"]["keys"]
            if isinstance(k, dict) and k.get("use", "sig") == "sig"]
    if kid is not None:
        keys = [k for k in keys if k.get("kid") == kid]
        if not keys:
            raise KeyResolutionError(f"no key with kid {kid!r} in the JWT VC Issuer Metadata "
                                     f"of {issuer}")
    elif len(keys) != 1:
        raise KeyResolutionError(f"the JWT has no kid and the JWT VC Issuer Metadata of "
                                 f"{issuer} has {len(keys)} signing keys")
    try:
        return PublicKey.from_jwk(keys[0], keys[0].get("kid") or "")
    except ValueError as exc:
        raise KeyResolutionError(f"the key {kid!r} of {issuer} is unusable ({exc})") from None
