"""Each organisation is a Credential Issuer, `{PUBLIC_BASE_URL}/orgs/<slug>`, and its own OAuth
Authorization Server (pre-authorized code grant only). Its Credential Issuer Metadata
(OpenID4VCI 1.0 §12.2) and Authorization Server Metadata (RFC 8414) are built here."""

from __future__ import annotations

from django.conf import settings

from openid4vci.configurations import FORMAT, LANGUAGES, Configuration, offered_by
from wallet.tenancy.models import Organisation

PRE_AUTHORIZED_GRANT = "urn:ietf:params:oauth:grant-type:pre-authorized_code"
PROOF_ALGORITHMS = ("ES256", "EdDSA")  # key proofs we verify (HAIP: ES256 at least)
SIGNING_ALGORITHMS = ("ES256",)  # copies are signed with the issuer's P-256 key (HAIP 1.0)
DPOP_ALGORITHMS = ("ES256", "EdDSA")  # DPoP proofs we verify (HAIP 1.0: ES256 at least)
ENDPOINTS = ("token", "nonce", "credential", "deferred_credential", "credential_offer", "par",
             "authorize")


def issuer_identifier(organisation: Organisation) -> str:
    """The Credential Issuer Identifier: https URL, no query, no fragment (§12.2.1)."""
    return f"{settings.PUBLIC_BASE_URL}/orgs/{organisation.slug}"


def endpoint(organisation: Organisation, name: str) -> str:
    if name not in ENDPOINTS:
        raise ValueError(f"no endpoint {name!r}")
    return f"{issuer_identifier(organisation)}/openid4vci/{name}"


def _display(labels: dict[str, str], **extra: dict[str, str]) -> list[dict]:
    return [{"name": labels[language], "locale": language,
             **{key: values[language] for key, values in extra.items()}}
            for language in LANGUAGES]


def configuration_metadata(configuration: Configuration) -> dict:
    """One entry of credential_configurations_supported (§12.2.4, SD-JWT VC profile A.3.2)."""
    return {
        "format": FORMAT,
        "vct": configuration.vct,
        "scope": configuration.scope,
        "cryptographic_binding_methods_supported": ["jwk"],
        "credential_signing_alg_values_supported": list(SIGNING_ALGORITHMS),
        "proof_types_supported": {
            "jwt": {"proof_signing_alg_values_supported": list(PROOF_ALGORITHMS)}},
        "credential_metadata": {
            "display": _display(configuration.names, description=configuration.descriptions),
            "claims": [{"path": list(claim.path), "display": _display(claim.labels)}
                       for claim in configuration.claims],
        },
    }


def issuer_metadata(organisation: Organisation) -> dict:
    return {
        "credential_issuer": issuer_identifier(organisation),
        "credential_endpoint": endpoint(organisation, "credential"),
        "nonce_endpoint": endpoint(organisation, "nonce"),
        "deferred_credential_endpoint": endpoint(organisation, "deferred_credential"),
        "display": [{"name": organisation.legal_name, "locale": language}
                    for language in LANGUAGES],
        "credential_configurations_supported": {
            configuration.id: configuration_metadata(configuration)
            for configuration in offered_by(organisation)},
    }


def authorization_server_metadata(organisation: Organisation) -> dict:
    """RFC 8414 §2: the pre-authorized code grant and the authorization code flow (HAIP 1.0
    §4), the latter only with pushed requests (RFC 9126 §5) and PKCE S256 (RFC 7636); DPoP."""
    return {
        "issuer": issuer_identifier(organisation),
        "authorization_endpoint": endpoint(organisation, "authorize"),
        "pushed_authorization_request_endpoint": endpoint(organisation, "par"),
        "require_pushed_authorization_requests": True,
        "token_endpoint": endpoint(organisation, "token"),
        "response_types_supported": ["code"],
        "code_challenge_methods_supported": ["S256"],
        "authorization_response_iss_parameter_supported": True,  # RFC 9207
        "grant_types_supported": [PRE_AUTHORIZED_GRANT, "authorization_code"],
        # HAIP 1.0 §4.4.1: with wallet providers configured, wallets authenticate by attestation.
        "token_endpoint_auth_methods_supported": (
            ["attest_jwt_client_auth"] if settings.OPENID4VCI_WALLET_ATTESTATION_ANCHORS
            else ["none"]),
        "pre-authorized_grant_anonymous_access_supported": True,
        "scopes_supported": [configuration.scope for configuration in offered_by(organisation)],
        "authorization_details_types_supported": ["openid_credential"],
        "dpop_signing_alg_values_supported": list(DPOP_ALGORITHMS),  # RFC 9449 §5.1, HAIP §4
    }
