"""Admin for manufacturer staff: products, passports and their audit trail.

Everything is scoped to the staff user's organisation (superusers see all). The admin stays
thin: forms parse input, services write (products, bulk import, issuance), selectors and
templates show. Passports, their events and restricted credentials are read-only here: they are
made by the issuance service, never edited by hand."""

from __future__ import annotations

import json
import secrets
from functools import cache

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.contrib.admin.widgets import AdminDateWidget
from django.core.cache import cache as shared_cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, OuterRef, Subquery
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import escape, format_html, format_html_join
from django.utils.http import content_disposition_header, urlencode
from django.utils.translation import gettext_lazy as _
from django_countries import countries

from core import qr
from core.errors import DomainError
from credentials.signing import decode_jwt_parts
from passports import categories, gs1
from passports import views as public_page
from passports.models import (
    EvidenceCredential,
    EvidenceLink,
    Passport,
    PassportEvent,
    Product,
    RestrictedCredential,
    SigningKey,
)
from passports.services import keys as key_service
from passports.services import selection_exports
from passports.services.batches import batch_progress
from passports.services.bulk_import import (
    MAX_FILE_BYTES,
    PRODUCT_COLUMNS,
    ImportFailed,
    errors_csv,
    import_format,
    import_template,
    products_check,
    products_import,
)
from passports.services.evidence import evidence_request, evidence_revoke
from passports.services.issuance import passports_request
from passports.services.products import (
    PRODUCT_FIELDS,
    attribute_error_key,
    product_attributes_clean,
    product_create,
    product_update,
)
from passports.services.selection_exports import passport_rows, product_rows
from passports.services.status import passports_change_status
from passports.services.verification import verify_passport_uncached
from wallet.tenancy.admin_pages import confirmation_page, is_confirmed
from wallet.tenancy.admin_scoping import OrganisationScopedAdmin, ReadOnlyScopedAdmin
from wallet.tenancy.authority import NotAuthorised, actor_of
from wallet.tenancy.models import Organisation
from wallet.tenancy.selectors import organisation_of

# UNECE Recommendation 20 codes of the category files, as people write them in a label.
UNIT_SYMBOLS = {"AMH": "Ah", "ANN": "years", "C62": "", "CEL": "°C", "KGM": "kg", "KWH": "kWh",
                "MIN": "min", "OHM": "Ω", "P1": "%", "VLT": "V", "WTT": "W"}
ACCESS_LABELS = dict(categories.ACCESS_GROUPS)
IMPORT_CACHE_PREFIX = "dpp-admin-import:"
IMPORT_CACHE_SECONDS = 3600
IMPORT_ERRORS_SESSION_KEY = "passports_import_errors"
BATCHES_SESSION_KEY = "passports_batches"
MAX_BATCHES = 20  # per session: the latest ones
PROGRESS_REFRESH_SECONDS = 2


# "View site" would lead to the service's root, which has no page for people: each passport links
# to its public page instead.
admin.site.site_url = None


# Scoping ---------------------------------------------------------------------------------------

class CompactLists:
    """The admin's stylesheet: list columns that keep the state in view (long names cut)."""

    class Media:
        css = {"all": ["passports/admin.css"]}


class IssuePermission:
    """Issuing creates passports: the permission to add one (and, checked when the action runs,
    an active mandate with the `passports:issue` scope)."""

    def has_issue_permission(self, request) -> bool:
        return request.user.has_perm("passports.add_passport")


def _admin_link(obj, text=None) -> str:
    url = reverse(f"admin:{obj._meta.app_label}_{obj._meta.model_name}_change", args=[obj.pk])
    return format_html('<a href="{}">{}</a>', url, text if text is not None else str(obj))


def _cut(text: str) -> str:
    """A long name in a list column: cut by the stylesheet (admin/passports/compact.css), the
    whole of it in the cell's tooltip."""
    return format_html('<span class="cut" title="{}">{}</span>', text, text)


def _pretty_json(value) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False, sort_keys=False)


# Product form: one field per category attribute -------------------------------------------------

def _attribute_label(attribute: categories.Attribute) -> str:
    unit = UNIT_SYMBOLS.get(attribute.unit, attribute.unit) if attribute.unit else None
    unit = unit or attribute.unit_text
    return f"{attribute.label} ({unit})" if unit else attribute.label


def _attribute_form_field(attribute: categories.Attribute) -> forms.Field:
    """A form field of the attribute's type. Required attributes are marked, but the category
    rules themselves are applied by the product service (see ProductForm.clean)."""
    help_text = escape(_("Access: %(group)s.") % {"group": ACCESS_LABELS[attribute.access]}
                       + (f" {attribute.source}" if attribute.source else ""))
    common = {"label": _attribute_label(attribute), "required": attribute.required,
              "help_text": help_text}
    kind = attribute.type
    if kind == "integer":
        return forms.IntegerField(min_value=attribute.min, max_value=attribute.max, **common)
    if kind == "decimal":
        return forms.DecimalField(min_value=attribute.min, max_value=attribute.max, **common)
    if kind == "boolean":
        return forms.NullBooleanField(**common)  # unknown, yes or no: "no" is a statement
    if kind == "date":
        return forms.DateField(widget=AdminDateWidget, **common)
    if kind == "month":
        return forms.CharField(widget=forms.TextInput(attrs={"type": "month",
                                                             "placeholder": "YYYY-MM"}),
                               **common)
    if kind == "url":
        return forms.URLField(assume_scheme="https", max_length=categories.MAX_URL_LENGTH,
                              widget=forms.URLInput(attrs={"class": "vURLField"}), **common)
    if kind == "enum":
        return forms.ChoiceField(choices=[("", "---------"), *((c, c) for c in attribute.choices)],
                                 **common)
    return forms.CharField(max_length=categories.MAX_TEXT_LENGTH,
                           widget=forms.TextInput(attrs={"class": "vTextField"}), **common)


def _country_choices():
    """ISO 3166-1 countries by name in the page's language (django-countries sorts them)."""
    return [("", "---------"), *countries]


def _category_label(category: categories.Category) -> str:
    """The category's name in the page's language (the public page's words)."""
    return str(public_page.CATEGORY_LABELS.get(category.name, category.label))


