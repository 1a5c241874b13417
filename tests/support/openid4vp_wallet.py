"""A test EU wallet for OpenID4VP 1.0: it holds SD-JWT VCs bound to its own P-256 key, follows
an `openid4vp://` link, checks the signed Request Object the way a Wallet must (typ, the x5c
certificate's signature, the client id bound to that certificate: `x509_hash` its hash,
`x509_san_dns` one of its dNSName SANs and the host of the response_uri), and answers with
`direct_post` or `direct_post.jwt`, disclosing only what the DCQL query asks."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from urllib.parse import parse_qs, urlencode, urlsplit

from credentials import jose, jwe, x509
from credentials.keys import LocalSigner
from credentials.sd_jwt import present

BASE = "http://localhost:8000"


def local_path(url: str) -> str:
    assert url.startswith(BASE), url
    return url[len(BASE):]


@dataclass
class Request:
    """A fetched and checked Request Object."""

    jwt: str
    header: dict
    claims: dict
    certificate: x509.CertificateInfo

    @property
    def client_id(self) -> str:
        return self.claims["client_id"]

    @property
    def nonce(self) -> str:
        return self.claims["nonce"]

    @property
    def state(self) -> str:
        return self.claims["state"]

    @property
    def query(self) -> dict:
        return self.claims["dcql_query"]

    def requested_paths(self, query_id: str) -> list[list]:
        credential = next(c for c in self.query["credentials"] if c["id"] == query_id)
        return [claim["path"] for claim in credential.get("claims", [])]


@dataclass
class Wallet:
    client: object  # a Django test client: the wallet's HTTP
    key: LocalSigner = field(default_factory=lambda: LocalSigner.generate(key_type="P-256"))
    credentials: dict[str, str] = field(default_factory=dict)  # name → SD-JWT VC
    # The CAs this wallet trusts for Verifiers' certificates; None: the one it was given for
    # this service (the root `manage.py verifier_ca` prints). Nothing self-signed is pinned.
    verifier_anchors: x509.TrustAnchors | None = None

    def fetch(self, authorization_request: str) -> Request:
        """Follow the link: GET the request_uri, verify what comes back."""
        link = urlsplit(authorization_request)
        assert link.scheme == "openid4vp"
        parameters = {k: v[0] for k, v in parse_qs(link.query).items()}
        assert set(parameters) == {"client_id", "request_uri"}
        answer = self.client.get(local_path(parameters["request_uri"]))
        assert answer.status_code == 200, answer.content
        assert answer["Content-Type"] == "application/oauth-authz-req+jwt"
        request = verify_request_object(answer.content.decode(),
                                        self.verifier_anchors or service_verifier_ca())
        # OpenID4VP 1.0 §5.10.1: the link's client_id and the signed one are identical.
        assert request.client_id == parameters["client_id"]
        return request

    def presentation(self, request: Request, credential: str, disclose, *,
                     aud: str | None = None, nonce: str | None = None) -> str:
        return present(self.credentials[credential], disclose=[_dotted(p) for p in disclose],
                       holder_signer=self.key, aud=aud or request.client_id,
                       nonce=nonce or request.nonce)

    def answer(self, request: Request, vp_token: dict, *, enc: str | None = None,
               state: str | None = None, encrypt: bool | None = None, tamper: bool = False):
        """POST the Authorization Response to the response_uri, as the request's
        response_mode says (or `encrypt` forces)."""
        parameters = {"vp_token": vp_token, "state": state or request.state}
        encrypted = (request.claims["response_mode"] == "direct_post.jwt"
                     if encrypt is None else encrypt)
        if encrypted:
            token = self.encrypt(request, parameters, enc=enc)
            if tamper:
                token = _flip_last_ciphertext_char(token)
            form = {"response": token}
        else:
            form = {"vp_token": json.dumps(vp_token), "state": parameters["state"]}
        return self.post(request, form)

    def encrypt(self, request: Request, parameters: dict, *, enc: str | None = None) -> str:
        metadata = request.claims["client_metadata"]
        key = metadata["jwks"]["keys"][0]
        enc = enc or metadata.get("encrypted_response_enc_values_supported", ["A128GCM"])[0]
        return jwe.encrypt(json.dumps(parameters).encode(), key, enc=enc)

    def post(self, request: Request, form: dict):
        """§8.2: application/x-www-form-urlencoded, UTF-8."""
        return self.client.post(local_path(request.claims["response_uri"]), urlencode(form),
                                content_type="application/x-www-form-urlencoded")

    def decline(self, request: Request, error: str = "access_denied"):
        return self.post(request, {"error": error, "error_description": "the user said no",
                                   "state": request.state})

    def answer_query(self, request: Request, credential: str, **options):
        """Answer the request's single credential query with `credential`, disclosing exactly
        what the query asks."""
        [query] = request.query["credentials"]
        disclosed = self.presentation(request, credential,
                                      _disclosable(request.requested_paths(query["id"])))
        return self.answer(request, {query["id"]: [disclosed]}, **options)


def verify_request_object(jwt: str, anchors: x509.TrustAnchors) -> Request:
    """What a Wallet does with a Request Object under the x509_hash or x509_san_dns client id
    prefix (OpenID4VP 1.0 §5.9.3, HAIP 1.0 §5): the signature by the leaf of `x5c`, the chain
    of `x5c` up to one of `anchors` (CAs the wallet was given; a self-signed leaf never
    passes), and the client id bound to the leaf."""
    decoded = jose.decode(jwt)
    assert decoded.header["typ"] == "oauth-authz-req+jwt"
    assert decoded.header["alg"] == "ES256"
    certificate = x509.read_x5c(decoded.header["x5c"])
    jose.verify_signature(decoded, certificate.public_key)  # raises if not signed by it
    x509.validate_chain(decoded.header["x5c"], anchors)  # raises ChainError naming why
    assert not certificate.self_signed
    claims = decoded.claims()
    prefix, _, value = claims["client_id"].partition(":")
    if prefix == "x509_hash":
        assert value == certificate.x509_hash
    elif prefix == "x509_san_dns":
        # The client id is a DNS name the leaf names as a dNSName SAN, and (for a Verifier the
        # wallet does not list as trusted) the response goes to that host.
        assert value in certificate.dns_names, (value, certificate.dns_names)
        answer_at = claims.get("response_uri") or claims["redirect_uri"]
        assert urlsplit(answer_at).hostname == value, (answer_at, value)
    else:
        raise AssertionError(f"client id prefix {prefix!r} is not supported by this wallet")
    return Request(jwt, decoded.header, claims, certificate)


def service_verifier_ca() -> x509.TrustAnchors:
    """The root this service's operator gives wallets for its Verifier (out of band)."""
    from io import StringIO

    from django.core.management import call_command

    printed = StringIO()
    call_command("verifier_ca", stdout=printed)
    return x509.load_trust_anchors(printed.getvalue())


def _dotted(path) -> str:
    return ".".join(str(part) for part in path) if isinstance(path, list | tuple) else path


def _disclosable(paths: list[list]) -> list[list]:
    # Claims that are always in the clear (iss, vct, sub...) need no Disclosure.
    return [p for p in paths if p[0] not in ("iss", "vct", "sub", "iat", "exp", "nbf", "cnf")]


def _flip_last_ciphertext_char(token: str) -> str:
    parts = token.split(".")
    ciphertext = parts[3]
    parts[3] = ciphertext[:-2] + ("A" if ciphertext[-2] != "A" else "B") + ciphertext[-1]
    return ".".join(parts)
