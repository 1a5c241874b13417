"""Admin scoping shared by every app: staff see only their organisation's rows."""

from django.contrib import admin

from wallet.tenancy.selectors import organisation_of


class OrganisationScopedAdmin(admin.ModelAdmin):
    """Staff see only their organisation's rows; another organisation's object is "not found".
    Superusers see everything, with the organisation as a column and a filter."""

    organisation_path: str  # the lookup from this model to its Organisation

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        if request.user.is_superuser:
            return queryset
        organisation = organisation_of(request.user)
        if organisation is None:
            return queryset.none()
        return queryset.filter(**{self.organisation_path: organisation})

    def get_list_display(self, request):
        columns = list(super().get_list_display(request))
        return [*columns, self.organisation_path] if request.user.is_superuser else columns

    def get_list_filter(self, request):
        filters = list(super().get_list_filter(request))
        return [*filters, self.organisation_path] if request.user.is_superuser else filters


class ReadOnlyScopedAdmin(OrganisationScopedAdmin):
    """Rows written only by services: viewable, never added, changed or deleted by hand."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
