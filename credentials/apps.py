from django.apps import AppConfig
from django.db.models.signals import post_migrate


class CredentialsConfig(AppConfig):
    name = "credentials"
    verbose_name = "Credential engine"

    def ready(self):
        from credentials.signals import ensure_service_key

        post_migrate.connect(ensure_service_key, sender=self)
