from django.contrib import admin

from wallet.models import Member, Organisation
from wallet.services import organisation_ensure_key


class MemberInline(admin.TabularInline):
    model = Member
    extra = 0
    autocomplete_fields = ["user"]


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
