from django.apps import AppConfig


class ReplicationConfig(AppConfig):
    name = "replication"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from django.db.models.signals import post_save

        from core import events
        from credentials import mirrors, status_registry
        from passports import linkset
        from passports.models import EvidenceCredential
        from replication import hooks

        events.register(hooks.passports_changed)  # a passport signed, revoked, superseded...
        post_save.connect(hooks.evidence_saved, sender=EvidenceCredential)  # signed, revoked
        status_registry.register_publication_listener(hooks.status_list_published)
        mirrors.register(hooks.mirrored)  # the verifier here reads the primaries' copies
        linkset.register_alternates(hooks.alternates)  # our linkset names our providers