def _category_choices():
    return [(name, _category_label(category))
            for name, category in categories.categories().items()]


class ProductForm(forms.ModelForm):
    """The product's own fields plus, for its category, one field per attribute, named like the
    service's error keys (`attributes.<key>`) so every error lands next to its field."""

    category_definition: categories.Category | None = None
    category = forms.ChoiceField(label=_("Category"), choices=_category_choices)
    # Chosen by name (in the page's language) among the ISO 3166-1 countries, stored as the
    # two-letter code: typing "Netherlands" into a 2-character box made it "NE" (Niger).
    country_of_production = forms.ChoiceField(label=_("Country of production"),
                                              required=False, choices=_country_choices)
    facility_id = forms.URLField(  # declared only to pick https for a URL typed without scheme
        label=_("Facility ID"), required=False, assume_scheme="https",
        max_length=Product._meta.get_field("facility_id").max_length,
        help_text=Product._meta.get_field("facility_id").help_text)

    class Meta:
        model = Product
        fields = ["organisation", *PRODUCT_FIELDS]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        stored = self.instance.attributes or {}
        for key in self.attribute_keys():
            if key in stored:
                self.initial.setdefault(attribute_error_key(key), stored[key])
        self.cleaned_attributes: dict = {}

    def attribute_keys(self) -> tuple[str, ...]:
        return self.category_definition.keys if self.category_definition else ()

    def clean_gtin(self):
        return gs1.normalise_gtin(self.cleaned_data["gtin"])  # GTIN-8/12/13 → 14 digits

    def clean(self):
        cleaned_data = super().clean()
        if self.category_definition is None:
            return cleaned_data
        values = {key: cleaned_data.get(attribute_error_key(key)) for key in self.attribute_keys()}
        try:
            self.cleaned_attributes = product_attributes_clean(
                category=self.category_definition, attributes=values)
        except ValidationError as invalid:
            for field, field_messages in invalid.message_dict.items():
                if field not in self.errors:  # the form field may already have said it
                    self.add_error(field if field in self.fields else None, field_messages)
        self.instance.attributes = self.cleaned_attributes
        return cleaned_data

    def product_fields(self) -> dict:
        """Keyword arguments for product_create / product_update."""
        fields = {name: self.cleaned_data[name] for name in PRODUCT_FIELDS
                  if name in self.cleaned_data}
        return {**fields, "attributes": self.cleaned_attributes}


@cache
def product_form_for(category_name: str | None, version: int | None) -> type[ProductForm]:
    """A ProductForm subclass declaring the attribute fields of one category version."""
    if category_name is None:
        return ProductForm
    definition = categories.get(category_name, version)
    attribute_fields = {attribute_error_key(item.key): _attribute_form_field(item)
                        for item in definition.attributes}
    return type(f"{category_name.title()}V{version}ProductForm", (ProductForm,),
                {"category_definition": definition, **attribute_fields})


