"""JSON Schemas (2020-12) of the OpenID4VCI 1.0 final messages, written from the specification's
parameter definitions (section numbers below), plus the rules a schema cannot say
(`spec_rule_errors`). Tests validate the service's answers against them; `EXAMPLES` are
messages shaped like the specification's published examples, to show the schemas accept what
the specification shows and so are not simply fitted to this service."""

from __future__ import annotations

from jsonschema import Draft202012Validator, FormatChecker

ASCII_ERROR_TEXT = r"^[\x20\x21\x23-\x5B\x5D-\x7E]*$"  # §8.3.1.2 error_description charset
NON_EMPTY_STRINGS = {"type": "array", "minItems": 1, "items": {"type": "string"}}
URL = {"type": "string", "pattern": r"^https?://[^?#\s]+(\?[^#\s]*)?$"}
IDENTIFIER = {"type": "string", "pattern": r"^https?://[^?#\s]+$"}  # §12.2.1: no query/fragment
LOGO = {"type": "object", "required": ["uri"],
        "properties": {"uri": {"type": "string"}, "alt_text": {"type": "string"}}}

# §12.2.4 display of the Credential Issuer, and of a credential in credential_metadata.
ISSUER_DISPLAY = {"type": "array", "minItems": 1, "items": {
    "type": "object", "properties": {"name": {"type": "string"}, "locale": {"type": "string"},
                                     "logo": LOGO}}}
CREDENTIAL_DISPLAY = {"type": "array", "minItems": 1, "items": {
    "type": "object", "required": ["name"],
    "properties": {"name": {"type": "string"}, "locale": {"type": "string"}, "logo": LOGO,
                   "description": {"type": "string"},
                   "background_color": {"type": "string"},
                   "background_image": {"type": "object", "required": ["uri"]},
                   "text_color": {"type": "string"}}}}
# Appendix B.2: claims description objects in issuer metadata; Appendix C: claims path pointer.
CLAIMS = {"type": "array", "minItems": 1, "items": {
    "type": "object", "required": ["path"],
    "properties": {
        "path": {"type": "array", "minItems": 1, "items": {"anyOf": [
            {"type": "string"}, {"type": "integer", "minimum": 0}, {"type": "null"}]}},
        "mandatory": {"type": "boolean"},
        "display": {"type": "array", "minItems": 1, "items": {
            "type": "object", "properties": {"name": {"type": "string"},
                                             "locale": {"type": "string"}}}},
    }}}
