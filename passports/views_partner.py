"""The page a partner's staff member reads after logging in with their organisation's access
role (issue #21; passports.services.partner_login): exactly the restricted passport data the
organisation is entitled to. No account, no admin: the session holds the partner login, checked
on every page (a withdrawn entitlement ends it at once)."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from passports.services.partner_login import (
    SESSION_KEY,
    partner_login_check,
    partner_restricted_data,
)
from wallet.tenancy.mandate_login import REFUSALS, login_end


@never_cache
@require_GET
def partner_data(request):
    login_id = request.session.get(SESSION_KEY)
    if not login_id:
        return redirect("admin:login")
    login, ended = partner_login_check(login_id)
    if login is None:
        request.session.pop(SESSION_KEY, None)
        messages.error(request, REFUSALS.get(ended, REFUSALS["invalid"]))
        return redirect("admin:login")
    return TemplateResponse(request, "passports/partner.html", {
        "title": _("Restricted passport data"), "login": login,
        "rows": partner_restricted_data(login)})


@require_POST
def partner_logout(request):
    login_id = request.session.pop(SESSION_KEY, None)
    login, _ended = partner_login_check(login_id) if login_id else (None, None)
    if login is not None:
        login_end(login, "logged_out")
    return redirect("admin:login")
