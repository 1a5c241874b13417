
from django import forms
from django.contrib import admin, messages
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from wallet.tenancy.admin_scoping import ReadOnlyScopedAdmin
from wallet.tenancy.api_tokens import (
    api_token_create,
    api_token_revoke,
    scopes_refused,
)
from wallet.tenancy.authority import actor_of
from wallet.tenancy.login_models import MandateLogin, MandateLoginEvent
from wallet.tenancy.login_sessions import PasswordLoginForm
from wallet.tenancy.models import ApiToken, Member, Organisation
from wallet.tenancy.selectors import organisation_of
from wallet.tenancy.services import organisation_ensure_key


class MemberInline(admin.TabularInline):
    """Who works for an organisation. Only superusers change it: a staff user must not be able
    to add other accounts to their organisation (and so give them its data)."""

    model = Member
    extra = 0
    autocomplete_fields = ["user"]

    def has_add_permission(self, request, obj=None):
        return request.user.is_superuser

    def has_change_permission(self, request, obj=None):
        return request.user.is_superuser

    def has_delete_permission(self, request, obj=None):
        return request.user.is_superuser


@admin.register(Organisation)
class OrganisationAdmin(admin.ModelAdmin):
    list_display = ["legal_name", "slug", "is_trust_anchor", "created_at"]
    search_fields = ["legal_name", "slug"]
    list_filter = ["is_trust_anchor"]
    inlines = [MemberInline]

    def get_readonly_fields(self, request, obj=None):
        # The slug is inside the organisation's DID and every credential it issued.
        return ["slug"] if obj else []

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        organisation_ensure_key(obj)  # every organisation signs with its own did:web key

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        if request.user.is_superuser:
            return queryset
        return queryset.filter(members__user=request.user)


# API keys ---------------------------------------------------------------------------------------

class ApiTokenAddForm(forms.ModelForm):
    scopes = forms.MultipleChoiceField(choices=ApiToken.Scope.choices,
                                       widget=forms.CheckboxSelectMultiple, required=False,
                                       help_text=_("What the key may do. Choose only what the "
                                                   "client needs."))

    request = None  # set by ApiTokenAdmin.get_form: the mandate check needs the user

    class Meta:
        model = ApiToken
        fields = ["organisation", "name", "scopes"]

    def clean(self):
        cleaned = super().clean()
        user = self.request.user
        organisation = cleaned.get("organisation") if user.is_superuser \
            else organisation_of(user)
        if organisation is not None and (refused := scopes_refused(
                actor=actor_of(user), organisation=organisation,
                scopes=cleaned.get("scopes", []))):
            self.add_error("scopes", _("A key cannot do more than the person who makes it: "
                                       "%(refused)s.") % {"refused": "; ".join(refused)})
        return cleaned


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """Keys are made here or with `manage.py api_token`. The key is shown once, in the message
    after saving; only its hash is stored. After that a key can only be revoked."""

    form = ApiTokenAddForm
    list_display = ["name", "prefix", "organisation", "scope_list", "created_at",
                    "last_used_at", "revoked_at"]
    list_filter = ["revoked_at"]
    search_fields = ["name", "prefix"]
    actions = ["revoke"]

    def get_queryset(self, request):
        queryset = super().get_queryset(request).select_related("organisation", "created_by")
        if request.user.is_superuser:
            return queryset
        organisation = organisation_of(request.user)
        return queryset.filter(organisation=organisation) if organisation else queryset.none()

    def get_fields(self, request, obj=None):
        if obj is None:
            return ["organisation", "name", "scopes"] if request.user.is_superuser \
                else ["name", "scopes"]
        return ["organisation", "name", "prefix", "scope_list", "created_by", "created_at",
                "last_used_at", "revoked_at"]

    def get_readonly_fields(self, request, obj=None):
        return self.get_fields(request, obj) if obj is not None else []

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is not None:  # the change page only shows: every field is read-only
            kwargs["form"] = forms.ModelForm
        form = super().get_form(request, obj, change, **kwargs)
        form.request = request
        return form

    def has_add_permission(self, request):
        return super().has_add_permission(request) and (
            request.user.is_superuser or organisation_of(request.user) is not None)

    def save_model(self, request, obj, form, change):
        if change:
            return
        organisation = (form.cleaned_data.get("organisation") if request.user.is_superuser
                        else organisation_of(request.user))
        token, key = api_token_create(actor=actor_of(request.user), organisation=organisation,
                                      name=obj.name, scopes=form.cleaned_data["scopes"])
        obj.pk = token.pk  # the admin goes on with `obj`: make it the stored row
        obj.refresh_from_db()
        self.message_user(request, format_html(
            "The API key, shown only now (copy it; only its hash is stored): <code>{}</code>",
            key), messages.WARNING)

    @admin.display(description=_("Scopes"))
    def scope_list(self, token):
        return ", ".join(token.scopes) or "-"

    @admin.action(description=_("Revoke selected API keys"), permissions=["change"])
    def revoke(self, request, queryset):
        for token in queryset.filter(revoked_at__isnull=True):
            api_token_revoke(token=token)
        self.message_user(request, _("Revoked; the keys no longer work."), messages.SUCCESS)


# Logins with mandates (wallet.tenancy.mandate_login): the audit trail, read only ----------------

class MandateLoginEventInline(admin.TabularInline):
    model = MandateLoginEvent
    extra = 0
    fields = ["at", "kind", "code", "detail", "mandates"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(MandateLogin)
class MandateLoginAdmin(ReadOnlyScopedAdmin):
    organisation_path = "organisation"
    list_display = ["created_at", "kind", "user", "scope_list", "access_group", "expires_at",
                    "ended_at", "end_reason"]
    list_filter = ["kind", "end_reason"]
    inlines = [MandateLoginEventInline]

    @admin.display(description=_("Scopes"))
    def scope_list(self, login):
        return ", ".join(login.scopes) or "-"


# Password logins say so when the organisation requires the wallet (docs/wallet-login.md).
admin.site.login_form = PasswordLoginForm

# The business wallet's admin pages live in modules of their own; importing them registers them.
import wallet.business.identity.admin  # noqa: E402,F401
import wallet.business.messaging.admin  # noqa: E402,F401