CONFIGURATION = {
    "type": "object", "required": ["format"],
    "properties": {
        "format": {"type": "string"},
        "scope": {"type": "string"},
        "credential_signing_alg_values_supported": {"type": "array", "minItems": 1},
        "cryptographic_binding_methods_supported": NON_EMPTY_STRINGS,
        "proof_types_supported": {
            "type": "object", "minProperties": 1, "additionalProperties": {
                "type": "object", "required": ["proof_signing_alg_values_supported"],
                "properties": {"proof_signing_alg_values_supported": NON_EMPTY_STRINGS,
                               "key_attestations_required": {"type": "object"}}}},
        "credential_metadata": {"type": "object", "properties": {
            "display": CREDENTIAL_DISPLAY, "claims": CLAIMS}},
        "vct": {"type": "string"},
    },
    # §12.2.4: proof_types_supported MUST be present with binding methods, omitted otherwise.
    "dependentRequired": {"cryptographic_binding_methods_supported": ["proof_types_supported"],
                          "proof_types_supported": ["cryptographic_binding_methods_supported"]},
    # Appendix A.3.2: the SD-JWT VC profile requires vct.
    "if": {"properties": {"format": {"const": "dc+sd-jwt"}}},
    "then": {"required": ["vct"]},
}
ISSUER_METADATA = {
    "type": "object",
    "required": ["credential_issuer", "credential_endpoint",
                 "credential_configurations_supported"],
    "properties": {
        "credential_issuer": IDENTIFIER,
        "authorization_servers": NON_EMPTY_STRINGS,
        "credential_endpoint": URL,
        "nonce_endpoint": URL,
        "deferred_credential_endpoint": URL,
        "notification_endpoint": URL,
        "batch_credential_issuance": {"type": "object", "required": ["batch_size"],
                                      "properties": {"batch_size": {"type": "integer",
                                                                    "minimum": 2}}},
        "display": ISSUER_DISPLAY,
        "credential_configurations_supported": {
            "type": "object", "minProperties": 1, "additionalProperties": CONFIGURATION},
    },
}
# RFC 8414 §2 (+ OpenID4VCI §12.3).
AUTHORIZATION_SERVER_METADATA = {
    "type": "object", "required": ["issuer"],
    "properties": {
        "issuer": IDENTIFIER,
        "token_endpoint": URL,
        "grant_types_supported": NON_EMPTY_STRINGS,
        "token_endpoint_auth_methods_supported": NON_EMPTY_STRINGS,
        "scopes_supported": NON_EMPTY_STRINGS,
        "response_types_supported": NON_EMPTY_STRINGS,
        "pre-authorized_grant_anonymous_access_supported": {"type": "boolean"},
        "authorization_details_types_supported": NON_EMPTY_STRINGS,
    },
}
PRE_AUTHORIZED_GRANT = "urn:ietf:params:oauth:grant-type:pre-authorized_code"
# §4.1.1
CREDENTIAL_OFFER = {
    "type": "object", "required": ["credential_issuer", "credential_configuration_ids"],
    "properties": {
        "credential_issuer": IDENTIFIER,
        "credential_configuration_ids": {"type": "array", "minItems": 1, "uniqueItems": True,
                                         "items": {"type": "string"}},
        "grants": {"type": "object", "properties": {
            "authorization_code": {"type": "object", "properties": {
                "issuer_state": {"type": "string"},
                "authorization_server": {"type": "string"}}},
            PRE_AUTHORIZED_GRANT: {
                "type": "object", "required": ["pre-authorized_code"],
                "properties": {
                    "pre-authorized_code": {"type": "string", "minLength": 1},
                    "tx_code": {"type": "object", "properties": {
                        "input_mode": {"enum": ["numeric", "text"]},
                        "length": {"type": "integer", "minimum": 1},
                        "description": {"type": "string", "maxLength": 300}}},
                    "authorization_server": {"type": "string"}}},
        }},
    },
}
# §6.2 (RFC 6749 §5.1)
TOKEN_RESPONSE = {
    "type": "object", "required": ["access_token", "token_type"],
    "properties": {
        "access_token": {"type": "string", "minLength": 1},
        "token_type": {"type": "string"},
        "expires_in": {"type": "integer", "minimum": 1},
        "authorization_details": {"type": "array", "minItems": 1, "items": {
            "type": "object", "required": ["type", "credential_configuration_id",
                                           "credential_identifiers"],
            "properties": {"type": {"const": "openid_credential"},
                           "credential_configuration_id": {"type": "string"},
                           "credential_identifiers": NON_EMPTY_STRINGS}}},
    },
}
# §7.2
NONCE_RESPONSE = {"type": "object", "required": ["c_nonce"],
                  "properties": {"c_nonce": {"type": "string", "minLength": 1}}}
# §8.3: immediate (200) and deferred (202) credential responses.
CREDENTIAL_RESPONSE = {
    "type": "object", "required": ["credentials"],
    "properties": {
        "credentials": {"type": "array", "minItems": 1, "items": {
            "type": "object", "required": ["credential"],
            "properties": {"credential": {"type": ["string", "object"]}}}},
        "notification_id": {"type": "string"},
    },
    "not": {"anyOf": [{"required": ["transaction_id"]}, {"required": ["interval"]}]},
}
DEFERRED_RESPONSE = {
    "type": "object", "required": ["transaction_id", "interval"],
    "properties": {"transaction_id": {"type": "string", "minLength": 1},
                   "interval": {"type": "number", "exclusiveMinimum": 0}},
    "not": {"anyOf": [{"required": ["credentials"]}, {"required": ["notification_id"]}]},
}
# RFC 6749 §5.2, RFC 6750 §3, OpenID4VCI §8.3.1.2 and §9.3.
ERROR_RESPONSE = {
    "type": "object", "required": ["error"],
    "properties": {"error": {"type": "string", "pattern": r"^[\x20\x21\x23-\x5B\x5D-\x7E]+$"},
                   "error_description": {"type": "string", "pattern": ASCII_ERROR_TEXT},
                   "error_uri": {"type": "string"}},
}

