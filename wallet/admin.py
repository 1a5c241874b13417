from django.contrib import admin

from wallet.models import Member, Organisation


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

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        if request.user.is_superuser:
            return queryset
        return queryset.filter(members__user=request.user)
