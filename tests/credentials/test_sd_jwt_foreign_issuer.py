"""SD-JWT VCs from issuers that are not DIDs, the way EU PID and (Q)EAA providers issue them:
an https `iss` with the X.509 chain in `x5c` (HAIP 1.0), or JWT VC Issuer Metadata. The
verifier accepts what leads to its anchors, reports the legal person from the certificate, and
names the reason for everything else; DID issuers are verified as before."""

import uuid
from datetime import timedelta

import pytest

from credentials import foreign_issuers, jose, sd_jwt, status_fetcher, x509
from credentials.dids import StaticKeyResolver
from credentials.errors import CredentialError, KeyResolutionError
from credentials.foreign_issuers import ForeignIssuers
from credentials.keys import LocalSigner
from credentials.sd_jwt import present
from credentials.status_fetcher import StatusFetcher
from credentials.suites.sd_jwt import SD_JWT_VC
from credentials.verifier import Verifier
from tests.support.credential_fixtures import did_key_signer
from tests.support.pki import (
    ISSUER,
    NOW,
    PID_VCT,
    foreign_sd_jwt_vc,
    root_ca,
    status_list_token,
)

AUD, NONCE = "x509_hash:verifier-hash", "n-0S6_WzA2Mj"


@pytest.fixture(scope="module")
def root():
    return root_ca()


@pytest.fixture(scope="module")
def trusted(root):
    return ForeignIssuers(anchors=x509.load_trust_anchors(root.pem), allow_remote=False)


@pytest.fixture
def holder():
    return LocalSigner.generate(key_type="P-256")


def presented(credential: str, holder: LocalSigner) -> str:
    return present(credential, ["given_name", "family_name"], holder_signer=holder, aud=AUD,
                   nonce=NONCE)


def verdict_of(presentation: str, issuers: ForeignIssuers | None, **verifier) -> dict:
    verifier = Verifier(keys=StaticKeyResolver(), foreign_issuers=issuers, **verifier)
    return verifier.verify(presentation, aud=AUD, nonce=NONCE, require_key_binding=True)


def proof_error(verdict: dict) -> str:
    assert verdict["verified"] is False
    [check] = [c for c in verdict["checks"] if c["check"] == "proof"]
    assert check["ok"] is False
    return check["detail"]


# --- x5c: the chain leads to a configured anchor --------------------------------------------

def test_a_pid_from_a_certified_provider_verifies_and_names_its_legal_person(root, trusted,
                                                                            holder):
    issued = root.issue()
    credential = foreign_sd_jwt_vc(issued, holder.public_key())

    verdict = verdict_of(presented(credential, holder), trusted)

    assert verdict["verified"] is True, verdict["errors"]
    assert verdict["format"] == "dc+sd-jwt"
    assert verdict["credential"]["vct"] == PID_VCT
    assert verdict["credential"]["given_name"] == "Erika"
    assert "birthdate" not in verdict["credential"]  # not disclosed
    issuer = verdict["issuer"]
    assert issuer["id"] == ISSUER and issuer["trusted"] is True
    assert issuer["identified_by"] == "x5c"
    assert issuer["name"] == "PID Provider Example"
    person = issuer["legal_person"]
    assert (person["name"], person["registry_id"], person["country"]) == (
        "PID Provider Example", "VATDE-123456789", "DE")
    assert person["anchor_name"] == "Test Trust Service"
    assert person["certificate"] == x509.read_x5c(issued.x5c).x509_hash
    assert verdict["warnings"] == []


def test_the_suite_reports_how_the_issuer_key_was_found(root, trusted, holder):
    credential = foreign_sd_jwt_vc(root.intermediate().issue(key_type="Ed25519"),
                                   holder.public_key())

    result = SD_JWT_VC.verify(presented(credential, holder), StaticKeyResolver(), aud=AUD,
                              nonce=NONCE, foreign_issuers=trusted)

    assert result.ok, result.errors
    assert result.verification_method is None
    assert result.details["issuer_key"]["method"] == "x5c"
    assert result.details["issuer_key"]["trusted"] is True
    assert result.details["header"]["alg"] == "EdDSA"


