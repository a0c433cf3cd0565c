from django.apps import AppConfig


class FieldserviceConfig(AppConfig):
    name = "fieldservice"
    verbose_name = "Fieldservice"

    def ready(self) -> None:
        from fieldservice import lookups  # noqa: F401  (registers `trigram_contains`)