class ProductImportForm(forms.Form):
    file = forms.FileField(help_text=_("CSV (comma, semicolon or tab separated, UTF-8) or JSON "
                                       "(a list of objects)."))
    organisation = forms.ModelChoiceField(queryset=Organisation.objects.all())
    issue = forms.BooleanField(required=False,
                               label=_("Also issue a passport for every imported product"))

    def __init__(self, *args, choose_organisation: bool, **kwargs):
        super().__init__(*args, **kwargs)
        if not choose_organisation:  # staff import into their own organisation
            del self.fields["organisation"]

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_FILE_BYTES:
            raise ValidationError(_("The file is larger than %(size)d MB.")
                                  % {"size": MAX_FILE_BYTES // 2**20})
        return upload


@cache
def attribute_filter(attribute: categories.Attribute) -> type[admin.SimpleListFilter]:
    """A list filter on one category attribute of a fixed set of values."""
    values = ([(choice, choice) for choice in attribute.choices] if attribute.type == "enum"
              else [("true", _("Yes")), ("false", _("No"))])

    def queryset(self, request, products):
        chosen = self.value()
        if chosen is None:
            return products
        wanted = {"true": True, "false": False}[chosen] if attribute.type == "boolean" else chosen
        return products.filter(**{f"attributes__{attribute.key}": wanted})

    return type(f"{attribute.key}Filter", (admin.SimpleListFilter,), {
        "title": attribute.label, "parameter_name": f"attr_{attribute.key}",
        "lookups": lambda self, request, model_admin: values, "queryset": queryset})


# Products --------------------------------------------------------------------------------------

@admin.register(Product)
class ProductAdmin(CompactLists, IssuePermission, OrganisationScopedAdmin):
    organisation_path = "organisation"
    change_list_template = "admin/passports/product/change_list.html"
    list_display = ["gtin", "lot", "serial", "category", "passport_state", "updated_at",
                    "product_name"]
    list_display_links = ["gtin"]
    list_filter = ["category"]
    search_fields = ["gtin", "serial", "lot", "name"]
    search_help_text = _("GTIN, serial, lot or name; or an attribute as key=value, e.g. "
                         "batteryChemistry=NMC811.")
    actions = ["issue_passport", "print_labels", "export_csv", "export_json"]

    def get_queryset(self, request):
        latest_passport = Passport.objects.filter(product=OuterRef("pk")).order_by("-version")
        return (super().get_queryset(request).select_related("organisation")
                .annotate(latest_passport_state=Subquery(latest_passport.values("state")[:1])))

    @admin.display(description=_("Passport"), ordering="latest_passport_state")
    def passport_state(self, product):
        return product.latest_passport_state or "–"

    @admin.display(description=_("Name"), ordering="name")
    def product_name(self, product):
        return _cut(product.name)

    def get_list_filter(self, request):
        """With a category chosen, a filter per attribute of a fixed set of values (its enums
        and yes/no attributes)."""
        try:
            category = categories.get(request.GET.get("category__exact", ""))
        except categories.UnknownCategory:
            return self.list_filter
        return [*self.list_filter, *(attribute_filter(item) for item in category.attributes
                                     if item.type in ("enum", "boolean"))]

    def get_search_results(self, request, queryset, search_term):
        """`key=value` searches a category attribute (case-insensitive, the whole value)."""
        key, equals, value = search_term.partition("=")
        if equals and key.strip().isidentifier() and value.strip():
            return queryset.filter(**{f"attributes__{key.strip()}__iexact":
                                      value.strip()}), False
        return super().get_search_results(request, queryset, search_term)

    def has_add_permission(self, request):
        # A staff user outside any organisation has nowhere to put a product.
        return super().has_add_permission(request) and (
            request.user.is_superuser or organisation_of(request.user) is not None)

    # The form follows the product's category ---------------------------------------------------

    def _form_category(self, request, product) -> categories.Category | None:
        """The category whose attribute fields the form shows: the one being submitted or asked
        for, else the product's (at the version it was described with)."""
        name = (request.POST.get("category") or request.GET.get("category")
                or (product.category if product else ""))
        version = product.category_version if product and name == product.category else None
        try:
            return categories.get(name, version)
        except categories.UnknownCategory:
            return None

    def get_form(self, request, obj=None, change=False, **kwargs):
        category = self._form_category(request, obj)
        kwargs["form"] = product_form_for(category.name if category else None,
                                          category.version if category else None)
        return super().get_form(request, obj, change, **kwargs)

    def get_fieldsets(self, request, obj=None):
        identity = ["gtin", "lot", "serial", "name", "description", "category"]
        if request.user.is_superuser:  # staff products always belong to the staff's organisation
            identity.insert(0, "organisation")
        fieldsets = [
            (None, {"fields": identity}),
            (_("Production"), {"fields": ["facility_name", "facility_id", "country_of_production",
                                       "production_date"]}),
        ]
        category = self._form_category(request, obj)
        if category is not None:
            sections: dict[str, list[categories.Attribute]] = {}
            for item in category.attributes:
                sections.setdefault(item.section or _("Attributes"), []).append(item)
            for section, items in sections.items():
                # Sections without a required attribute start folded: a battery has 93 fields.
                folded = [] if any(item.required for item in items) else ["collapse"]
                fieldsets.append((f"{_category_label(category)}: {section}", {
                    "fields": [attribute_error_key(item.key) for item in items],
                    "classes": folded}))
        if obj is not None:
            fieldsets.append((_("Passport"), {"fields": ["category_version", "passport_versions",
                                                      "qr_code"]}))
        return fieldsets

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return []
        # A product never moves between organisations: its passports are signed by its owner.
        return ["organisation", "category_version", "passport_versions", "qr_code"]

    def add_view(self, request, form_url="", extra_context=None):
        if request.method == "GET" and self._form_category(request, None) is None:
            return self.choose_category_view(request)
        return super().add_view(request, form_url, extra_context)

    def choose_category_view(self, request):
        """The attribute fields depend on the category, so it is chosen first."""
        if not self.has_add_permission(request):
            raise PermissionDenied
        choices = []
        for name, category in categories.categories().items():
            query = request.GET.copy()
            query["category"] = name
            choices.append((category, _category_label(category), f"?{query.urlencode()}"))
        context = {**self.admin_site.each_context(request), "opts": self.opts,
                   "title": _("Add product: choose its category"), "choices": choices}
        return TemplateResponse(request, "admin/passports/product/choose_category.html", context)

    def save_model(self, request, obj, form, change):
        fields = form.product_fields()
        if change:
            product_update(product=Product.objects.get(pk=obj.pk), **fields)
            if obj.passports.filter(state=Passport.State.ISSUED).exists():
                self.message_user(request, _("The issued passport still carries the previous "
                                             "data: issue a new version with “Issue passport”."),
                                  messages.WARNING)
            return
        organisation = form.cleaned_data.get("organisation") or organisation_of(request.user)
        created = product_create(organisation=organisation, **fields)
        # The admin goes on with `obj` (change message, redirect): make it the stored row.
        obj.pk = created.pk
        obj.refresh_from_db()

    @admin.display(description=_("Passport versions"))
    def passport_versions(self, product):
        passports = product.passports.order_by("-version")
        if not passports:
            return "None yet: select the product in the list and use “Issue passport”."
        return format_html("<ul>{}</ul>", format_html_join(
            "", "<li>{} {}</li>",
            ((_admin_link(p, f"v{p.version}"), p.get_state_display()) for p in passports)))

    @admin.display(description=_("QR code"))
    def qr_code(self, product):
        return _qr_html(product)

    # Actions -----------------------------------------------------------------------------------

    @admin.action(description=_("Issue passport"), permissions=["issue"])
    def issue_passport(self, request, queryset):
        return request_passports(self, request, queryset, reason="issued in the admin")

    @admin.action(description=_("Export as CSV (the import's format)"))
    def export_csv(self, request, queryset):
        return export_response(*product_rows(queryset.order_by("pk")), "csv", "products")

    @admin.action(description=_("Export as JSON (the import's format)"))
    def export_json(self, request, queryset):
        return export_response(*product_rows(queryset.order_by("pk")), "json", "products")

    @admin.action(description=_("Print QR labels"))
    def print_labels(self, request, queryset):
        ids = ",".join(str(pk) for pk in queryset.values_list("pk", flat=True))
        return HttpResponseRedirect(f"{reverse('passports-labels')}?ids={ids}")

    # Extra views: bulk import and QR codes ------------------------------------------------------

    def get_urls(self):
        info = self.opts.app_label, self.opts.model_name
        view = self.admin_site.admin_view
        return [
            path("import/", view(self.import_view), name="{}_{}_import".format(*info)),
            path("import/errors.csv", view(self.import_errors_view),
                 name="{}_{}_import_errors".format(*info)),
            path("import/template/<slug:category>.csv", view(self.import_template_view),
                 name="{}_{}_import_template".format(*info)),
            path("<path:object_id>/qr.svg", view(self.qr_view), {"kind": "svg"},
                 name="{}_{}_qr_svg".format(*info)),
            path("<path:object_id>/qr.png", view(self.qr_view), {"kind": "png"},
                 name="{}_{}_qr_png".format(*info)),
            *super().get_urls(),
        ]

    def import_view(self, request):
        """Upload → every error of the file listed (and downloadable), nothing stored → once
        the file has none, a review of what will be imported → import. Between the last two
        steps the checked file waits in the cache under a random token (an hour)."""
        if not self.has_add_permission(request):
            raise PermissionDenied
        choose_organisation = request.user.is_superuser
        context = {
            **self.admin_site.each_context(request), "opts": self.opts,
            "title": _("Import products"), "errors": [], "ready": None,
            "product_columns": PRODUCT_COLUMNS, "categories": categories.categories().values(),
        }
        if request.method == "POST" and request.POST.get("token"):
            response = self._import_checked(request, request.POST["token"])
            if response is not None:
                return response
        if request.method == "POST" and not request.POST.get("token"):
            form = ProductImportForm(request.POST, request.FILES,
                                     choose_organisation=choose_organisation)
        else:
            form = ProductImportForm(choose_organisation=choose_organisation)
        if form.is_bound and form.is_valid():
            upload = form.cleaned_data["file"]
            organisation = form.cleaned_data.get("organisation") or organisation_of(request.user)
            data = upload.read()
            try:
                file_format = import_format(upload.name)
                count = products_check(organisation=organisation, data=data,
                                       format=file_format, actor=actor_of(request.user),
                                       issue=form.cleaned_data["issue"])
            except ImportFailed as failed:
                context["errors"] = failed.errors
                request.session[IMPORT_ERRORS_SESSION_KEY] = failed.errors
            except NotAuthorised as refused:
                self.message_user(request, refused.detail, messages.ERROR)
            else:
                token = secrets.token_urlsafe(24)
                shared_cache.set(f"{IMPORT_CACHE_PREFIX}{token}", {
                    "user": request.user.pk, "organisation": organisation.pk, "data": data,
                    "format": file_format, "name": upload.name}, IMPORT_CACHE_SECONDS)
                context["ready"] = {"token": token, "count": count, "name": upload.name,
                                    "organisation": organisation,
                                    "issue": form.cleaned_data["issue"]}
        context["form"] = form
        return TemplateResponse(request, "admin/passports/product/import.html", context)

    def _import_checked(self, request, token: str):
        """Import the file checked under `token` (only by who checked it); None: start over."""
        checked = shared_cache.get(f"{IMPORT_CACHE_PREFIX}{token}")
        if not checked or checked["user"] != request.user.pk:
            self.message_user(request, _("The checked file is no longer here: upload it "
                                         "again."), messages.WARNING)
            return None
        issue = request.POST.get("issue") == "on"
        try:
            products = products_import(
                organisation=Organisation.objects.get(pk=checked["organisation"]),
                data=checked["data"], format=checked["format"], issue=issue,
                actor=actor_of(request.user))
        except ImportFailed as failed:  # changed meanwhile (e.g. a key stored since)
            request.session[IMPORT_ERRORS_SESSION_KEY] = failed.errors
            self.message_user(request, _("The file has errors now: check it again."),
                              messages.ERROR)
            return None
        except NotAuthorised as refused:
            self.message_user(request, refused.detail, messages.ERROR)
            return None
        shared_cache.delete(f"{IMPORT_CACHE_PREFIX}{token}")
        if issue:
            self.message_user(request, _("Imported %(count)d product(s) and requested their "
                                         "passports.") % {"count": len(products)},
                              messages.SUCCESS)
            return HttpResponseRedirect(batch_url(request, [p.pk for p in products]))
        self.message_user(request, _("Imported %(count)d product(s).") % {
            "count": len(products)}, messages.SUCCESS)
        return HttpResponseRedirect(reverse("admin:passports_product_changelist"))

    def import_errors_view(self, request):
        """The errors of the last file this user checked, as CSV."""
        if not self.has_add_permission(request):
            raise PermissionDenied
        errors = request.session.get(IMPORT_ERRORS_SESSION_KEY) or []
        response = HttpResponse(errors_csv(errors), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = content_disposition_header(True, "import-errors.csv")
        return response

    def import_template_view(self, request, category):
        """A CSV file to start an import of `category` from, made from its category file."""
        try:
            definition = categories.get(category)
        except categories.UnknownCategory:
            raise Http404("No such category.") from None
        response = HttpResponse(import_template(definition), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = content_disposition_header(
            True, f"products-{definition.name}-v{definition.version}.csv")
        return response

    def qr_view(self, request, object_id, kind):
        product = self.get_object(request, unquote(object_id))
        if product is None or not self.has_view_permission(request, product):
            raise Http404("No such product.")
        try:
            scale = int(request.GET.get("scale", qr.DEFAULT_SCALE))
            body = (qr.product_qr_svg(product, scale=scale) if kind == "svg"
                    else qr.product_qr_png(product, scale=scale))
        except ValueError as invalid:
            return HttpResponse(str(invalid), status=400, content_type="text/plain")
        response = HttpResponse(body, content_type="image/svg+xml" if kind == "svg"
                                else "image/png")
        if request.GET.get("download"):
            name = "-".join(part for part in ("qr", product.gtin, product.lot, product.serial)
                            if part)
            response["Content-Disposition"] = content_disposition_header(True, f"{name}.{kind}")
        return response


def request_passports(model_admin, request, products, *, reason: str):
    """Request the next passport version of `products`, say how many and follow their signing
    on the batch's progress page. A product whose passport is still being signed is skipped
    (by the issuance service, under the products' locks): a second click must not make a
    second version. Who may issue is the issuance service's to decide too (a refusal is shown,
    nothing changes)."""
    products = list(products)
    try:
        created = passports_request(products=products, actor=actor_of(request.user),
                                    reason=reason)
    except NotAuthorised as refused:
        model_admin.message_user(request, refused.detail, messages.ERROR)
        return None
    skipped = len(products) - len(created)
    text = _("Requested %(count)d passport(s); they are signed in the background.") % {
        "count": len(created)}
    if skipped:
        text += " " + _("Skipped %(count)d product(s) whose passport is still pending.") % {
            "count": skipped}
    model_admin.message_user(request, text, messages.SUCCESS if created else messages.WARNING)
    return (HttpResponseRedirect(batch_url(request, [p.product_id for p in created]))
            if created else None)


def export_response(columns: list[str], rows: list[dict], format: str, name: str):
    """The selected rows as a file to download (passports/services/selection_exports.py)."""
    response = HttpResponse(selection_exports.render(columns, rows, format),
                            content_type=selection_exports.FORMATS[format])
    response["Content-Disposition"] = content_disposition_header(True, f"{name}.{format}")
    return response


def batch_url(request, product_ids: list[int]) -> str:
    """The progress page of passports just requested for `product_ids`. The batch is kept in
    the staff member's session (the latest MAX_BATCHES), so its link names no product."""
    batches = request.session.get(BATCHES_SESSION_KEY, {})
    token = secrets.token_urlsafe(9)
    batches[token] = product_ids
    request.session[BATCHES_SESSION_KEY] = dict(list(batches.items())[-MAX_BATCHES:])
    return reverse("admin:passports_passport_progress", args=[token])


def _qr_html(product) -> str:
    """The QR code image with its download links (SVG for print, PNG at 300 dpi)."""
    def url(kind, **query):
        base = reverse(f"admin:passports_product_qr_{kind}", args=[product.pk])
        return f"{base}?{urlencode(query)}" if query else base

    return format_html(
        '<img src="{}" width="164" height="164" alt="QR code of {}"><br>{}<br>'
        '<a href="{}">SVG</a> · <a href="{}">PNG</a> · <a href="{}">PNG, large</a>',
        url("svg"), product.digital_link, product.digital_link,
        url("svg", download=1), url("png", download=1), url("png", download=1, scale=20))


# Passports -------------------------------------------------------------------------------------

class StatusChangeForm(forms.Form):
    """The confirmation of a revoke, suspend or reinstate: what will change, and why. The reason
    is recorded in the passport's events and shown by the verifier, so it is required where the
    passport stops being valid."""

    reason = forms.CharField(max_length=500, label=_("Reason (recorded and shown to verifiers)"),
                             widget=forms.Textarea(attrs={"rows": 3, "cols": 60}))

    def __init__(self, *args, reason_required: bool, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["reason"].required = reason_required


# What each status action does, as the confirmation page says it.
STATUS_ACTIONS = {
    "revoke": {"verb": _("Revoke"), "reason_required": True,
               "warning": _("Revocation is permanent: the passports can never be valid again. "
                            "Verifiers see “revoked” and your reason from now on.")},
    "suspend": {"verb": _("Suspend"), "reason_required": True,
                "warning": _("Verifiers see “suspended” and your reason until you reinstate "
                             "the passports.")},
    "reinstate": {"verb": _("Reinstate"), "reason_required": False,
                  "warning": _("Suspended passports become valid again. Revoked ones stay "
                               "revoked.")},
}


@admin.register(Passport)
class PassportAdmin(CompactLists, IssuePermission, ReadOnlyScopedAdmin):
    organisation_path = "product__organisation"
    change_form_template = "admin/passports/passport/change_form.html"
    change_list_template = "admin/passports/passport/change_list.html"
    # Compact columns: the state must stay in view at 1280 px next to the filters, so the long
    # product name comes last and is cut (CSS, with the full name as the cell's title).
    list_display = ["gtin", "serial", "version", "state", "issued_at", "product_name"]
    list_display_links = ["gtin"]
    list_filter = ["state", "product__category"]
    list_select_related = ["product__organisation"]
    search_fields = ["product__gtin", "product__serial", "product__lot", "product__name",
                     "=state"]
    fields = ["product_link", "version", "state", "state_reason", "issued_at", "superseded_by",
              "status_list", "status_index", "created_at", "updated_at"]
    readonly_fields = fields
    # Lifecycle actions: each calls one service for the selected passports.
    actions = ["reissue", "revoke", "suspend", "reinstate", "export_csv", "export_json"]

    @admin.display(description=_("GTIN"), ordering="product__gtin")
    def gtin(self, passport):
        return passport.product.gtin

    @admin.display(ordering="product__serial")
    def serial(self, passport):
        return passport.product.serial

    @admin.display(description=_("Product"))
    def product_link(self, passport):
        return _admin_link(passport.product)

    @admin.display(description=_("Product"), ordering="product__name")
    def product_name(self, passport):
        return _cut(passport.product.name)

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("product__organisation",
                                                            "superseded_by")

    @admin.action(description=_("Re-issue (new version)"), permissions=["issue"])
    def reissue(self, request, queryset):
        products = Product.objects.filter(pk__in=queryset.values("product_id"))
        return request_passports(self, request, products, reason="re-issued in the admin")

    @admin.action(description=_("Export as CSV"))
    def export_csv(self, request, queryset):
        return export_response(*passport_rows(queryset.order_by("product_id", "version")),
                               "csv", "passports")

    @admin.action(description=_("Export as JSON"))
    def export_json(self, request, queryset):
        return export_response(*passport_rows(queryset.order_by("product_id", "version")),
                               "json", "passports")

    def get_urls(self):
        return [path("progress/<str:token>/", self.admin_site.admin_view(self.progress_view),
                     name="passports_passport_progress"), *super().get_urls()]

    def progress_view(self, request, token):
        """How far the signing of a batch got. Until nothing is pending the page reloads itself
        every PROGRESS_REFRESH_SECONDS (a meta refresh: no script)."""
        product_ids = request.session.get(BATCHES_SESSION_KEY, {}).get(token)
        if product_ids is None:
            raise Http404("No such batch in this session.")
        # Scoped like the lists: only this staff member's organisation's products count.
        visible = list(Product.objects.filter(
            pk__in=product_ids, **({} if request.user.is_superuser else
                                   {"organisation": organisation_of(request.user)}))
            .values_list("pk", flat=True))
        progress = batch_progress(visible)
        context = {**self.admin_site.each_context(request), "opts": self.opts,
                   "title": _("Passports being issued"), "progress": progress,
                   "refresh": None if progress.done else PROGRESS_REFRESH_SECONDS,
                   "states": [(label, progress.counts.get(value, 0))
                              for value, label in Passport.State.choices]}
        return TemplateResponse(request, "admin/passports/passport/progress.html", context)

    @admin.action(description=_("Revoke (permanent) …"), permissions=["revoke"])
    def revoke(self, request, queryset):
        return self._change_status(request, queryset, "revoke")

    @admin.action(description=_("Suspend …"), permissions=["revoke"])
    def suspend(self, request, queryset):
        return self._change_status(request, queryset, "suspend")

    @admin.action(description=_("Reinstate (lift a suspension) …"), permissions=["revoke"])
    def reinstate(self, request, queryset):
        return self._change_status(request, queryset, "reinstate")

    def has_revoke_permission(self, request) -> bool:
        """Revoking, suspending and reinstating change a passport (and, checked when the action
        runs, need an active mandate with the `passports:revoke` scope)."""
        return request.user.has_perm("passports.change_passport")

    def _change_status(self, request, queryset, action: str):
        """First a page naming the passports and what will happen to them, with the reason to
        give; the change itself only once that page is submitted with a valid reason."""
        passports = list(queryset.select_related("product"))
        confirmed = is_confirmed(request, action)
        form = StatusChangeForm(request.POST if confirmed else None,
                                reason_required=STATUS_ACTIONS[action]["reason_required"])
        if not (confirmed and form.is_valid()):
            verb = STATUS_ACTIONS[action]["verb"]
            return confirmation_page(
                self, request, template="admin/passports/passport/confirm_status.html",
                action=action, selected=passports, form=form, verb=verb,
                title=_("%(verb)s %(count)d passport(s)?") % {"verb": verb,
                                                              "count": len(passports)},
                warning=STATUS_ACTIONS[action]["warning"], passports=passports)
        reason = form.cleaned_data["reason"].strip() or "via admin"
        try:
            outcome = passports_change_status(passports=[p.pk for p in passports],
                                              action=action, actor=actor_of(request.user),
                                              reason=reason)
        except NotAuthorised as refused:
            self.message_user(request, refused.detail, messages.ERROR)
            return None
        done = {"revoke": _("Revoked %(count)d passport(s)."),
                "suspend": _("Suspended %(count)d passport(s)."),
                "reinstate": _("Reinstated %(count)d passport(s).")}[action]
        text = done % {"count": len(outcome.changed)}
        if outcome.unchanged:
            text += " " + _("%(count)d already were.") % {"count": len(outcome.unchanged)}
        self.message_user(request, text, messages.SUCCESS if outcome.changed else messages.INFO)
        for _passport, refusal in outcome.refused[:10]:
            self.message_user(request, refusal.detail, messages.ERROR)
        if len(outcome.refused) > 10:
            self.message_user(request, _("… and %(count)d more refused.")
                              % {"count": len(outcome.refused) - 10}, messages.ERROR)
        return None

    def changelist_view(self, request, extra_context=None):
        counts = dict(self.get_queryset(request).order_by().values_list("state")
                      .annotate(count=Count("pk")))
        progress = [{"state": value, "label": label, "count": counts.get(value, 0)}
                    for value, label in Passport.State.choices]
        return super().changelist_view(request, {**(extra_context or {}),
                                                 "issuance_progress": progress})

    def change_view(self, request, object_id, form_url="", extra_context=None):
        passport = self.get_object(request, unquote(object_id))
        extra = passport_details(passport) if passport is not None else {}
        return super().change_view(request, object_id, form_url,
                                   {**(extra_context or {}), **extra})


def passport_details(passport: Passport) -> dict:
    """What the passport page shows below its fields: the product's versions, the events, the
    credential (for a vc+jwt, its decoded header and payload) and the QR code."""
    details = {
        "versions": passport.product.passports.order_by("-version"),
        "events": [(event, authority_text(event)) for event in
                   passport.events.select_related("actor").order_by("-created_at", "-pk")],
        "restricted": passport.restricted_credentials.order_by("access_group"),
        "qr": _qr_html(passport.product),
        "public_page": passport.product.digital_link,
        **passport_verdict(passport),
    }
    if passport.jwt:
        try:
            header, payload = decode_jwt_parts(passport.jwt)
        except ValueError:  # includes malformed JSON; only shown, never trusted
            details["jwt_error"] = "The stored JWT cannot be decoded."
        else:
            details["jwt_header"], details["jwt_payload"] = (_pretty_json(header),
                                                             _pretty_json(payload))
        details["jwt"] = passport.jwt
    if passport.embedded:
        details["embedded"] = _pretty_json(passport.embedded)
    return details


def passport_verdict(passport: Passport) -> dict:
    """The verdict of the public page's verifier on this version, in the page's words: its
    badge (verified, revoked, suspended, superseded or cannot verify) and one line per check."""
    if not public_page.signed(passport):
        return {"verdict_badge": None}
    verdict = verify_passport_uncached(passport)
    shown = public_page.badge(verdict, passport)
    return {"verdict_badge": {**shown, "label": public_page.BADGE_LABELS[shown["kind"]]},
            "verdict_lines": public_page.check_lines(verdict)}


def authority_text(event: PassportEvent) -> str:
    """What entitled the event's actor, from its recorded details: the mandate (linked), the
    operator, or membership alone; and the API key, if one was used."""
    details = event.details or {}
    kind = details.get("authority")
    if kind == "mandate" and details.get("mandate"):
        url = reverse("admin:wallet_mandate_change", args=[details["mandate"]])
        text = format_html('<a href="{}">{}</a>', url, _("Mandate #%(number)s (%(scope)s)") % {
            "number": details["mandate"], "scope": details.get("scope", "")})
    elif kind == "operator":
        text = _("Service operator")
    elif kind == "member":
        text = _("Member (no mandate needed)")
    else:
        return "–"
    if details.get("api_key"):
        text = format_html("{} · {}", text, _("API key %(prefix)s…") % {
            "prefix": details["api_key"]})
    return text


@admin.register(PassportEvent)
class PassportEventAdmin(CompactLists, ReadOnlyScopedAdmin):
    organisation_path = "passport__product__organisation"
    ordering = ["-created_at", "-pk"]  # the latest first, as on the passport page
    list_display = ["created_at", "action", "from_state", "to_state", "actor", "authority",
                    "passport_short"]
    list_filter = ["action", "to_state"]
    list_select_related = ["passport__product__organisation", "actor"]
    search_fields = ["passport__product__gtin", "passport__product__serial", "action"]
    fields = ["passport", "action", "from_state", "to_state", "actor", "reason",
              "details_json", "created_at"]
    readonly_fields = fields

    @admin.display(description=_("Passport"), ordering="passport__product__gtin")
    def passport_short(self, event):
        product = event.passport.product
        keys = "/".join(part for part in (product.gtin, product.serial or product.lot) if part)
        return _cut(f"{keys} v{event.passport.version} · {product.name}")

    @admin.display(description=_("Authority"))
    def authority(self, event):
        return authority_text(event)

    @admin.display(description=_("Details"))
    def details_json(self, event):
        return format_html("<pre>{}</pre>", _pretty_json(event.details))


@admin.register(RestrictedCredential)
class RestrictedCredentialAdmin(ReadOnlyScopedAdmin):
    organisation_path = "passport__product__organisation"
    list_display = ["passport", "access_group"]  # never the JWT: it is the restricted data
    list_filter = ["access_group"]
    list_select_related = ["passport__product__organisation"]
    search_fields = ["passport__product__gtin", "passport__product__serial"]
    fields = ["passport", "access_group", "decoded"]
    readonly_fields = fields

    @admin.display(description=_("Credential (decoded vc+jwt)"))
    def decoded(self, credential):
        try:
            header, payload = decode_jwt_parts(credential.jwt)
        except ValueError:
            return "The stored JWT cannot be decoded."
        return format_html("<pre>{}</pre><pre>{}</pre>", _pretty_json(header),
                           _pretty_json(payload))


# Entitlements (partner API) ---------------------------------------------------------------------

from passports.models import Entitlement  # noqa: E402 - kept with its admin, a block of its own


@admin.register(Entitlement)
class EntitlementAdmin(OrganisationScopedAdmin):
    """Which partner organisations may read which restricted access group of this
    manufacturer's passports through the API. Staff give them for their own organisation."""

    organisation_path = "manufacturer"
    list_display = ["partner", "access_group", "created_by", "created_at"]
    list_filter = ["access_group"]
    list_select_related = ["manufacturer", "partner", "created_by"]
    search_fields = ["partner__legal_name", "partner__slug"]

    def get_fields(self, request, obj=None):
        fields = ["partner", "access_group"]
        if request.user.is_superuser:
            fields.insert(0, "manufacturer")
        return fields if obj is None else [*fields, "created_by", "created_at"]

    def get_readonly_fields(self, request, obj=None):
        # An entitlement is given or taken away (deleted), never turned into another one.
        return [] if obj is None else self.get_fields(request, obj)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "partner" and not request.user.is_superuser:
            own = organisation_of(request.user)
            kwargs["queryset"] = Organisation.objects.exclude(pk=getattr(own, "pk", None))
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def has_add_permission(self, request):
        return super().has_add_permission(request) and (
            request.user.is_superuser or organisation_of(request.user) is not None)

    def save_model(self, request, obj, form, change):
        if not change:
            if not request.user.is_superuser:
                obj.manufacturer = organisation_of(request.user)
            obj.created_by = request.user
        super().save_model(request, obj, form, change)


# Signing keys ----------------------------------------------------------------------------------

class KeyCompromiseForm(forms.Form):
    """The confirmation of a key compromise: from when, and why (shown to verifiers)."""

    since = forms.DateTimeField(
        label=_("Compromised since (date and time, UTC)"),
        help_text=_("Everything signed with these keys after this moment fails verification."))
    reason = forms.CharField(max_length=500, label=_("Reason (recorded and shown to verifiers)"),
                             widget=forms.Textarea(attrs={"rows": 3, "cols": 60}))


@admin.register(SigningKey)
class SigningKeyAdmin(admin.ModelAdmin):
    """An organisation's signing keys, read-only, with the two key actions: rotate, and declare
    compromised. Each acts on the organisations of the selected keys, through one service."""

    list_display = ["key", "type", "created", "retired", "compromised"]
    fields = ["key", "type", "public_key", "created", "retired", "compromised", "reason"]
    readonly_fields = fields
    actions = ["rotate", "compromise"]

    @admin.display(description=_("Key"))
    def key(self, key):
        return key.verification_method

    @admin.display(description=_("Type"))
    def type(self, key):
        return key.key_type

    @admin.display(description=_("Public key"))
    def public_key(self, key):
        return key.public_key_multibase

    @admin.display(description=_("Created"), ordering="created_at")
    def created(self, key):
        return key.created_at

    @admin.display(description=_("Retired (verifies what it signed)"))
    def retired(self, key):
        return key.retired_at

    @admin.display(description=_("Compromised since"))
    def compromised(self, key):
        return key.compromised_at

    @admin.display(description=_("Reason"))
    def reason(self, key):
        return key.compromise_reason

    def get_queryset(self, request):
        queryset = super().get_queryset(request).filter(controller__startswith="did:web:")
        if request.user.is_superuser:
            return queryset
        organisation = organisation_of(request.user)
        return queryset.filter(controller=organisation.did) if organisation else queryset.none()

    def has_view_permission(self, request, obj=None):
        return request.user.has_perm("passports.view_passport")

    def has_module_permission(self, request):
        return self.has_view_permission(request)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_keys_permission(self, request) -> bool:
        """Rotating and declaring a compromise re-sign in the organisation's name (checked when
        the action runs: an active mandate with the `passports:issue` scope)."""
        return request.user.has_perm("passports.add_passport")

    @staticmethod
    def _organisations(queryset) -> list[Organisation]:
        dids = set(queryset.values_list("controller", flat=True))
        return [org for org in Organisation.objects.order_by("slug") if org.did in dids]

    @admin.action(description=_("Rotate the signing keys …"), permissions=["keys"])
    def rotate(self, request, queryset):
        return self._key_action(request, queryset, "rotate")

    @admin.action(description=_("Declare the signing keys compromised …"), permissions=["keys"])
    def compromise(self, request, queryset):
        return self._key_action(request, queryset, "compromise")

    def _key_action(self, request, queryset, action: str):
        """First a page saying what will happen (for a compromise: from when, and why); the
        change only once that page is submitted."""
        organisations = self._organisations(queryset)
        confirmed = is_confirmed(request, action)
        form = KeyCompromiseForm(request.POST if confirmed else None) if action == "compromise" \
            else None
        if not confirmed or (form is not None and not form.is_valid()):
            return confirmation_page(
                self, request, template="admin/passports/signingkey/confirm.html",
                action=action, selected=queryset, form=form, title=KEY_ACTIONS[action]["title"],
                warning=KEY_ACTIONS[action]["warning"], verb=KEY_ACTIONS[action]["verb"],
                organisations=organisations)
        actor = actor_of(request.user)
        for organisation in organisations:
            try:
                if action == "rotate":
                    key_service.keys_rotate(organisation=organisation, actor=actor)
                    self.message_user(request, _("New signing keys for %(org)s.")
                                      % {"org": organisation.legal_name}, messages.SUCCESS)
                else:
                    outcome = key_service.keys_compromise(
                        organisation=organisation, since=form.cleaned_data["since"],
                        reason=form.cleaned_data["reason"], actor=actor)
                    self.message_user(request, _(
                        "%(count)d key(s) of %(org)s declared compromised; %(queued)d "
                        "passport(s) are being re-signed with new keys.") % {
                        "count": len(outcome.compromised), "org": organisation.legal_name,
                        "queued": outcome.queued}, messages.SUCCESS)
            except (NotAuthorised, key_service.SigningKeyError) as refused:
                self.message_user(request, refused.detail, messages.ERROR)
        return None


KEY_ACTIONS = {
    "rotate": {"verb": _("Rotate"), "title": _("Rotate the signing keys?"),
               "warning": _("New keys sign from now on. The old keys stay published and keep "
                            "verifying what they signed.")},
    "compromise": {"verb": _("Declare compromised"),
                   "title": _("Declare the signing keys compromised?"),
                   "warning": _("Every key that existed at the given time is no longer "
                                "trusted: what it signed after that time fails verification, "
                                "with your reason. New keys are made and all passports are "
                                "re-signed with them; their ids, QR codes and status stay the "
                                "same. This cannot be undone.")},
}


# Evidence (docs/evidence.md) -------------------------------------------------------------------

class EvidenceRequestForm(forms.Form):
    kind = forms.ChoiceField(label=_("kind"), choices=EvidenceCredential.Kind.choices)
    subject = forms.JSONField(label=_("subject"), help_text=_(
        "What the credential says, as the API's `subject` (docs/evidence.md)."))


@admin.register(EvidenceCredential)
class EvidenceCredentialAdmin(CompactLists, IssuePermission, OrganisationScopedAdmin):
    """Evidence credentials: issued through the add page (signed in the background, like
    passports), revoked by an action; never edited by hand."""

    organisation_path = "organisation"
    list_display = ["name", "kind", "version", "state", "issued_at"]
    list_filter = ["kind", "state"]
    search_fields = ["name", "=state"]
    fields = ["kind", "name", "version", "state", "state_reason", "credential_link",
              "subject_json", "product", "issued_at", "superseded_by", "status_list",
              "status_index", "created_at"]
    readonly_fields = fields
    actions = ["revoke"]

    @admin.display(description=_("credential"))
    def credential_link(self, credential):
        return format_html('<a href="{}">{}</a>', credential.credential_url,
                           credential.credential_url)

    @admin.display(description=_("subject"))
    def subject_json(self, credential):
        return format_html("<pre>{}</pre>", _pretty_json(credential.subject))

    def has_add_permission(self, request):
        return self.has_issue_permission(request)

    def has_change_permission(self, request, obj=None):
        return obj is None and self.has_add_permission(request)

    def has_delete_permission(self, request, obj=None):
        return False

    def has_revoke_permission(self, request) -> bool:
        return request.user.has_perm("passports.change_passport")

    def add_view(self, request, form_url="", extra_context=None):
        """The add page: kind and subject, issued by the service for the staff member's
        organisation (its mandate checked), then back to the list."""
        form = EvidenceRequestForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                evidence_request(organisation=organisation_of(request.user),
                                 kind=form.cleaned_data["kind"],
                                 subject=form.cleaned_data["subject"],
                                 actor=actor_of(request.user))
            except ValidationError as error:
                for key, messages in error.message_dict.items():
                    form.add_error(None, f"{key}: {' '.join(messages)}")
            except DomainError as error:
                form.add_error(None, str(error))
            else:
                self.message_user(request, _("The credential is being signed."),
                                  messages.SUCCESS)
                return HttpResponseRedirect(
                    reverse("admin:passports_evidencecredential_changelist"))
        return TemplateResponse(request, "admin/passports/evidence_add.html", {
            **self.admin_site.each_context(request), "opts": self.opts, "form": form,
            "title": _("Issue an evidence credential")})

    @admin.action(description=_("Revoke (permanent) …"), permissions=["revoke"])
    def revoke(self, request, queryset):
        """First a page naming the credentials and what revoking means, with the reason to give;
        the revocation only once that page is submitted with one."""
        credentials = list(queryset)
        confirmed = is_confirmed(request, "revoke")
        form = StatusChangeForm(request.POST if confirmed else None, reason_required=True)
        if not (confirmed and form.is_valid()):
            return confirmation_page(
                self, request, template="admin/passports/evidencecredential/confirm_revoke.html",
                action="revoke", selected=credentials, form=form, verb=_("Revoke"),
                title=_("Revoke %(count)d evidence credential(s)?") % {
                    "count": len(credentials)},
                warning=_("Revocation is permanent: the credentials can never be valid again. "
                          "Verifiers see “revoked” and your reason from now on, also where a "
                          "passport links them."), credentials=credentials)
        reason = form.cleaned_data["reason"].strip()
        for credential in credentials:
            try:
                evidence_revoke(credential=credential, actor=actor_of(request.user),
                                reason=reason)
            except DomainError as error:
                self.message_user(request, f"{credential}: {error}", messages.ERROR)
        return None


@admin.register(EvidenceLink)
class EvidenceLinkAdmin(ReadOnlyScopedAdmin):
    organisation_path = "product__organisation"
    list_display = ["product", "role", "name", "url"]
    list_filter = ["role"]
