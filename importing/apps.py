from django.apps import AppConfig


class ImportingConfig(AppConfig):
    """CSV import: a face (it writes accounts, sites, equipment, contracts and technicians, so
    it sits above every floor it writes; see docs/architecture.md)."""

    name = "importing"
    verbose_name = "Import"
