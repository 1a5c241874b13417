"""A wallet made by someone else, played over the Django test client: it knows only what the
protocol tells it (OpenID4VCI 1.0 final: the pre-authorized code flow, and the authorization
code flow with PAR, PKCE S256 and the person's consent; DPoP by default, HAIP 1.0), never the
service's code.

    wallet = TestWallet()                                # a P-256 key; key_type="Ed25519" too
    sd_jwt = wallet.redeem_offer(offer_uri, tx_code)     # offer → token → nonce → credential
    presentation = wallet.present(sd_jwt, ["role"], aud=..., nonce=...)

Each step is also a method of its own (resolve_offer, metadata, token, nonce, proof,
request_credential, deferred_credential) so tests can break one step at a time. End-to-end tests
of other apps (the OpenID4VP verifier) reuse this class."""

from __future__ import annotations

import hashlib
import json
import re
import secrets
from urllib.parse import parse_qs, urlencode, urlsplit

from django.conf import settings
from django.test import Client

from credentials import jose, x509
from credentials.encoding import b64url_encode
from credentials.keys import LocalSigner
from credentials.sd_jwt import present

OFFER_SCHEME = "openid-credential-offer://"
PRE_AUTHORIZED_GRANT = "urn:ietf:params:oauth:grant-type:pre-authorized_code"
PROOF_TYP = "openid4vci-proof+jwt"
FORM = "application/x-www-form-urlencoded"
WALLET_CLIENT = "https://wallet.example.eu"  # a public client: no registration, PKCE
WALLET_REDIRECT = "eu.wallet.example:/callback"  # a native wallet's private-use scheme


def local_path(url: str) -> str:
    """The path (and query) of a URL on this service, for the test client."""
    if not url.startswith(settings.PUBLIC_BASE_URL + "/"):
        raise AssertionError(f"{url} is not on this service ({settings.PUBLIC_BASE_URL})")
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def service_issuing_ca() -> x509.TrustAnchors:
    """The CA this service's operator gives wallets for its issuers' `x5c` (out of band)."""
    from io import StringIO

    from django.core.management import call_command

    printed = StringIO()
    call_command("issuing_ca", stdout=printed)
    return x509.load_trust_anchors(printed.getvalue())


def _asks_for_nonce(response) -> bool:
    if response.status_code == 400 and response["Content-Type"] == "application/json":
        return response.json().get("error") == "use_dpop_nonce"
    return (response.status_code == 401
            and 'error="use_dpop_nonce"' in response.get("WWW-Authenticate", ""))


def well_known(identifier: str, name: str) -> str:
    """The well-known URL of `identifier`: `/.well-known/<name>` inserted between the host and
    the path (OpenID4VCI §12.2.2, RFC 8414 §3.1)."""
    parts = urlsplit(identifier)
    return f"{parts.scheme}://{parts.netloc}/.well-known/{name}{parts.path.rstrip('/')}"


