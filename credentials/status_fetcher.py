"""Status lists as the verifier sees them (the verifier's StatusFetcher interface).

Our own lists are read from the database with their pending changes applied (the database is
the source the published lists are signed from, so a revocation counts at once). Foreign lists
are fetched over guarded HTTPS (credentials.guarded_http: https only, public addresses only,
pinned, one deadline, size cap), their own proof verified, their issuer returned for the
verifier to compare with the credential's, and cached for their `ttl`.

Read formats: a BitstringStatusListCredential (VCDM 2.0; `vc+jwt`, an enveloped or embedded
proof), a StatusList2021Credential (VCDM 1.1; `jwt-vc` or an embedded proof), and an IETF
Status List Token (`statuslist+jwt`), whose issuer is a DID or, for EU PID and (Q)EAA providers,
known by the token's `x5c` chain (HAIP 1.0 requires it there) or its JWT VC Issuer Metadata
(credentials.foreign_issuers)."""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from core import hot_queries, json_limits
from core.outages import best_effort
from credentials import guarded_http, jose, mirrors, schemas, x509
from credentials.did_web import DidResolver, own_url_path
from credentials.errors import CredentialError
from credentials.foreign_issuers import NO_FOREIGN_ISSUERS, X5C, ForeignIssuers
from credentials.models import StatusList
from credentials.status_list import (
    MIN_BITSTRING_LENGTH,
    Bitstring,
    StatusListError,
    TokenStatusList,
)
from credentials.status_registry import (
    STATUS_PATH,
    STATUSLIST_JWT_TYP,
    current_codec,
    current_entry,
    entry_query,
)
from credentials.suites import detect
from credentials.suites.base import KeyResolver
from credentials.suites.jose import did_of, key_id, resolve_key

log = logging.getLogger(__name__)

DEFAULT_TTL_SECONDS = 300  # a foreign list that names no ttl
MAX_TTL_SECONDS = 3600
MAX_LIST_BYTES = 4 * 1024 * 1024  # a 2-bit list of 16 million entries, compressed, fits
ACCEPT = {
    "bitstring": "application/vc+jwt, application/vc, application/ld+json;q=0.9, "
                 "application/json;q=0.8",
    "token": "application/statuslist+jwt",
}
LIST_TYPES = {"BitstringStatusListCredential": "BitstringStatusList",
              "StatusList2021Credential": "StatusList2021"}


@dataclass
class ListView:
    issuer: str
    purpose: str | None
    codec: Bitstring | TokenStatusList

    def status(self, index: int) -> int:
        try:
            return int(self.codec.get(index))
        except (IndexError, ValueError) as exc:
            raise CredentialError(f"index {index} is outside the status list: {exc}",
                                  code="status_index") from None


def own_list_id(url: str) -> str | None:
    """The id of one of our own lists, read from the database: at this address or at one the
    service had before (what it issued then names its lists there)."""
    path = own_url_path(url)
    if path is not None and path.startswith(STATUS_PATH):
        return path[len(STATUS_PATH):].strip("/")
    return None


def _own_view(list_id: str, kind: str) -> ListView:
    try:
        found = current_codec(uuid.UUID(list_id), kind)
    except ValueError:  # a malformed uuid in the URL
        found = None
    if found is None:
        raise CredentialError(f"no status list {list_id}", code="status_unknown")
    status_list, codec = found
    purpose = status_list.purpose if kind == StatusList.Kind.BITSTRING else None
    return ListView(status_list.issuer, purpose, codec)


