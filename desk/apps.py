from django.apps import AppConfig


class DeskConfig(AppConfig):
    """The dispatcher's service desk: a phone call becomes a work order (faces floor)."""

    name = "desk"
    verbose_name = "Service desk"
