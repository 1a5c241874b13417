from django.apps import AppConfig


class ReplicationConfig(AppConfig):
    name = "replication"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from core import events
        from credentials import mirrors, status_registry
        from passports import linkset
        from replication import hooks

        events.register(hooks.passports_changed)  # a passport signed, revoked, superseded...
        status_registry.register_publication_listener(hooks.status_list_published)
        mirrors.register(hooks.mirrored)  # the verifier here reads the primaries' copies
        linkset.register_alternates(hooks.alternates)  # our linkset names our providers
