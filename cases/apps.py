from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CasesConfig(AppConfig):
    """Complaints, enquiries and requests handled as cases, at their own floor just above the
    work orders (a case links work orders; tickets never imports cases)."""

    name = "cases"
    verbose_name = _("Cases")

    def ready(self) -> None:
        # A detractor's survey opens a complaint. tickets sends the signal after the survey
        # is stored (it cannot import this floor); the rule is in cases.services.
        from cases.services import case_open_from_survey_signal
        from tickets.signals import survey_submitted

        survey_submitted.connect(case_open_from_survey_signal, dispatch_uid="cases.survey_detractor")