class OwnListView:
    """One of our own lists as the verifier reads it: `prefetch(index)` reads its issuer,
    purpose and that one entry (with its pending change) in one query, instead of the whole
    list and every pending change (16 KB and up per verification, more as a list fills).
    Anything else it is asked, and anything unusual it meets (a list shorter than the minimum,
    an index outside it, a pending value that does not fit), is answered by the whole list,
    read as before (`_own_view`): the same answers and the same errors."""

    def __init__(self, list_id: str, kind: str):
        self.list_id, self.kind = list_id, kind
        self._meta: tuple[str, str | None] | None = None
        self._entry: tuple[int, int] | None = None  # (index, status)
        self._whole: ListView | None = None

    def prefetch(self, index: int) -> None:
        list_id = _uuid_or_none(self.list_id)
        row = current_entry(list_id, self.kind, index) if list_id is not None else None
        status = _entry_status(self.kind, index, row) if row is not None else None
        if status is None:  # no such list, or something unusual: the whole list decides
            self._read_whole()
            return
        issuer, purpose = row[0], row[1] if self.kind == StatusList.Kind.BITSTRING else None
        self._meta, self._entry = (issuer, purpose), (index, status)

    @property
    def issuer(self) -> str:
        return self._meta[0] if self._meta else self._read_whole().issuer

    @property
    def purpose(self) -> str | None:
        return self._meta[1] if self._meta else self._read_whole().purpose

    def status(self, index: int) -> int:
        if self._entry is not None and self._entry[0] == index:
            return self._entry[1]
        return self._read_whole().status(index)

    def _read_whole(self) -> ListView:
        if self._whole is None:
            self._whole = _own_view(self.list_id, self.kind)
        return self._whole


def own_entry_query(kind: str, url, index: int) -> hot_queries.Query | None:
    """The query OwnListView.prefetch will ask for the entry (`kind` "bitstring" or "token",
    as the verifier names them) when `url` is one of our own lists, else None."""
    list_id = _uuid_or_none(own_list_id(url)) if isinstance(url, str) else None
    if list_id is None:
        return None
    kind = StatusList.Kind.TOKEN if kind == "token" else StatusList.Kind.BITSTRING
    return entry_query(list_id, kind, index)


def _uuid_or_none(text: str | None) -> uuid.UUID | None:
    try:
        return uuid.UUID(text) if text is not None else None
    except ValueError:  # a malformed uuid in the URL
        return None


