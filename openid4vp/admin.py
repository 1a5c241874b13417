"""Presentation requests in the admin: staff of an organisation ask an EU wallet for
presentations ("Add presentation request": a DCQL query, a purpose, a response mode), show the
link or QR code to the holder, and read the verdict, which nobody edits. Thin: the form asks
dcql whether the query is valid, saving calls the service."""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.db import models
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils.html import format_html

from openid4vp import dcql, services
from openid4vp.models import PresentationEvent, PresentationRequest
from wallet.tenancy.admin_scoping import OrganisationScopedAdmin
from wallet.tenancy.models import Organisation
from wallet.tenancy.selectors import organisation_of

EXAMPLE_QUERY = {"credentials": [{
    "id": "identity", "format": "dc+sd-jwt",
    "meta": {"vct_values": ["https://w3id.org/dpp-wallet/vct/business-identity/v1"]},
    "claims": [{"path": ["legal_name"]}, {"path": ["euid"]}]}]}


class PresentationRequestForm(forms.ModelForm):
    organisation = forms.ModelChoiceField(queryset=Organisation.objects.all(), required=False,
                                          help_text="Operators only: who asks.")
    redirect_uri = forms.URLField(required=False, max_length=500, assume_scheme="https",
                                  help_text="Where the wallet sends the user afterwards.")

    class Meta:
        model = PresentationRequest
        fields = ["purpose", "dcql_query", "response_mode", "redirect_uri"]
        help_texts = {"dcql_query": "A DCQL query (OpenID4VP 1.0 §6): dc+sd-jwt Credential "
                                    "Queries with meta.vct_values and claim paths."}

    def __init__(self, *args, organisation: Organisation | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.organisation = organisation
        if organisation is not None:
            self.fields.pop("organisation")
        else:
            self.fields["organisation"].required = True
        self.fields["dcql_query"].initial = EXAMPLE_QUERY
        self.fields["response_mode"].initial = PresentationRequest.ResponseMode.DIRECT_POST_JWT

    def clean_dcql_query(self):
        query = self.cleaned_data["dcql_query"]
        try:
            return dcql.validate_query(query)
        except dcql.DcqlError as exc:
            raise forms.ValidationError(f"{exc.field}: {exc.detail}",
                                        code="invalid_dcql_query") from None


class EventInline(admin.TabularInline):
    model = PresentationEvent
    extra = 0
    fields = readonly_fields = ["at", "kind", "detail"]
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


SHOWN = ["organisation", "status_display", "purpose", "link", "qr", "client_id",
         "response_mode", "redirect_uri", "created_at", "expires_at", "fetched_at",
         "responded_at", "error_code", "reason", "wallet_error", "response_code", "verdict",
         "query", "created_by"]


@admin.register(PresentationRequest)
class PresentationRequestAdmin(OrganisationScopedAdmin):
    organisation_path = "organisation"
    list_display = ["created_at", "purpose", "status_display", "response_mode",
                    "responded_at"]
    list_filter = ["status", "response_mode"]
    search_fields = ["purpose", "id"]
    inlines = [EventInline]
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}

    def get_fields(self, request, obj=None):
        if obj is None:
            return (["purpose", "dcql_query", "response_mode", "redirect_uri"]
                    + (["organisation"] if request.user.is_superuser else []))
        return SHOWN

    def get_readonly_fields(self, request, obj=None):
        return SHOWN if obj is not None else []

    def get_inlines(self, request, obj):
        return self.inlines if obj is not None else []

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is not None:  # the change page only shows: every field is read-only
            return super().get_form(request, obj, change, **kwargs)
        form = super().get_form(request, obj, change, form=PresentationRequestForm, **kwargs)
        organisation = None if request.user.is_superuser else organisation_of(request.user)

        class BoundForm(form):
            def __init__(self, *args, **inner):
                super().__init__(*args, organisation=organisation, **inner)

        return BoundForm

    def has_add_permission(self, request):
        return super().has_add_permission(request) and (
            request.user.is_superuser or organisation_of(request.user) is not None)

    def has_change_permission(self, request, obj=None):
        return False if obj is not None else super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        if change:
            return
        organisation = (form.cleaned_data["organisation"] if request.user.is_superuser
                        else organisation_of(request.user))
        created, _ = services.presentation_request_create(
            organisation=organisation, created_by=request.user,
            purpose=form.cleaned_data["purpose"], dcql_query=form.cleaned_data["dcql_query"],
            response_mode=form.cleaned_data["response_mode"],
            redirect_uri=form.cleaned_data.get("redirect_uri") or "")
        obj.pk = created.pk  # the admin goes on with `obj`: make it the stored row
        obj.refresh_from_db()

    def response_add(self, request, obj, post_url_continue=None):
        """Straight to the new request's page: its link and QR code are what staff need next."""
        self.message_user(request, "Show the wallet link or QR code to the holder; the "
                                   "verdict appears here once the wallet has answered.")
        return HttpResponseRedirect(reverse("admin:openid4vp_presentationrequest_change",
                                            args=[obj.pk]))

    def save_related(self, request, form, formsets, change):
        pass  # nothing related to save; the service wrote the request and its event

    @admin.display(description="Status", ordering="status")
    def status_display(self, obj):
        return obj.current_status

    @admin.display(description="Wallet link (openid4vp://)")
    def link(self, obj):
        uri = services.authorization_request(obj)
        return format_html('<a href="{}"><code>{}</code></a>', uri, uri)

    @admin.display(description="QR code")
    def qr(self, obj):
        url = reverse("openid4vp-request-qr", args=[obj.request_token, "svg"])
        return format_html('<img src="{}" alt="QR code of the wallet link" width="220">', url)

    @admin.display(description="Verdict")
    def verdict(self, obj):
        return format_html("<pre>{}</pre>", services.json_dumps(obj.result)) if obj.result \
            else "-"

    @admin.display(description="DCQL query")
    def query(self, obj):
        return format_html("<pre>{}</pre>", services.json_dumps(obj.dcql_query))