def test_a_dns_san_naming_the_host_of_iss_is_enough(root, trusted, holder):
    issued = root.issue(uris=(), dns_names=("pid-provider.example.eu",))

    verdict = verdict_of(presented(foreign_sd_jwt_vc(issued, holder.public_key()), holder),
                         trusted)

    assert verdict["verified"] is True, verdict["errors"]


# --- x5c: refusals, each named --------------------------------------------------------------

def test_without_configured_anchors_a_certified_pid_is_refused(root, holder):
    credential = foreign_sd_jwt_vc(root.issue(), holder.public_key())

    for issuers in (None, ForeignIssuers(allow_remote=False)):
        assert proof_error(verdict_of(presented(credential, holder), issuers)) == (
            "issuer: x5c chain does not lead to a trusted anchor (no trust anchors are "
            "configured)")


def test_a_chain_signed_by_another_ca_is_refused(trusted, holder):
    credential = foreign_sd_jwt_vc(root_ca("Rogue Root").issue(), holder.public_key())

    assert proof_error(verdict_of(presented(credential, holder), trusted)).startswith(
        "issuer: x5c chain does not lead to a trusted anchor (")


def test_an_expired_issuer_certificate_is_refused(root, trusted, holder):
    issued = root.issue(not_before=NOW - timedelta(days=60), not_after=NOW - timedelta(days=1))
    credential = foreign_sd_jwt_vc(issued, holder.public_key())

    assert proof_error(verdict_of(presented(credential, holder), trusted)).startswith(
        "issuer: x5c: the leaf certificate expired on ")


def test_a_certificate_for_another_issuer_is_refused(root, trusted, holder):
    issued = root.issue(uris=("https://other-provider.example.eu",))
    credential = foreign_sd_jwt_vc(issued, holder.public_key())

    assert proof_error(verdict_of(presented(credential, holder), trusted)) == (
        "issuer: certificate SAN does not match iss 'https://pid-provider.example.eu/issuer' "
        "(SAN: URI https://other-provider.example.eu)")


@pytest.mark.parametrize("x5c, reason", [
    (["%%%"], "issuer: x5c: certificate 1 is not a base64 DER certificate"),
    ([], "issuer: x5c: must be a non-empty array of base64 certificates"),
    ("MIIB", "issuer: x5c: must be a non-empty array of base64 certificates"),
])
def test_garbage_x5c_is_refused(root, trusted, holder, x5c, reason):
    credential = foreign_sd_jwt_vc(root.issue(), holder.public_key(), x5c=x5c)

    assert proof_error(verdict_of(presented(credential, holder), trusted)) == reason


def test_a_signature_by_another_key_than_the_certificates_is_refused(root, trusted, holder):
    impostor = LocalSigner.generate(key_type="P-256")
    credential = foreign_sd_jwt_vc(root.issue(), holder.public_key(), signer=impostor)

    assert proof_error(verdict_of(presented(credential, holder), trusted)) == (
        "signature: invalid")


def test_a_certified_issuer_still_needs_the_holders_key_binding(root, trusted, holder):
    credential = foreign_sd_jwt_vc(root.issue(), holder.public_key())
    stranger = LocalSigner.generate(key_type="P-256")
    stolen = present(credential, ["given_name"], holder_signer=stranger, aud=AUD, nonce=NONCE)

    assert proof_error(verdict_of(stolen, trusted)).startswith("kb_jwt")


def test_an_iss_that_is_neither_a_did_nor_https_without_x5c_is_refused(root, trusted,
                                                                     holder):
    payload = {"iss": "urn:example:issuer", "vct": PID_VCT, "given_name": "Erika",
               "family_name": "Mustermann", "cnf": {"jwk": holder.public_key().jwk()}}
    credential = sd_jwt.issue(payload, root.issue().signer,
                              disclosable=["given_name", "family_name"],
                              header={"typ": "dc+sd-jwt"})

    assert proof_error(verdict_of(presented(credential, holder), trusted)) == (
        "issuer: iss 'urn:example:issuer' is neither a DID nor an https URL, and the JWT has "
        "no x5c header")


