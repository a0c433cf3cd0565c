from django.apps import AppConfig


class FieldserviceConfig(AppConfig):
    name = "fieldservice"
    verbose_name = "Fieldservice"
