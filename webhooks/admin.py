"""Webhooks in the admin: an organisation's staff subscribe endpoints (the secret is shown
once, in the message after saving), and read the deliveries with their attempts (status,
latency, error); a delivery can be sent again (action "Retry now")."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied

from core import events
from core.errors import DomainError
from wallet.tenancy.admin_scoping import OrganisationScopedAdmin, ReadOnlyScopedAdmin
from wallet.tenancy.authority import NotAuthorised, actor_of
from wallet.tenancy.models import Organisation
from wallet.tenancy.selectors import organisation_of
from webhooks.models import Delivery, DeliveryAttempt, Subscription
from webhooks.services import delivery_retry, subscription_create


class SubscriptionForm(forms.ModelForm):
    url = forms.URLField(label="URL", max_length=2000, assume_scheme="https")
    events = forms.MultipleChoiceField(choices=[(kind, kind) for kind in events.KINDS],
                                       widget=forms.CheckboxSelectMultiple)

    class Meta:
        model = Subscription
        fields = ["organisation", "url", "events", "description", "active"]


@admin.register(Subscription)
class SubscriptionAdmin(OrganisationScopedAdmin):
    organisation_path = "organisation"
    form = SubscriptionForm
    list_display = ["url", "event_list", "active", "created_at"]
    list_filter = ["active"]

    def get_fields(self, request, obj=None):
        fields = ["url", "events", "description", "active"]
        return (["organisation", *fields] if request.user.is_superuser and obj is None
                else fields)

    def get_readonly_fields(self, request, obj=None):
        return ["url"] if obj is not None else []  # a new URL is a new subscription (secret)

    @admin.display(description="events")
    def event_list(self, subscription):
        return ", ".join(subscription.events)

    def save_model(self, request, obj, form, change):
        if change:
            obj.save(update_fields=["events", "description", "active"])
            return
        organisation = (form.cleaned_data.get("organisation") if request.user.is_superuser
                        else organisation_of(request.user))
        if not isinstance(organisation, Organisation):
            raise PermissionDenied("Choose the organisation.")
        try:
            subscription, secret = subscription_create(
                actor=actor_of(request.user), organisation=organisation,
                url=form.cleaned_data["url"], event_types=form.cleaned_data["events"],
                description=form.cleaned_data.get("description", ""))
        except (DomainError, NotAuthorised) as error:
            raise PermissionDenied(str(error)) from None
        obj.pk, obj.wrapped_secret = subscription.pk, subscription.wrapped_secret
        obj._state.adding, obj._state.db = False, subscription._state.db
        messages.warning(request, f"The signing secret of this endpoint, shown only now: "
                                  f"{secret}")


class AttemptInline(admin.TabularInline):
    model = DeliveryAttempt
    fields = ["number", "started_at", "status", "latency_ms", "error"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Delivery)
class DeliveryAdmin(ReadOnlyScopedAdmin):
    organisation_path = "subscription__organisation"
    list_display = ["event_type", "event_id", "endpoint", "state", "attempts", "last_status",
                    "last_latency_ms", "committed_at", "delivered_at"]
    list_filter = ["state", "event_type"]
    search_fields = ["event_id"]
    fields = ["subscription", "event_id", "event_type", "state", "attempts", "committed_at",
              "next_attempt_at", "lease_until", "delivered_at", "last_status", "last_latency_ms",
              "last_error", "body"]
    readonly_fields = fields
    inlines = [AttemptInline]
    actions = ["retry"]

    @admin.display(description="endpoint")
    def endpoint(self, delivery):
        return delivery.subscription.url

    @admin.action(description="Retry now", permissions=["view"])
    def retry(self, request, queryset):
        actor = actor_of(request.user)
        done = 0
        for delivery in queryset.select_related("subscription__organisation"):
            try:
                delivery_retry(actor=actor, delivery=delivery)
                done += 1
            except NotAuthorised as error:
                messages.error(request, str(error))
        messages.success(request, f"{done} deliveries queued again.")
