from django.apps import AppConfig


class RetentionConfig(AppConfig):
    """The account manager's floor: health, tiers, renewals, quotes, tasks, the 360° view.

    Its tables (HealthScore, RenewalOpportunity, RenewalReminder, AccountTask) stay in the
    contracts app: see docs/architecture.md, "Why these choices"."""

    name = "retention"
    verbose_name = "Retention"
