"""Logging in with a mandate ("eHerkenning 2.0", issue #21): a person (an admin session) or a
machine (a short-lived API access token) acts for an organisation because it presented the
organisation's mandates from its wallet. Imported by wallet.models."""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class MandateLogin(models.Model):
    """One login with presented mandates: an admin session or an access token. It carries
    exactly the presented mandates (their scopes and organisation), ends with the earliest of
    their validity, and is ended when one of them is revoked or suspended."""

    class Kind(models.TextChoices):
        SESSION = "session", _("Admin session")
        ACCESS_TOKEN = "access_token", _("API access token")
        PARTNER_SESSION = "partner_session", _("Partner session (access role)")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    organisation = models.ForeignKey("wallet.Organisation", on_delete=models.CASCADE,
                                     related_name="mandate_logins",
                                     help_text="The organisation the mandates are of.")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                             on_delete=models.CASCADE, related_name="mandate_logins",
                             help_text="The person (none for an organisation's machine).")
    mandates = models.ManyToManyField("wallet.Mandate", related_name="logins")
    scopes = models.JSONField(default=list, help_text="The presented mandates' scopes.")
    # A partner's staff (kind partner_session): the access role their organisation holds.
    access_group = models.CharField(max_length=40, blank=True)
    entitled_by = models.ForeignKey("wallet.Organisation", null=True, blank=True,
                                    on_delete=models.CASCADE, related_name="+",
                                    help_text="Partner sessions: the manufacturer whose role "
                                              "credential was presented.")
    # What was presented, once: the presentation request's id (sessions) or the SHA-256 of
    # the presentation (tokens). Unique, so one presentation never makes two logins.
    presentation = models.CharField(max_length=64, unique=True, editable=False)
    token_hash = models.CharField(max_length=64, unique=True, null=True, blank=True,
                                  editable=False, help_text="Access tokens: SHA-256 of it.")
    expires_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)
    end_reason = models.CharField(max_length=32, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("login with a mandate")
        verbose_name_plural = _("logins with a mandate")
        constraints = [
            models.CheckConstraint(condition=~Q(kind="access_token")
                                   | Q(token_hash__isnull=False),
                                   name="access_token_login_has_a_hash"),
            models.CheckConstraint(condition=~Q(kind="session") | Q(user__isnull=False),
                                   name="session_login_has_a_person"),
            models.CheckConstraint(condition=~Q(kind="partner_session")
                                   | Q(entitled_by__isnull=False) & ~Q(access_group=""),
                                   name="partner_login_has_a_role"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.organisation_id} {', '.join(self.scopes)}"


class MandateLoginEvent(models.Model):
    """The audit trail of logins with mandates: who logged in with which mandates, who was
    refused and why, and when a login ended (revoked, suspended, expired, logged out)."""

    class Kind(models.TextChoices):
        LOGGED_IN = "logged_in", _("Logged in")
        TOKEN_ISSUED = "token_issued", _("Access token issued")
        REFUSED = "refused", _("Refused")
        ENDED = "ended", _("Ended")

    login = models.ForeignKey(MandateLogin, null=True, blank=True, on_delete=models.CASCADE,
                              related_name="events")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    code = models.CharField(max_length=32, blank=True, help_text="Why refused or ended.")
    detail = models.TextField(blank=True)
    mandates = models.JSONField(default=list, blank=True,
                                help_text="The mandates (ids) presented.")
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["at", "id"]
        verbose_name = _("login event")
        verbose_name_plural = _("login events")

    def __str__(self) -> str:
        return f"{self.kind} {self.code}".strip()