class TestWallet:
    __test__ = False  # not a test class, despite its name

    def __init__(self, *, key_type: str = "P-256", client: Client | None = None,
                 dpop: bool = True):
        self.client = client or Client()
        self.signer = LocalSigner.generate(key_type=key_type)
        self.key = self.signer.public_key()
        self.last_response = None
        # DPoP (RFC 9449, HAIP 1.0 §4): a key of its own that the access token is bound to.
        self.dpop_signer = LocalSigner.generate(key_type="P-256") if dpop else None
        self.dpop_nonce: str | None = None
        self.token_type = "Bearer"
        # A Wallet Attestation from its provider (HAIP 1.0 §4.4.1): (provider's certificate
        # and signer, the audience), set by tests whose issuer requires one.
        self.provider = None
        self.instance_key = LocalSigner.generate(key_type="P-256")

    # --- Wallet Attestation ------------------------------------------------------------------

    def attestation_headers(self, audience: str, client_id: str = WALLET_CLIENT) -> dict:
        """OAuth-Client-Attestation (signed by the provider, x5c) and its PoP (signed by the
        instance key, for `audience`, once)."""
        if self.provider is None:
            return {}
        now = int(jose.seconds())
        attestation = jose.sign(
            {"iss": "https://wallet-provider.example", "sub": client_id, "iat": now,
             "exp": now + 3600, "cnf": {"jwk": self.instance_key.public_key().jwk()}},
            self.provider.signer, {"typ": "oauth-client-attestation+jwt",
                                   "x5c": self.provider.x5c})
        pop = jose.sign({"iss": client_id, "aud": audience, "jti": secrets.token_urlsafe(16),
                         "iat": now}, self.instance_key,
                        {"typ": "oauth-client-attestation-pop+jwt"})
        return {"HTTP_OAUTH_CLIENT_ATTESTATION": attestation,
                "HTTP_OAUTH_CLIENT_ATTESTATION_POP": pop}

    # --- DPoP --------------------------------------------------------------------------------

    def dpop_proof(self, method: str, url: str, *, access_token: str | None = None,
                   nonce: str | None = None, claims: dict | None = None) -> str:
        """A DPoP proof JWT for one request (RFC 9449 §4.2)."""
        body = {"jti": secrets.token_urlsafe(16), "htm": method, "htu": url,
                "iat": int(jose.seconds())}
        nonce = nonce if nonce is not None else self.dpop_nonce
        if nonce is not None:
            body["nonce"] = nonce
        if access_token is not None:
            body["ath"] = b64url_encode(hashlib.sha256(access_token.encode()).digest())
        body.update(claims or {})  # a claim given as None is left out
        body = {name: value for name, value in body.items() if value is not None}
        return jose.sign(body, self.dpop_signer,
                         {"typ": "dpop+jwt", "jwk": self.dpop_signer.public_key().jwk()})

    def _post_with_dpop(self, url: str, data, content_type: str, *,
                        access_token: str | None = None, authenticate_to: str | None = None):
        """POST, with a DPoP proof when this wallet uses DPoP; once more with the server's
        nonce when it answers use_dpop_nonce (§8, §9). `authenticate_to`: the issuer a
        Wallet Attestation is sent to (PAR and token endpoints)."""
        for _ in range(2):
            headers = self.attestation_headers(authenticate_to) if authenticate_to else {}
            if access_token is not None:
                headers["HTTP_AUTHORIZATION"] = f"{self.token_type} {access_token}"
            if self.dpop_signer is not None:
                headers["HTTP_DPOP"] = self.dpop_proof("POST", url, access_token=access_token
                                                       if self.token_type == "DPoP" else None)
            response = self.client.post(local_path(url), data, content_type=content_type,
                                        **headers)
            if response.has_header("DPoP-Nonce"):
                self.dpop_nonce = response["DPoP-Nonce"]
            if not (self.dpop_signer is not None and _asks_for_nonce(response)):
                break
        self.last_response = response
        return response

    # --- the steps ---------------------------------------------------------------------------

    def resolve_offer(self, offer_uri: str) -> dict:
        """The Credential Offer object from `openid-credential-offer://?credential_offer=...`
        (by value) or `?credential_offer_uri=...` (by reference, fetched with GET)."""
        if not offer_uri.startswith(OFFER_SCHEME):
            raise AssertionError(f"not a credential offer: {offer_uri}")
        query = parse_qs(urlsplit(offer_uri).query)
        if "credential_offer" in query:
            return json.loads(query["credential_offer"][0])
        response = self.client.get(local_path(query["credential_offer_uri"][0]))
        self.last_response = response
        assert response.status_code == 200, response.content
        assert response["Content-Type"] == "application/json"
        return response.json()

    def metadata(self, credential_issuer: str) -> dict:
        response = self.client.get(local_path(well_known(credential_issuer,
                                                         "openid-credential-issuer")))
        assert response.status_code == 200, response.content
        document = response.json()
        # §12.2.3: the metadata is only used when it names the issuer it was fetched for.
        assert document["credential_issuer"] == credential_issuer
        return document

    def authorization_server(self, credential_issuer: str) -> dict:
        response = self.client.get(local_path(well_known(credential_issuer,
                                                         "oauth-authorization-server")))
        assert response.status_code == 200, response.content
        return response.json()

    def token(self, offer: dict, tx_code: str | None, **extra):
        """The token request of the pre-authorized code flow; returns the response."""
        grant = offer["grants"][PRE_AUTHORIZED_GRANT]
        server = self.authorization_server(offer["credential_issuer"])
        form = {"grant_type": PRE_AUTHORIZED_GRANT,
                "pre-authorized_code": grant["pre-authorized_code"]}
        if tx_code is not None:
            form["tx_code"] = tx_code
        form.update(extra)
        response = self._post_with_dpop(server["token_endpoint"], urlencode(form), FORM,
                                        authenticate_to=server["issuer"])
        if response.status_code == 200:
            self.token_type = response.json()["token_type"]
        return response

    def nonce(self, metadata: dict) -> str:
        response = self.client.post(local_path(metadata["nonce_endpoint"]))
        assert response.status_code == 200, response.content
        return response.json()["c_nonce"]

    def proof(self, *, aud: str, nonce: str | None, iat: int | None = None,
              header: dict | None = None, claims: dict | None = None,
              signer=None) -> str:
        """A `jwt` key proof (Appendix F.1): typ openid4vci-proof+jwt, the key as jwk."""
        signer = signer or self.signer
        body = {"aud": aud, "iat": int(jose.seconds()) if iat is None else iat}
        if nonce is not None:
            body["nonce"] = nonce
        body.update(claims or {})
        protected = {"typ": PROOF_TYP, "jwk": signer.public_key().jwk(), **(header or {})}
        return jose.sign({k: v for k, v in body.items() if v is not None}, signer,
                         {k: v for k, v in protected.items() if v is not None})

    def request_credential(self, metadata: dict, access_token: str, body: dict):
        return self._post_with_dpop(metadata["credential_endpoint"], json.dumps(body),
                                    "application/json", access_token=access_token)

    def deferred_credential(self, metadata: dict, access_token: str, transaction_id: str):
        return self._post_with_dpop(metadata["deferred_credential_endpoint"],
                                    json.dumps({"transaction_id": transaction_id}),
                                    "application/json", access_token=access_token)

    # --- the authorization code flow (PAR, PKCE S256, the person's consent) -------------------

    def push_authorization(self, credential_issuer: str, configuration_id: str, *,
                           redirect_uri: str = WALLET_REDIRECT, client_id: str = WALLET_CLIENT,
                           by_details: bool = False, **extra) -> dict:
        """Wallet-initiated issuance from the metadata: a pushed authorization request (RFC
        9126) asking for `configuration_id` by its scope (or authorization_details), with a
        fresh PKCE verifier and state. Returns the flow so far (request_uri, verifier...)."""
        metadata = self.metadata(credential_issuer)
        server = self.authorization_server(credential_issuer)
        assert server["require_pushed_authorization_requests"] is True
        assert "S256" in server["code_challenge_methods_supported"]
        verifier = secrets.token_urlsafe(48)
        flow = {"metadata": metadata, "server": server, "configuration_id": configuration_id,
                "verifier": verifier, "state": secrets.token_urlsafe(12),
                "redirect_uri": redirect_uri, "client_id": client_id}
        form = {"client_id": client_id, "response_type": "code", "redirect_uri": redirect_uri,
                "state": flow["state"], "code_challenge_method": "S256",
                "code_challenge": b64url_encode(hashlib.sha256(verifier.encode()).digest())}
        if by_details:
            form["authorization_details"] = json.dumps([{
                "type": "openid_credential", "credential_configuration_id": configuration_id}])
        else:
            form["scope"] = metadata["credential_configurations_supported"][
                configuration_id]["scope"]
        form.update(extra)
        response = self._post_with_dpop(server["pushed_authorization_request_endpoint"],
                                        urlencode({k: v for k, v in form.items()
                                                   if v is not None}), FORM,
                                        authenticate_to=server["issuer"])
        flow["pushed"] = response
        if response.status_code == 201:
            flow["request_uri"] = response.json()["request_uri"]
        return flow

    def authorization_url(self, flow: dict) -> str:
        """Where the wallet sends the person's browser (RFC 9126 §4)."""
        query = urlencode({"client_id": flow["client_id"], "request_uri": flow["request_uri"]})
        return f"{flow['server']['authorization_endpoint']}?{query}"

    def receive_redirect(self, flow: dict, location: str) -> str:
        """The browser back at the wallet: the code, for this request (state) from this
        issuer (iss, RFC 9207)."""
        assert location.startswith(flow["redirect_uri"]), location
        answer = {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}
        assert answer["state"] == flow["state"]
        assert answer["iss"] == flow["metadata"]["credential_issuer"]
        assert "code" in answer, answer
        return answer["code"]

    def token_for_code(self, flow: dict, code: str, **extra):
        form = {"grant_type": "authorization_code", "code": code,
                "code_verifier": flow["verifier"], "redirect_uri": flow["redirect_uri"],
                "client_id": flow["client_id"], **extra}
        response = self._post_with_dpop(flow["server"]["token_endpoint"],
                                        urlencode({k: v for k, v in form.items()
                                                   if v is not None}), FORM,
                                        authenticate_to=flow["server"]["issuer"])
        if response.status_code == 200:
            self.token_type = response.json()["token_type"]
        return response

    def authorize_and_redeem(self, credential_issuer: str, configuration_id: str,
                             browser: Client, **options) -> str:
        """The whole authorization code flow, the person (logged in on `browser`) approving
        the first choice offered; returns the issued SD-JWT VC."""
        flow = self.push_authorization(credential_issuer, configuration_id, **options)
        assert flow["pushed"].status_code == 201, flow["pushed"].content
        consent = browser.get(local_path(self.authorization_url(flow)))
        assert consent.status_code == 200, consent.content
        choice = re.search(rb'name="mandate" value="([^"]+)"', consent.content).group(1)
        decided = browser.post(local_path(self.authorization_url(flow)),
                               {"decision": "approve", "mandate": choice.decode()})
        assert decided.status_code == 302, decided.content
        code = self.receive_redirect(flow, decided["Location"])
        response = self.token_for_code(flow, code)
        assert response.status_code == 200, response.content
        token = response.json()
        session = {"metadata": flow["metadata"], "configuration_id": configuration_id,
                   "access_token": token["access_token"]}
        body = self.credential_request_body(session)
        if token.get("authorization_details"):  # OpenID4VCI §6.2: ask by identifier then
            [details] = token["authorization_details"]
            assert details["credential_configuration_id"] == configuration_id
            del body["credential_configuration_id"]
            body["credential_identifier"] = details["credential_identifiers"][0]
        issued = self.request_credential(session["metadata"], session["access_token"], body)
        assert issued.status_code == 200, issued.content
        return issued.json()["credentials"][0]["credential"]

    # --- the whole flow ----------------------------------------------------------------------

    def start(self, offer_uri: str, tx_code: str) -> dict:
        """Offer → metadata → token: what a credential request needs."""
        offer = self.resolve_offer(offer_uri)
        metadata = self.metadata(offer["credential_issuer"])
        response = self.token(offer, tx_code)
        assert response.status_code == 200, response.content
        return {"offer": offer, "metadata": metadata,
                "configuration_id": offer["credential_configuration_ids"][0],
                "access_token": response.json()["access_token"]}

    def credential_request_body(self, session: dict) -> dict:
        metadata = session["metadata"]
        proof = self.proof(aud=metadata["credential_issuer"], nonce=self.nonce(metadata))
        return {"credential_configuration_id": session["configuration_id"],
                "proofs": {"jwt": [proof]}}

    def redeem_offer(self, offer_uri: str, tx_code: str) -> str:
        """The whole pre-authorized code flow; returns the issued SD-JWT VC."""
        session = self.start(offer_uri, tx_code)
        response = self.request_credential(session["metadata"], session["access_token"],
                                           self.credential_request_body(session))
        assert response.status_code == 200, response.content
        return response.json()["credentials"][0]["credential"]

    def present(self, sd_jwt: str, disclose, *, aud: str, nonce: str) -> str:
        """An SD-JWT VC presentation with a Key Binding JWT signed by this wallet's key."""
        return present(sd_jwt, disclose=disclose, holder_signer=self.signer, aud=aud,
                       nonce=nonce)
