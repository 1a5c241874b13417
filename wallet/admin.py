from django.contrib import admin

from wallet.models import Member, Organisation
from wallet.services import organisation_ensure_key


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