# --- the DID path is unchanged ---------------------------------------------------------------

def test_a_did_issuer_is_verified_by_its_did_even_with_an_x5c_header(root, trusted, holder):
    issuer = did_key_signer()
    did = issuer.verification_method.partition("#")[0]
    payload = {"iss": did, "vct": PID_VCT, "given_name": "Erika", "family_name": "M",
               "cnf": {"jwk": holder.public_key().jwk()}}
    header = {"typ": "dc+sd-jwt", "kid": issuer.verification_method,
              "x5c": root.issue().x5c}  # ignored: iss is a DID
    credential = sd_jwt.issue(payload, issuer, disclosable=["given_name", "family_name"],
                              header=header)

    verdict = verdict_of(presented(credential, holder), trusted)

    assert verdict["verified"] is True, verdict["errors"]
    assert verdict["issuer"]["id"] == did and "identified_by" not in verdict["issuer"]
    assert jose.decode(credential.split("~")[0]).header["x5c"]


# --- JWT VC Issuer Metadata (fetch mocked at the network edge) --------------------------------

class Web:
    """The world outside: URL -> JSON document, counting fetches."""

    def __init__(self, monkeypatch):
        self.documents: dict[str, object] = {}
        self.fetches: list[str] = []
        monkeypatch.setattr(foreign_issuers, "fetch_json", self.fetch)

    def fetch(self, url, *, max_bytes=None, accept=None):
        self.fetches.append(url)
        if url not in self.documents:
            raise KeyResolutionError(f"{url} answered 404")
        return self.documents[url]


@pytest.fixture
def web(monkeypatch):
    return Web(monkeypatch)


def metadata_issuer(path: str = "") -> str:
    return f"https://issuer-{uuid.uuid4().hex[:8]}.example{path}"  # unique: caches are shared


def metadata_signed(issuer: str, signer: LocalSigner, holder: LocalSigner,
                    kid: str | None = "key-1") -> str:
    payload = {"iss": issuer, "vct": PID_VCT, "given_name": "Erika",
               "family_name": "Mustermann", "cnf": {"jwk": holder.public_key().jwk()}}
    header = {"typ": "dc+sd-jwt", **({"kid": kid} if kid else {})}
    return sd_jwt.issue(payload, signer, disclosable=["given_name", "family_name"],
                        header=header)


def test_an_issuer_known_by_its_metadata_verifies_but_is_not_trusted(web, holder):
    issuer, signer = metadata_issuer("/tenant/1234"), LocalSigner.generate(key_type="P-256")
    host = issuer.removesuffix("/tenant/1234")
    web.documents[f"{host}/.well-known/jwt-vc-issuer/tenant/1234"] = {
        "issuer": issuer, "jwks": {"keys": [{**signer.public_key().jwk(), "kid": "key-1"}]}}

    verdict = verdict_of(presented(metadata_signed(issuer, signer, holder), holder),
                         ForeignIssuers())

    assert verdict["verified"] is True, verdict["errors"]
    assert verdict["issuer"]["trusted"] is False
    assert verdict["issuer"]["identified_by"] == "jwt-vc-issuer-metadata"
    assert verdict["issuer"]["legal_person"] is None
    assert verdict["warnings"] == [f"issuer not trusted: {issuer} is known only by its JWT VC "
                                   f"Issuer Metadata and is not a listed trusted issuer"]
    assert web.fetches == [f"{host}/.well-known/jwt-vc-issuer/tenant/1234"]


def test_a_listed_metadata_issuer_is_trusted_and_its_jwks_uri_is_followed(web, holder):
    issuer, signer = metadata_issuer(), LocalSigner.generate()  # Ed25519
    web.documents[f"{issuer}/.well-known/jwt-vc-issuer"] = {
        "issuer": issuer, "jwks_uri": f"{issuer}/jwks.json"}
    web.documents[f"{issuer}/jwks.json"] = {"keys": [
        {**LocalSigner.generate().public_key().jwk(), "kid": "old"},
        {**signer.public_key().jwk(), "kid": "key-1"}]}
    listed = ForeignIssuers(listed=frozenset({issuer}))

    first = verdict_of(presented(metadata_signed(issuer, signer, holder), holder), listed)
    again = verdict_of(presented(metadata_signed(issuer, signer, holder), holder), listed)

    assert first["verified"] is True and first["issuer"]["trusted"] is True, first["errors"]
    assert again["verified"] is True
    assert len(web.fetches) == 2  # metadata and JWK Set, then from the cache


