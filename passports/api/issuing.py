"""VC-API issuing: an organisation signs a credential of its own in the request
(docs/architecture.md, Runtime, allows it: one `vc+jwt` signature costs a fraction of a
millisecond). Nothing is stored."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.utils import timezone

from credentials import contexts, data_model, schemas, signing
from passports.credential import iso
from wallet.tenancy.models import Organisation


def credential_issue(*, organisation: Organisation, credential: dict,
                     credential_id: str | None = None) -> str:
    """`credential` (unsecured, VCDM 2.0) secured as `vc+jwt` by `organisation`: the compact
    JWT. The issuer is the organisation (filled in when absent, refused when another); `validFrom`
    defaults to now. Raises ValidationError keyed `credential` or `credential.<field>`."""
    document = dict(credential)
    refusals = data_model.issue_refusals(document)
    if refusals:
        raise ValidationError({"credential": [ValidationError(refusal, code="invalid_credential")
                                              for refusal in refusals]})
    issuer = document.get("issuer")
    issuer_id = issuer.get("id") if isinstance(issuer, dict) else issuer
    if "issuer" not in document:
        document["issuer"] = organisation.did
    elif issuer_id != organisation.did:
        raise ValidationError({"credential.issuer": ValidationError(
            f"You issue as {organisation.did}, not as {issuer_id!r}.",
            code="issuer_mismatch")})
    if "proof" in document:
        raise ValidationError({"credential.proof": ValidationError(
            "The credential is already secured.", code="already_secured")})
    if credential_id and "id" not in document:
        document["id"] = credential_id
    document.setdefault("validFrom", iso(timezone.now()))
    unknown = [url for url in _context_urls(document) if not contexts.known(url)]
    if unknown:
        raise ValidationError({"credential.@context": ValidationError(
            f"Unknown contexts (only bundled ones are accepted): {', '.join(unknown)}.",
            code="unknown_context")})
    problems = schemas.vcdm2_errors(document)
    if problems:
        raise ValidationError({"credential": [ValidationError(problem, code="invalid_credential")
                                              for problem in problems]})
    return signing.secure_jwt(document, signing.signer_for(organisation.did))


def _context_urls(document: dict) -> list[str]:
    context = document.get("@context")
    items = context if isinstance(context, list) else [context]
    return [item for item in items if isinstance(item, str)]