SCHEMAS = {"issuer_metadata": ISSUER_METADATA,
           "authorization_server_metadata": AUTHORIZATION_SERVER_METADATA,
           "credential_offer": CREDENTIAL_OFFER, "token_response": TOKEN_RESPONSE,
           "nonce_response": NONCE_RESPONSE, "credential_response": CREDENTIAL_RESPONSE,
           "deferred_response": DEFERRED_RESPONSE, "error_response": ERROR_RESPONSE}
_VALIDATORS = {name: Draft202012Validator(schema, format_checker=FormatChecker())
               for name, schema in SCHEMAS.items()}


def errors(name: str, document) -> list[str]:
    """Schema violations of `document` as the named message, plus the rules of the
    specification that a schema cannot express; [] when it conforms."""
    found = [f"{'/'.join(map(str, e.absolute_path)) or '(root)'}: {e.message}"
             for e in _VALIDATORS[name].iter_errors(document)]
    return found + (spec_rule_errors(name, document) if not found else [])


def spec_rule_errors(name: str, document) -> list[str]:
    found = []
    if name == "issuer_metadata":
        found += _one_per_locale("display", document.get("display", []))
        for key, configuration in document["credential_configurations_supported"].items():
            metadata = configuration.get("credential_metadata", {})
            found += _one_per_locale(f"{key}.display", metadata.get("display", []))
            paths = [tuple(claim["path"]) for claim in metadata.get("claims", [])]
            if len(paths) != len(set(paths)):  # Appendix B.3: a claim described twice
                found.append(f"{key}.claims: the same claim is described twice")
            for claim in metadata.get("claims", []):
                found += _one_per_locale(f"{key}.claims.{claim['path']}",
                                         claim.get("display", []))
    return found


def _one_per_locale(where: str, display: list) -> list[str]:
    locales = [item.get("locale") for item in display]
    return [f"{where}: a locale appears twice"] if len(locales) != len(set(locales)) else []


# Messages shaped like the specification's own examples (values are ours).
EXAMPLES = {
    "credential_offer": {
        "credential_issuer": "https://issuer.example.org",
        "credential_configuration_ids": ["ExampleDegree_dc_sd_jwt"],
        "grants": {PRE_AUTHORIZED_GRANT: {"pre-authorized_code": "x7Qp2a",
                                          "tx_code": {"length": 4, "input_mode": "numeric",
                                                      "description": "Sent by e-mail"}}},
    },
    "token_response": {
        "access_token": "opaque-abc", "token_type": "Bearer", "expires_in": 3600,
        "authorization_details": [{"type": "openid_credential",
                                   "credential_configuration_id": "ExampleDegree",
                                   "credential_identifiers": ["Degree-2024", "Degree-2025"]}]},
    "nonce_response": {"c_nonce": "q1w2e3r4"},
    "credential_response": {"credentials": [{"credential": "eyJ...~WyJ...~"}],
                            "notification_id": "n-1"},
    "deferred_response": {"transaction_id": "tx-42", "interval": 3600},
    "error_response": {"error": "invalid_proof",
                       "error_description": "The key proof is not signed by its key."},
    "authorization_server_metadata": {
        "issuer": "https://issuer.example.org",
        "token_endpoint": "https://issuer.example.org/token",
        "grant_types_supported": [PRE_AUTHORIZED_GRANT],
        "pre-authorized_grant_anonymous_access_supported": True},
    "issuer_metadata": {
        "credential_issuer": "https://issuer.example.org/tenant",
        "credential_endpoint": "https://issuer.example.org/tenant/credential",
        "nonce_endpoint": "https://issuer.example.org/tenant/nonce",
        "display": [{"name": "Example Issuer", "locale": "en-US"}],
        "credential_configurations_supported": {"Identity_dc_sd_jwt": {
            "format": "dc+sd-jwt", "vct": "https://example.org/vct/identity",
            "scope": "identity", "cryptographic_binding_methods_supported": ["jwk"],
            "credential_signing_alg_values_supported": ["ES256"],
            "proof_types_supported": {"jwt": {"proof_signing_alg_values_supported": ["ES256"]}},
            "credential_metadata": {
                "display": [{"name": "Identity", "locale": "en-US",
                             "background_color": "#12107c", "text_color": "#FFFFFF"}],
                "claims": [{"path": ["given_name"],
                            "display": [{"name": "Given name", "locale": "en-US"},
                                        {"name": "Vorname", "locale": "de-DE"}]},
                           {"path": ["address"]}, {"path": ["address", "locality"]},
                           {"path": ["nationalities", None]}]}}}},
}