def test_metadata_naming_another_issuer_is_not_used(web, holder):
    issuer, signer = metadata_issuer(), LocalSigner.generate(key_type="P-256")
    web.documents[f"{issuer}/.well-known/jwt-vc-issuer"] = {
        "issuer": "https://someone-else.example",
        "jwks": {"keys": [{**signer.public_key().jwk(), "kid": "key-1"}]}}

    assert proof_error(verdict_of(presented(metadata_signed(issuer, signer, holder), holder),
                                  ForeignIssuers())) == (
        f"issuer: the JWT VC Issuer Metadata at {issuer}/.well-known/jwt-vc-issuer names issuer "
        f"'https://someone-else.example', not iss '{issuer}'")


def test_an_unknown_kid_is_refused(web, holder):
    issuer, signer = metadata_issuer(), LocalSigner.generate(key_type="P-256")
    web.documents[f"{issuer}/.well-known/jwt-vc-issuer"] = {
        "issuer": issuer, "jwks": {"keys": [{**signer.public_key().jwk(), "kid": "key-1"}]}}

    credential = metadata_signed(issuer, signer, holder, kid="key-2")

    assert proof_error(verdict_of(presented(credential, holder), ForeignIssuers())) == (
        f"issuer: no key with kid 'key-2' in the JWT VC Issuer Metadata of {issuer}")


def test_a_key_from_the_metadata_must_have_made_the_signature(web, holder):
    issuer = metadata_issuer()
    published, impostor = (LocalSigner.generate(key_type="P-256") for _ in range(2))
    web.documents[f"{issuer}/.well-known/jwt-vc-issuer"] = {
        "issuer": issuer, "jwks": {"keys": [{**published.public_key().jwk(), "kid": "key-1"}]}}

    credential = metadata_signed(issuer, impostor, holder)

    assert proof_error(verdict_of(presented(credential, holder), ForeignIssuers())) == (
        "signature: invalid")


@pytest.mark.parametrize("document, reason", [
    (lambda iss: {"jwks": {"keys": []}}, "names issuer None"),
    (lambda iss: {"issuer": iss, "jwks": {"keys": []}, "jwks_uri": "https://x.example/k"},
     "must have either jwks or jwks_uri, not both"),
    (lambda iss: {"issuer": iss}, "must have either jwks or jwks_uri, not neither"),
    (lambda iss: {"issuer": iss, "jwks": {"nokeys": 1}}, "is not an object with keys"),
    (lambda iss: {"issuer": iss, "jwks": {"keys": [{"kty": "RSA", "kid": "key-1", "n": "x",
                                                    "e": "AQAB"}]}}, "is unusable"),
    (lambda iss: [1, 2], "is not a JSON object"),
])
def test_malformed_metadata_is_refused_naming_what_is_wrong(web, holder, document, reason):
    issuer, signer = metadata_issuer(), LocalSigner.generate(key_type="P-256")
    web.documents[f"{issuer}/.well-known/jwt-vc-issuer"] = document(issuer)

    error = proof_error(verdict_of(presented(metadata_signed(issuer, signer, holder), holder),
                                   ForeignIssuers()))

    assert error.startswith("issuer: ") and reason in error


def test_unreachable_metadata_and_remote_off_are_named(web, holder):
    issuer, signer = metadata_issuer(), LocalSigner.generate(key_type="P-256")
    credential = presented(metadata_signed(issuer, signer, holder), holder)

    assert proof_error(verdict_of(credential, ForeignIssuers())) == (
        f"issuer: {issuer}/.well-known/jwt-vc-issuer answered 404")
    assert proof_error(verdict_of(credential, None)) == (
        f"issuer: the JWT VC Issuer Metadata of {issuer} is not fetched (remote resolution "
        f"off)")


