"""Admin sessions opened with mandates from a wallet (wallet.tenancy.mandate_login): what such a
session may do, and ending it when its mandates no longer stand.

- MandateAwareBackend (settings.AUTHENTICATION_BACKENDS): passwords as Django checks them,
  except for staff of an organisation that requires the wallet (`wallet_login_required`: no
  password login; superusers, the operator, keep theirs). A session opened with mandates gets
  exactly the admin permissions of the presented mandates' scopes (SCOPE_PERMISSIONS), not the
  account's own.
- MandateSessionMiddleware: tells the request's user which mandates were presented (authorise()
  counts only those) and re-checks them at most every MANDATE_LOGIN_RECHECK_SECONDS: a revoked,
  suspended or expired mandate logs the person out with the reason in their language."""

from __future__ import annotations

import time

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth import get_user_model, login, logout
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Permission
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from wallet.tenancy.legal_models import Mandate
from wallet.tenancy.login_models import MandateLogin
from wallet.tenancy.mandate_login import REFUSALS, login_check, login_end
from wallet.tenancy.models import Member

BACKEND = "wallet.tenancy.login_sessions.MandateAwareBackend"
SESSION_LOGIN = "mandate_login"
SESSION_MANDATES = "mandate_ids"
SESSION_SCOPES = "mandate_scopes"
SESSION_CHECKED = "mandate_checked_at"

# What each mandate scope opens in the admin (any mandate: seeing the organisation's products,
# passports and wallet); the acts themselves are still authorised against the mandate.
SEEING = ["passports.view_product", "passports.view_passport", "passports.view_passportevent",
          "wallet.view_mandate", "wallet.view_walletcredential", "wallet.view_mandatelogin"]
SCOPE_PERMISSIONS = {
    Mandate.Scope.PASSPORTS_ISSUE: ["passports.add_product", "passports.change_product",
                                    "passports.add_passport"],
    Mandate.Scope.PASSPORTS_REVOKE: ["passports.change_passport"],
    Mandate.Scope.MESSAGES_SEND: ["wallet.view_outboxmessage", "wallet.add_outboxmessage",
                                  "wallet.view_inboxmessage"],
    Mandate.Scope.INVOICES_SEND: ["wallet.view_invoice", "wallet.add_invoice"],
}


def permissions_of_scopes(scopes) -> set[str]:
    names = set(SEEING)
    for scope in scopes:
        names.update(SCOPE_PERMISSIONS.get(scope, []))
    return names


def wallet_required(user) -> bool:
    """Whether `user` may log in only with the wallet (their organisation requires it)."""
    if user.is_superuser:
        return False
    return Member.objects.filter(user=user, organisation__wallet_login_required=True).exists()


class MandateAwareBackend(ModelBackend):
    def authenticate(self, request, username=None, password=None, **kwargs):
        user = super().authenticate(request, username=username, password=password, **kwargs)
        if user is not None and wallet_required(user):
            return None  # passwords are off for this organisation's staff
        return user

    def _get_user_permissions(self, user_obj):
        scopes = getattr(user_obj, "mandate_scopes", None)
        if scopes is None:
            return super()._get_user_permissions(user_obj)
        wanted = Q(pk__in=[])
        for name in permissions_of_scopes(scopes):
            app_label, codename = name.split(".")
            wanted |= Q(content_type__app_label=app_label, codename=codename)
        return Permission.objects.filter(wanted)

    def _get_group_permissions(self, user_obj):
        if getattr(user_obj, "mandate_scopes", None) is not None:
            return Permission.objects.none()  # the mandates alone say what the session may
        return super()._get_group_permissions(user_obj)


class PasswordLoginForm(AdminAuthenticationForm):
    """The admin's password form, saying so when the person's organisation has turned
    passwords off (only for the right password: a wrong one learns nothing)."""

    error_messages = {**AdminAuthenticationForm.error_messages,
                      "wallet_required": _("Your organisation lets its staff log in only with "
                                           "their wallet: use “Log in with your wallet”.")}

    def clean(self):
        username = self.cleaned_data.get("username")
        password = self.cleaned_data.get("password")
        user = (get_user_model()._default_manager.filter(username=username).first()
                if username and password else None)
        if user is not None and wallet_required(user) and user.check_password(password):
            raise forms.ValidationError(self.error_messages["wallet_required"],
                                        code="wallet_required")
        return super().clean()


def session_open(request, mandate_login: MandateLogin) -> None:
    """Log the browser in as the login's person, carrying its mandates, until it expires."""
    login(request, mandate_login.user, backend=BACKEND)
    request.session[SESSION_LOGIN] = str(mandate_login.pk)
    request.session[SESSION_MANDATES] = sorted(mandate_login.mandates.values_list("pk",
                                                                                  flat=True))
    request.session[SESSION_SCOPES] = list(mandate_login.scopes)
    request.session[SESSION_CHECKED] = time.time()
    request.session.set_expiry(mandate_login.expires_at)


def ended_by_logout(sender, request=None, user=None, **kwargs) -> None:
    """On logout (Django's `user_logged_out`, connected in the wallet app's ready): end the
    session's login with its mandates, so the trail says when it ended."""
    login_id = request.session.get(SESSION_LOGIN) if request is not None else None
    if login_id:
        mandate_login = MandateLogin.objects.filter(pk=login_id).first()
        if mandate_login is not None:
            login_end(mandate_login, "logged_out")


class MandateSessionMiddleware:
    """After authentication and messages: see the module's docstring."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        session = getattr(request, "session", None)
        login_id = session.get(SESSION_LOGIN) if session is not None else None
        if login_id:
            self._carry(request, session, login_id)
        return self.get_response(request)

    def _carry(self, request, session, login_id) -> None:
        now = time.time()
        if now - session.get(SESSION_CHECKED, 0) >= settings.MANDATE_LOGIN_RECHECK_SECONDS:
            reason = login_check(login_id)
            if reason:
                logout(request)  # a new, empty session: the admin asks to log in again
                messages.error(request, REFUSALS.get(reason, REFUSALS["invalid"]))
                return
            session[SESSION_CHECKED] = now
        user = request.user
        if user.is_authenticated:
            user.presented_mandates = frozenset(session.get(SESSION_MANDATES, []))
            user.mandate_scopes = frozenset(session.get(SESSION_SCOPES, []))
