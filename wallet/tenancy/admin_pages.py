"""Admin pages shared by every app (templates under wallet/templates/admin/)."""

from django.contrib.admin import helpers
from django.template.response import TemplateResponse


def confirmation_page(modeladmin, request, *, action: str, selected, title, warning, verb,
                      form=None, template: str = "admin/confirm_action.html",
                      **context) -> TemplateResponse:
    """The page an admin action shows before it changes anything (admin/confirm_action.html):
    `warning` and what it acts on, the `form` it needs, and a `verb` button that posts `action`
    again, with `confirm`, for the rows whose keys are `selected`. `template` extends it to show
    the selection (its block `selection`) from `context`."""
    return TemplateResponse(request, template, {
        **modeladmin.admin_site.each_context(request), "opts": modeladmin.opts,
        "title": title, "warning": warning, "verb": verb, "action": action, "form": form,
        "selected": [row.pk for row in selected],
        "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME, **context})


def is_confirmed(request, action: str) -> bool:
    """Whether this post of `action` comes from its confirmation page."""
    return request.POST.get("confirm") == action