@pytest.mark.parametrize("issuer, url", [
    ("https://example.com", "https://example.com/.well-known/jwt-vc-issuer"),
    ("https://example.com/", "https://example.com/.well-known/jwt-vc-issuer"),
    ("https://example.com/tenant/1234", "https://example.com/.well-known/jwt-vc-issuer/tenant/1234"),
    ("https://example.com:8443/t/", "https://example.com:8443/.well-known/jwt-vc-issuer/t"),
])
def test_the_metadata_location_follows_the_spec(issuer, url):
    assert foreign_issuers.metadata_url(issuer) == url


@pytest.mark.parametrize("issuer", ["http://example.com", "https://example.com/?q=1",
                                    "https://example.com/#f", "https://user@example.com"])
def test_iss_values_with_no_metadata_location_are_refused(issuer):
    with pytest.raises(CredentialError, match="not an https URL"):
        foreign_issuers.metadata_url(issuer)


# --- a foreign issuer's Token Status List (fetched, mocked at the network edge) ----------------
# (`db`: the fetcher first asks the key store whether the list's address is one of this
# service's, now or earlier.)

class StatusWeb:
    def __init__(self, monkeypatch):
        self.bodies: dict[str, str] = {}
        monkeypatch.setattr(status_fetcher, "fetch_text_https", self.fetch)

    def fetch(self, url, *, accept, max_bytes=None):
        if url not in self.bodies:
            raise CredentialError(f"{url} answered 404", code="status_unavailable")
        return self.bodies[url]


def status_of(verdict: dict) -> dict:
    return next(c for c in verdict["checks"] if c["check"] == "status")


@pytest.mark.parametrize("statuses, ok, word", [({}, True, "valid"), ({7: 1}, False, "revoked"),
                                                ({7: 2}, False, "suspended")])
def test_a_certified_issuers_status_list_is_read(db, root, trusted, holder, monkeypatch,
                                                 statuses, ok, word):
    issued, web = root.issue(), StatusWeb(monkeypatch)
    uri = f"https://pid-provider.example.eu/status/{uuid.uuid4()}"
    web.bodies[uri] = status_list_token(issued, uri, statuses)
    credential = foreign_sd_jwt_vc(issued, holder.public_key(),
                                   status={"status_list": {"idx": 7, "uri": uri}})

    verdict = verdict_of(presented(credential, holder), trusted,
                         status=StatusFetcher(foreign_issuers=trusted))

    assert status_of(verdict)["ok"] is ok and status_of(verdict)["detail"] == word
    assert verdict["verified"] is ok


def test_a_status_list_token_without_iss_speaks_for_its_certificates_name(db, root, trusted,
                                                                        holder, monkeypatch):
    issued, web = root.issue(), StatusWeb(monkeypatch)
    uri = f"https://pid-provider.example.eu/status/{uuid.uuid4()}"
    web.bodies[uri] = status_list_token(issued, uri, {7: 1}, iss=None)
    credential = foreign_sd_jwt_vc(issued, holder.public_key(),
                                   status={"status_list": {"idx": 7, "uri": uri}})

    verdict = verdict_of(presented(credential, holder), trusted,
                         status=StatusFetcher(foreign_issuers=trusted))

    assert status_of(verdict)["detail"] == "revoked"


def test_a_status_list_signed_under_an_untrusted_chain_is_unavailable(db, root, trusted, holder,
                                                                     monkeypatch):
    issued, web = root.issue(), StatusWeb(monkeypatch)
    uri = f"https://pid-provider.example.eu/status/{uuid.uuid4()}"
    web.bodies[uri] = status_list_token(root_ca("Rogue").issue(), uri, {})
    credential = foreign_sd_jwt_vc(issued, holder.public_key(),
                                   status={"status_list": {"idx": 7, "uri": uri}})

    verdict = verdict_of(presented(credential, holder), trusted,
                         status=StatusFetcher(foreign_issuers=trusted))

    assert status_of(verdict)["ok"] is False
    assert status_of(verdict)["detail"].startswith(
        "status list unavailable: status list: issuer: x5c chain does not lead to a trusted "
        "anchor")
