"""Admin for the wallet's legal side: identity review by anchors, held and issued credentials,
mandates. Thin: every action calls a service."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from wallet.business.identity.services import attestation_approve, attestation_reject
from wallet.tenancy.admin_pages import confirmation_page, is_confirmed
from wallet.tenancy.admin_scoping import OrganisationScopedAdmin, ReadOnlyScopedAdmin
from wallet.tenancy.credential_status import (
    wallet_credential_reinstate,
    wallet_credential_revoke,
    wallet_credential_suspend,
)
from wallet.tenancy.errors import WalletError
from wallet.tenancy.legal_models import (
    AttestationRequest,
    LegalDetails,
    Mandate,
    TrustedAnchor,
    WalletCredential,
)
from wallet.tenancy.mandates import (
    mandate_grant,
    mandate_reinstate,
    mandate_revoke,
    mandate_suspend,
)
from wallet.tenancy.selectors import organisation_of


def _run(modeladmin, request, queryset, action, done: str, **kwargs):
    """Apply a service to each selected row; report successes and refusals by name."""
    count = 0
    for obj in queryset:
        try:
            action(obj, **kwargs)
            count += 1
        except (WalletError, ValidationError) as exc:
            detail = getattr(exc, "detail", None) or "; ".join(exc.messages)
            modeladmin.message_user(request, f"{obj}: {detail}", messages.ERROR)
    if count:
        modeladmin.message_user(request, f"{done}: {count}", messages.SUCCESS)


@admin.register(LegalDetails)
class LegalDetailsAdmin(OrganisationScopedAdmin):
    organisation_path = "organisation"
    list_display = ["organisation", "registry_id", "euid", "lei", "vat_id", "country"]
    search_fields = ["organisation__legal_name", "registry_id", "euid", "lei", "vat_id"]

    def get_readonly_fields(self, request, obj=None):
        return [] if request.user.is_superuser else ["organisation"]

    def has_add_permission(self, request):
        return request.user.is_superuser


@admin.register(TrustedAnchor)
class TrustedAnchorAdmin(admin.ModelAdmin):
    """The trust registry: operator-managed (superusers only)."""

    list_display = ["organisation", "note", "added_at"]

    def has_module_permission(self, request):
        return request.user.is_superuser

    def has_view_permission(self, request, obj=None):
        return request.user.is_superuser


@admin.register(AttestationRequest)
class AttestationRequestAdmin(admin.ModelAdmin):
    """Requests an organisation made, and those its anchor reviews."""

    list_display = ["organisation", "anchor", "state", "created_at", "reviewed_at"]
    list_filter = ["state"]
    readonly_fields = ["state", "decision_reason", "reviewed_by", "reviewed_at",
                       "requested_by"]
    actions = ["approve", "reject"]

    def get_queryset(self, request):
        queryset = super().get_queryset(request).select_related("organisation", "anchor")
        if request.user.is_superuser:
            return queryset
        organisation = organisation_of(request.user)
        return queryset.filter(Q(organisation=organisation) | Q(anchor=organisation))

    def _reviewable(self, request, queryset):
        organisation = organisation_of(request.user)
        return queryset if request.user.is_superuser else queryset.filter(anchor=organisation)

    @admin.action(description=_("Approve and issue the identity credentials"))
    def approve(self, request, queryset):
        _run(self, request, self._reviewable(request, queryset),
             lambda obj: attestation_approve(request=obj, reviewer=request.user,
                                             reason="approved in the admin"), _("Approved"))

    @admin.action(description=_("Reject (reason: evidence does not match the register)"))
    def reject(self, request, queryset):
        _run(self, request, self._reviewable(request, queryset),
             lambda obj: attestation_reject(request=obj, reviewer=request.user,
                                            reason="evidence does not match the register"),
             _("Rejected"))


@admin.register(WalletCredential)
class WalletCredentialAdmin(ReadOnlyScopedAdmin):
    organisation_path = "issuer"
    list_display = ["kind", "issuer_identifier", "holder", "format", "state", "valid_from",
                    "valid_until"]
    list_filter = ["kind", "state", "format"]
    actions = ["revoke", "suspend", "reinstate"]

    def get_queryset(self, request):
        queryset = admin.ModelAdmin.get_queryset(self, request)
        if request.user.is_superuser:
            return queryset
        organisation = organisation_of(request.user)
        return queryset.filter(Q(issuer=organisation) | Q(holder=organisation))

    def _issued(self, request, queryset):
        return queryset if request.user.is_superuser else \
            queryset.filter(issuer=organisation_of(request.user))

    def has_change_permission(self, request, obj=None):
        return obj is None  # actions on the list; the credential itself never changes

    @admin.action(description=_("Revoke (permanent)"))
    def revoke(self, request, queryset):
        _run(self, request, self._issued(request, queryset),
             lambda obj: wallet_credential_revoke(credential=obj, reason="via admin"), _("Revoked"))

    @admin.action(description=_("Suspend (SD-JWT credentials)"))
    def suspend(self, request, queryset):
        _run(self, request, self._issued(request, queryset),
             lambda obj: wallet_credential_suspend(credential=obj, reason="via admin"),
             _("Suspended"))

    @admin.action(description=_("Reinstate"))
    def reinstate(self, request, queryset):
        _run(self, request, self._issued(request, queryset),
             lambda obj: wallet_credential_reinstate(credential=obj, reason="via admin"),
             _("Reinstated"))


class MandateRevokeForm(forms.Form):
    """The confirmation of a mandate's revocation: why (kept as the mandate's reason)."""

    reason = forms.CharField(max_length=500, label=_("Reason (recorded with the mandate)"),
                             widget=forms.Textarea(attrs={"rows": 3, "cols": 60}))


@admin.register(Mandate)
class MandateAdmin(OrganisationScopedAdmin):
    organisation_path = "organisation"
    list_display = ["scope", "grantee_user", "grantee_organisation", "state", "valid_from",
                    "valid_until"]
    list_filter = ["scope", "state"]
    fields = ["organisation", "grantee_user", "grantee_organisation", "scope", "valid_from",
              "valid_until", "state", "state_reason"]
    readonly_fields = ["state", "state_reason"]
    actions = ["revoke", "suspend", "reinstate"]

    def get_readonly_fields(self, request, obj=None):
        if obj is not None:  # a mandate is granted once; after that only its state changes
            return self.fields
        return self.readonly_fields + ([] if request.user.is_superuser else ["organisation"])

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        # A person's mandate is for one of the organisation's own members.
        organisation = organisation_of(request.user)
        if db_field.name == "grantee_user" and organisation is not None:
            kwargs["queryset"] = db_field.related_model.objects.filter(
                membership__organisation=organisation)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request, obj, form, change):
        if change:
            return
        organisation = (obj.organisation if request.user.is_superuser
                        else organisation_of(request.user))
        granted = mandate_grant(organisation=organisation, scope=obj.scope,
                                user=obj.grantee_user, grantee=obj.grantee_organisation,
                                valid_from=obj.valid_from, valid_until=obj.valid_until,
                                created_by=request.user)
        obj.pk = granted.pk

    @admin.action(description=_("Revoke (permanent, takes effect at once) …"))
    def revoke(self, request, queryset):
        """First a page naming the mandates and what revoking means, with the reason to give;
        the revocation only once that page is submitted with one."""
        mandates = list(queryset.select_related("grantee_user", "grantee_organisation"))
        confirmed = is_confirmed(request, "revoke")
        form = MandateRevokeForm(request.POST if confirmed else None)
        if not (confirmed and form.is_valid()):
            return confirmation_page(
                self, request, template="admin/wallet/mandate/confirm_revoke.html",
                action="revoke", selected=mandates, form=form, verb=_("Revoke"),
                title=_("Revoke %(count)d mandate(s)?") % {"count": len(mandates)},
                warning=_("Revocation is permanent and takes effect at once: whoever holds "
                          "these mandates can no longer act with them, and their credentials "
                          "verify as revoked."), mandates=mandates)
        reason = form.cleaned_data["reason"].strip()
        _run(self, request, mandates,
             lambda obj: mandate_revoke(mandate=obj, reason=reason), _("Revoked"))
        return None

    @admin.action(description=_("Suspend"))
    def suspend(self, request, queryset):
        _run(self, request, queryset,
             lambda obj: mandate_suspend(mandate=obj, reason="via admin"), _("Suspended"))

    @admin.action(description=_("Reinstate"))
    def reinstate(self, request, queryset):
        _run(self, request, queryset,
             lambda obj: mandate_reinstate(mandate=obj, reason="via admin"), _("Reinstated"))
