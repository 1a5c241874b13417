"""Credential offers in the admin: staff offer a credential to an EU wallet ("Create OpenID4VCI
offer"), see its link, QR code and transaction code once, right after making it, and afterwards
what became of it. Thin: the form asks the service whether the source fits, saving calls the
service that makes the offer."""

from __future__ import annotations

import base64

from django import forms
from django.contrib import admin
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html

from core.qr import qr_svg
from openid4vci.models import CredentialOffer, OfferEvent
from openid4vci.services.offers import (
    current_state,
    offer_authorise,
    offer_check,
    offer_create,
)
from passports.models import Entitlement, Passport
from wallet.tenancy.admin_scoping import OrganisationScopedAdmin
from wallet.tenancy.authority import Actor, NotAuthorised, actor_of
from wallet.tenancy.legal_models import AttestationRequest, Mandate, WalletCredential
from wallet.tenancy.models import Organisation
from wallet.tenancy.selectors import organisation_of

SOURCE_FIELDS = ("mandate", "wallet_credential", "attestation", "entitlement", "passport")


def offerable(field: str, organisation: Organisation | None):
    """What staff of `organisation` may offer, per source field (everything for operators)."""
    querysets = {
        "mandate": Mandate.objects.filter(state=Mandate.State.ACTIVE,
                                          credential__isnull=False),
        "wallet_credential": WalletCredential.objects.filter(
            kind=WalletCredential.Kind.BUSINESS_IDENTITY, state=WalletCredential.State.ACTIVE),
        "attestation": AttestationRequest.objects.exclude(
            state=AttestationRequest.State.REJECTED),
        "entitlement": Entitlement.objects.all(),
        "passport": Passport.objects.filter(state=Passport.State.ISSUED),
    }
    owners = {"mandate": "organisation", "wallet_credential": "issuer",
              "attestation": "anchor", "entitlement": "manufacturer",
              "passport": "product__organisation"}
    queryset = querysets[field]
    return queryset if organisation is None else queryset.filter(
        **{owners[field]: organisation})


class OfferForm(forms.ModelForm):
    class Meta:
        model = CredentialOffer
        fields = ["issuer", "configuration", *SOURCE_FIELDS, "role"]
        help_texts = {"configuration": "What to offer. Give the one source it needs below.",
                      "role": "Access role only: the partner's role, in words (default: the "
                              "access group)."}

    def __init__(self, *args, organisation: Organisation | None = None, actor: Actor,
                 **kwargs):
        super().__init__(*args, **kwargs)
        self.organisation, self.actor = organisation, actor
        if organisation is not None:
            self.fields.pop("issuer")
        else:
            self.fields["issuer"].required = True
        for field in SOURCE_FIELDS:
            self.fields[field].queryset = offerable(field, organisation)
            self.fields[field].required = False

    def clean(self):
        data = super().clean()
        issuer = self.organisation or data.get("issuer")
        if issuer is None or not data.get("configuration"):
            return data
        try:
            offer_authorise(actor=self.actor, issuer=issuer,
                            configuration=data["configuration"])
        except NotAuthorised as refused:
            raise ValidationError(refused.detail, code=refused.code) from None
        try:
            offer_check(issuer=issuer, configuration=data["configuration"],
                        role=data.get("role", ""),
                        **{field: data.get(field) for field in SOURCE_FIELDS})
        except ValidationError as exc:
            raise ValidationError({field if field in self.fields else NON_FIELD_ERRORS: errors
                                   for field, errors in exc.error_dict.items()}) from None
        return data


