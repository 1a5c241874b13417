"""The admin's "Log in with your wallet" (issue #21; docs/wallet-login.md): start a login
request, then a page that shows it as a QR code (a wallet on another device) and as an
`openid4vp://` link (a wallet on this device) and refreshes itself (a refresh meta, no script)
until the wallet has answered; then the person is logged in with exactly the mandates they
presented, or reads why not. Thin: each calls openid4vp.login and wallet.tenancy."""

from __future__ import annotations

from django.conf import settings
from django.contrib import admin
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from core import ratelimit
from openid4vp import login, services
from passports.services import partner_login
from wallet.tenancy.login_models import MandateLogin
from wallet.tenancy.login_sessions import session_open
from wallet.tenancy.mandate_login import LoginRefused

STARTED = "wallet_login_requests"  # the requests this browser started (the login's binding)
KEPT = 5
REFRESH_SECONDS = 2


@never_cache
@require_POST
@ratelimit.limit("public")
def wallet_login_start(request):
    """POST: a new login request for this browser, then its page."""
    presentation = login.login_request_start(
        return_url=lambda made: settings.PUBLIC_BASE_URL + reverse("wallet-login-wait",
                                                                   args=[made.pk]))
    request.session[STARTED] = [*request.session.get(STARTED, [])[-(KEPT - 1):],
                                str(presentation.pk)]
    target = reverse("wallet-login-wait", args=[presentation.pk])
    following = request.POST.get("next", "")
    if following and url_has_allowed_host_and_scheme(following, {request.get_host()}):
        request.session["wallet_login_next"] = following
    return redirect(target)


@never_cache
@require_GET
def wallet_login_wait(request, request_id):
    """The login's page: waiting (refreshing itself), refused (why), or logged in (to the
    admin). Only the browser that started the request can finish it."""
    started = request.session.get(STARTED, [])
    presentation = login.login_request_of(request_id) if str(request_id) in started else None
    if presentation is None:
        return redirect("admin:login")
    context = {**admin.site.each_context(request), "title": _("Log in with your wallet")}
    try:
        mandate_login = login.login_finish(presentation,
                                           response_code=request.GET.get("response_code"))
    except login.LoginPending:
        # The QR code from this site, whatever host the browser reached it by.
        qr = reverse("openid4vp-request-qr", args=[presentation.request_token, "svg"])
        return TemplateResponse(request, "openid4vp/wallet_login.html", {
            **context, "link": services.authorization_request(presentation), "qr": qr,
            "refresh": REFRESH_SECONDS})
    except LoginRefused as refused:
        request.session[STARTED] = [i for i in started if i != str(request_id)]
        return TemplateResponse(request, "openid4vp/wallet_login.html",
                                {**context, "refused": refused.message,
                                 "refusal_code": refused.code}, status=403)
    following = request.session.pop("wallet_login_next", None)
    request.session[STARTED] = [i for i in started if i != str(request_id)]
    if mandate_login.kind == MandateLogin.Kind.PARTNER_SESSION:
        # A partner's staff: no account here, the restricted data their role opens.
        request.session.cycle_key()
        request.session[partner_login.SESSION_KEY] = str(mandate_login.pk)
        return redirect("partner-data")
    session_open(request, mandate_login)
    return redirect(following or reverse("admin:index"))