def _entry_status(kind: str, index: int, row: tuple) -> int | None:
    """The entry's status from current_entry's row, decoded as the codecs decode it and with
    its pending change applied as current_codec applies it; None when the codec would refuse
    the list or the index (then the whole list says how)."""
    _, _, bits, length, byte, pending = row
    if isinstance(index, bool) or not isinstance(index, int) or index < 0 or not byte:
        return None
    if kind == StatusList.Kind.BITSTRING:
        if bits != 1 or length * 8 < MIN_BITSTRING_LENGTH or index >= length * 8:
            return None
        if pending is not None:
            return int(bool(pending))  # Bitstring.set(index, value)
        return int(bool(byte[0] & (0x80 >> (index & 7))))
    if bits not in (1, 2, 4, 8) or index >= length * 8 // bits:
        return None
    mask = (1 << bits) - 1
    if pending is not None:
        return pending if 0 <= pending <= mask else None
    return (byte[0] >> (index % (8 // bits)) * bits) & mask


class StatusFetcher:
    """The verifier's status fetcher for this service."""

    def __init__(self, *, allow_remote: bool = True, keys: KeyResolver | None = None,
                 foreign_issuers: ForeignIssuers | None = None):
        self.allow_remote = allow_remote
        self.keys = keys
        self.foreign_issuers = foreign_issuers

    def bitstring(self, url: str) -> ListView | OwnListView:
        list_id = own_list_id(url)
        if list_id is not None:
            return OwnListView(list_id, StatusList.Kind.BITSTRING)
        return self._foreign(url, "bitstring")

    def token(self, uri: str) -> ListView | OwnListView:
        list_id = own_list_id(uri)
        if list_id is not None:
            return OwnListView(list_id, StatusList.Kind.TOKEN)
        return self._foreign(uri, "token")

    def _foreign(self, url: str, kind: str) -> ListView:
        mirrored = mirrors.copy_of(url)
        if mirrored is not None:  # a local copy: checked as the fetched list would be
            try:
                text = mirrored.decode("utf-8")
            except UnicodeDecodeError:
                raise CredentialError(f"{url} is not UTF-8 text",
                                      code="status_malformed") from None
            return read_status_list(text, kind, url=url, keys=self.keys or DidResolver(),
                                    foreign_issuers=self.foreign_issuers)[0]
        if not self.allow_remote:
            raise CredentialError(f"foreign status list {url} not fetched (remote off)",
                                  code="status_remote_off")
        key = f"status-list:{kind}:{url}"
        cached = best_effort.get(key)
        if cached is not None:
            return cached
        view, ttl = fetch_foreign_list(url, kind, keys=self.keys or DidResolver(),
                                       foreign_issuers=self.foreign_issuers)
        if ttl > 0:
            best_effort.set(key, view, ttl)
        return view


# --- foreign lists -----------------------------------------------------------------------------

def fetch_foreign_list(url: str, kind: str, *, keys: KeyResolver | None = None,
                       foreign_issuers: ForeignIssuers | None = None) -> tuple[ListView, int]:
    """Fetch, verify and decode a foreign status list: (view, seconds to cache it)."""
    body = fetch_text_https(url, accept=ACCEPT[kind])
    return read_status_list(body, kind, url=url, keys=keys or DidResolver(),
                            foreign_issuers=foreign_issuers)


def fetch_text_https(url: str, *, accept: str, max_bytes: int = MAX_LIST_BYTES) -> str:
    """A status list's text over guarded HTTPS (credentials.guarded_http): the compact JWT
    that it usually is, or JSON."""
    try:
        body = guarded_http.fetch(url, accept=accept, max_bytes=max_bytes)
    except guarded_http.FetchError as exc:
        raise CredentialError(exc.detail, code="status_unavailable") from None
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        raise CredentialError(f"{url} is not UTF-8 text", code="status_malformed") from None


def read_status_list(body: str, kind: str, *, url: str, keys: KeyResolver,
                     now: datetime | None = None,
                     foreign_issuers: ForeignIssuers | None = None) -> tuple[ListView, int]:
    """Verify a status list document (its own proof, its issuer's key, its dates, its shape)
    and decode it: (view, seconds it may be cached). Raises CredentialError naming the fault."""
    now = now or datetime.now(UTC)
    try:
        if kind == "token":
            return _read_token_list(body.strip(), url, keys, now,
                                    foreign_issuers or NO_FOREIGN_ISSUERS)
        return _read_bitstring_list(body.strip(), keys, now)
    except StatusListError as exc:
        raise CredentialError(f"status list {url}: {exc.detail}", code=exc.code) from None


def _read_bitstring_list(body: str, keys: KeyResolver, now: datetime) -> tuple[ListView, int]:
    secured = _parse_secured(body)
    suite = detect(secured)
    if suite is None:
        raise CredentialError("status list: not a secured credential", code="status_malformed")
    result = suite.verify(secured, keys, now=now)
    if not result.ok:
        raise CredentialError(f"status list proof: {'; '.join(result.errors)}",
                              code="status_proof")
    credential = result.credential or {}
    issuer = _party(credential.get("issuer"))
    if not issuer or did_of(result.verification_method or "") != issuer:
        raise CredentialError("status list: not signed by a key of its issuer",
                              code="status_proof")
    _check_dates(credential.get("validFrom", credential.get("issuanceDate")),
                 credential.get("validUntil", credential.get("expirationDate")), now)
    types = credential.get("type")
    types = [types] if isinstance(types, str) else types if isinstance(types, list) else []
    list_type = next((LIST_TYPES[t] for t in types if t in LIST_TYPES), None)
    subject = credential.get("credentialSubject")
    if list_type is None or not isinstance(subject, dict) or subject.get("type") != list_type:
        raise CredentialError("status list: not a BitstringStatusListCredential or "
                              "StatusList2021Credential", code="status_malformed")
    purpose = subject.get("statusPurpose")
    if isinstance(purpose, list) and len(purpose) == 1:
        purpose = purpose[0]
    if not isinstance(purpose, str):
        raise CredentialError("status list: statusPurpose must name one purpose",
                              code="status_malformed")
    encoded = subject.get("encodedList")
    codec = (Bitstring.decode(encoded) if list_type == "BitstringStatusList"
             else Bitstring.decode_status_list_2021(encoded))
    ttl_ms = subject.get("ttl")
    ttl = (ttl_ms // 1000 if isinstance(ttl_ms, int) and not isinstance(ttl_ms, bool)
           and ttl_ms >= 0 else DEFAULT_TTL_SECONDS)
    until = schemas.parse_datetime(credential.get("validUntil",
                                                  credential.get("expirationDate")) or "")
    return ListView(issuer, purpose, codec), _cache_seconds(ttl, until, now)


def _read_token_list(body: str, url: str, keys: KeyResolver, now: datetime,
                     foreign_issuers: ForeignIssuers) -> tuple[ListView, int]:
    """Status List Token in JWT format (draft-ietf-oauth-status-list §5.1): typ
    statuslist+jwt, signed by a key of its issuer, `sub` the URI it was fetched from."""
    jws = jose.decode(body)
    if jose.media_type(jws.header.get("typ")) != STATUSLIST_JWT_TYP:
        raise CredentialError(f"status list: typ must be {STATUSLIST_JWT_TYP}",
                              code="status_malformed")
    claims = jws.claims()
    issuer = claims.get("iss")
    if X5C in jws.header or (isinstance(issuer, str) and not issuer.startswith("did:")):
        issuer = _foreign_list_issuer(jws, issuer, foreign_issuers, now)
    else:
        kid = key_id(jws.header, issuer if isinstance(issuer, str) else None)
        issuer = issuer if isinstance(issuer, str) else did_of(kid)
        if did_of(kid) != issuer:
            raise CredentialError("status list: kid is not a key of iss", code="status_proof")
        jose.verify_signature(jws, resolve_key(keys, kid))
    if claims.get("sub") != url:
        raise CredentialError(f"status list: sub {claims.get('sub')!r} is not {url}",
                              code="status_malformed")
    jose.check_validity_period(claims, jose.seconds(now), 60)
    codec = TokenStatusList.from_claim(claims.get("status_list"))
    ttl = claims.get("ttl")
    ttl = (ttl if isinstance(ttl, int) and not isinstance(ttl, bool) and ttl >= 0
           else DEFAULT_TTL_SECONDS)
    exp = claims.get("exp")
    until = datetime.fromtimestamp(exp, UTC) if isinstance(exp, int | float) else None
    return ListView(issuer, None, codec), _cache_seconds(ttl, until, now)


def _foreign_list_issuer(jws: jose.DecodedJWS, issuer, foreign_issuers: ForeignIssuers,
                         now: datetime) -> str:
    """The issuer of a list signed by an issuer that is not a DID (its x5c chain or JWT VC
    Issuer Metadata), once the signature is checked. A token with an x5c and no `iss` is
    taken as issued by the name its certificate gives (its first URI SAN, else its host)."""
    if not isinstance(issuer, str):
        try:
            leaf = x509.read_x5c(jws.header.get(X5C))
        except x509.CertificateError as exc:
            raise CredentialError(f"status list: {exc.detail}", code="status_proof") from None
        names = [*leaf.uris, *(f"https://{name}" for name in leaf.dns_names)]
        if not names:
            raise CredentialError("status list: no iss, and its certificate names no issuer",
                                  code="status_proof")
        issuer = names[0]
    try:
        found = foreign_issuers.key(jws.header, issuer, now=now)
    except CredentialError as exc:
        raise CredentialError(f"status list: {exc.detail}", code="status_proof") from None
    jose.verify_signature(jws, found.public_key)
    return issuer


def _parse_secured(body: str):
    """A compact JWT as is; JSON (an envelope or a credential with an embedded proof) parsed."""
    if body.startswith("{"):
        try:
            return json_limits.loads(body)
        except ValueError as exc:
            raise CredentialError(f"status list: malformed JSON ({exc})",
                                  code="status_malformed") from None
    return body


def _party(value) -> str | None:
    value = value.get("id") if isinstance(value, dict) else value
    return value if isinstance(value, str) else None


def _check_dates(start, end, now: datetime) -> None:
    for value, late in ((start, False), (end, True)):
        if value is None:
            continue
        moment = schemas.parse_datetime(value) if isinstance(value, str) else None
        if moment is None:
            raise CredentialError(f"status list: {value!r} is not a date-time",
                                  code="status_malformed")
        if (moment < now) if late else (moment > now):
            raise CredentialError("status list: " + ("expired" if late else "not yet valid"),
                                  code="status_expired")


def _cache_seconds(ttl: int, until: datetime | None, now: datetime) -> int:
    seconds = min(ttl, MAX_TTL_SECONDS)
    if until is not None:
        seconds = min(seconds, int((until - now).total_seconds()))
    return max(seconds, 0)