class OfferEventInline(admin.TabularInline):
    model = OfferEvent
    extra = 0
    can_delete = False
    fields = ["created_at", "action", "from_state", "to_state", "detail"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(CredentialOffer)
class CredentialOfferAdmin(OrganisationScopedAdmin):
    organisation_path = "issuer"
    list_display = ["configuration", "subject", "display_state", "created_at", "expires_at",
                    "redeemed_at", "issued_at"]
    list_filter = ["configuration", "state"]
    list_select_related = ["issuer"]
    search_fields = ["subject"]
    inlines = [OfferEventInline]
    change_list_template = "admin/openid4vci/credentialoffer/change_list.html"
    readonly_fields = ["issuer", "configuration", "source", "subject", "role", "display_state",
                       "state_reason", "expires_at", "tx_code_failures", "redeemed_at",
                       "issued_at", "credential_jti", "status_entry", "created_by", "created_at"]

    def get_fields(self, request, obj=None):
        if obj is None:
            return ["issuer", "configuration", *SOURCE_FIELDS, "role"] \
                if request.user.is_superuser else ["configuration", *SOURCE_FIELDS, "role"]
        return self.readonly_fields

    def get_readonly_fields(self, request, obj=None):
        return self.readonly_fields if obj is not None else []

    def get_inlines(self, request, obj):
        return self.inlines if obj is not None else []

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is not None:
            return super().get_form(request, obj, change, **kwargs)
        organisation = None if request.user.is_superuser else organisation_of(request.user)
        actor = actor_of(request.user)

        class ScopedOfferForm(OfferForm):
            def __init__(self, *args, **form_kwargs):
                super().__init__(*args, organisation=organisation, actor=actor, **form_kwargs)

        kwargs["form"] = ScopedOfferForm
        kwargs["fields"] = None
        return super().get_form(request, obj, change, **kwargs)

    def add_view(self, request, form_url="", extra_context=None):
        return super().add_view(request, form_url,
                                {"title": "Create OpenID4VCI offer", **(extra_context or {})})

    def has_add_permission(self, request):
        return super().has_add_permission(request) and (
            request.user.is_superuser or organisation_of(request.user) is not None)

    def has_change_permission(self, request, obj=None):
        return False  # an offer is made once; afterwards it is only watched

    def has_delete_permission(self, request, obj=None):
        return False  # it records which status entry an issued copy carries

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        issuer = data["issuer"] if request.user.is_superuser else organisation_of(request.user)
        created = offer_create(issuer=issuer, configuration=data["configuration"],
                               role=data.get("role", ""), actor=actor_of(request.user),
                               **{field: data.get(field) for field in SOURCE_FIELDS})
        obj.pk = created.offer.pk
        obj.refresh_from_db()
        request.openid4vci_created = created  # shown once by response_add

    def save_related(self, request, form, formsets, change):
        pass  # the service wrote everything

    def response_add(self, request, obj, post_url_continue=None):
        """The secrets of the new offer, on this page only: nothing keeps them afterwards."""
        created = getattr(request, "openid4vci_created", None)
        if created is None:
            return super().response_add(request, obj, post_url_continue)
        qr = base64.b64encode(qr_svg(created.by_reference, scale=6)).decode("ascii")
        context = {
            **self.admin_site.each_context(request),
            "title": "OpenID4VCI offer created",
            "opts": self.model._meta,
            "offer": created.offer,
            "created": created,
            "qr_data_uri": f"data:image/svg+xml;base64,{qr}",
            "offer_page": reverse("admin:openid4vci_credentialoffer_change",
                                  args=[created.offer.pk]),
        }
        response = TemplateResponse(request, "admin/openid4vci/offer_created.html", context)
        response["Cache-Control"] = "no-store"
        return response

    @admin.display(description="State")
    def display_state(self, offer):
        return CredentialOffer.State(current_state(offer)).label

    @admin.display(description="Source")
    def source(self, offer):
        for field in SOURCE_FIELDS:
            value = getattr(offer, field)
            if value is not None:
                return f"{offer._meta.get_field(field).verbose_name}: {value}"
        return "withdrawn" if offer.configuration == "access_role" else "-"

    @admin.display(description="Status entry")
    def status_entry(self, offer):
        if offer.status_list_id is None:
            return "-"
        return format_html("<code>{}</code> index {}", offer.status_list_id, offer.status_index)

