from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    name = "webhooks"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from core import events
        from webhooks.services import deliveries_record

        events.register(deliveries_record)
