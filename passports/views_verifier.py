"""`/verify/`: a verifier page for people. Paste a credential (a compact JWT, SD-JWT or JWT
presentation, or a JSON credential or presentation) or upload a file holding one, and read the
verdict in words: the same verification service as the API (`verification.verify_credential`,
the checks of `/api/v1/verify/`), explained like the public page (`badge`, `check_lines`).

No JavaScript (a plain form), in the four languages (`?lang=`), and nothing is stored: the
credential is verified in memory and neither saved nor cached (not even the verdict). The form
changes nothing, so it needs no CSRF token (and sets no cookie)."""

from __future__ import annotations

from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from core import json_limits, ratelimit
from passports.services.verification import verify_credential
from passports.views import _language, _public_html, _switcher, badge, check_lines

MAX_BYTES = 256 * 1024  # far above any credential we issue or read
INPUT_ERRORS = {
    "empty": _("Paste a credential or choose a file holding one."),
    "too_large": _("This is too large to be a credential (at most 256 KB)."),
    "not_text": _("The file is not text: a credential is a JWT or a JSON document."),
    "not_json": _("This looks like JSON, but it is not valid JSON."),
}


class InputError(ValueError):
    def __init__(self, code: str):
        super().__init__(code)
        self.code = code


def submitted_credential(request) -> str | dict:
    """What the form carries, as the API would take it: a JSON credential or presentation as a
    document, anything else as compact text. The uploaded file wins over the text field."""
    upload = request.FILES.get("file")
    if upload is not None and upload.size:
        if upload.size > MAX_BYTES:
            raise InputError("too_large")
        try:
            text = upload.read(MAX_BYTES + 1).decode("utf-8-sig")
        except UnicodeDecodeError:
            raise InputError("not_text") from None
    else:
        text = request.POST.get("credential", "")
    text = text.strip()
    if not text:
        raise InputError("empty")
    if len(text.encode()) > MAX_BYTES:
        raise InputError("too_large")
    if text[0] in "{[":
        try:
            return json_limits.loads(text)
        except ValueError:
            raise InputError("not_json") from None
    return "".join(text.split())  # a JWT wrapped over lines in an e-mail is still one JWT


def verdict_context(verdict: dict) -> dict:
    """The verdict in words: the public page's badge and check lines, and who signed it."""
    issuer = verdict.get("issuer") or {}
    subject = (verdict.get("credential") or {}).get("credentialSubject") or {}
    if isinstance(subject, list):
        subject = subject[0] if subject and isinstance(subject[0], dict) else {}
    return {
        "badge": badge(verdict, None),
        "checks": check_lines(verdict),
        "issuer": {"name": issuer.get("name") or "", "id": issuer.get("id") or ""},
        "subject_name": subject.get("name") if isinstance(subject.get("name"), str) else "",
        "format": verdict.get("format") or "",
        "checked_at": timezone.now(),
    }


@csrf_exempt  # changes nothing and stores nothing: see the module's docstring
@require_http_methods(["GET", "HEAD", "POST"])
@ratelimit.limit("verify")
def verify_page(request):
    language, kept = _language(request)
    context = {"languages": _switcher(language), "lang": kept, "pasted": ""}
    status = 200
    if request.method == "POST":
        try:
            secured = submitted_credential(request)
        except InputError as error:
            context["error"] = INPUT_ERRORS[error.code]
            status = 400
        else:
            with translation.override(language):
                context["result"] = verdict_context(verify_credential(secured))
        if "file" not in request.FILES:
            context["pasted"] = request.POST.get("credential", "")[:MAX_BYTES]
    with translation.override(language):
        body = render_to_string("passports/public/verify.html", context)
    response = _public_html(body, status=status, language=language)
    response["Cache-Control"] = "no-store"  # a verdict is for the one who asked, now
    return response
