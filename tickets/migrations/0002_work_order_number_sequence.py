"""A database sequence for human work-order numbers (WO-2026-000123).

A sequence hands out numbers without locking and never twice, even under concurrent
creation; gaps (a rolled-back transaction) are harmless for a reference number.
"""

from django.db import migrations

from tickets.models import WORK_ORDER_NUMBER_SEQUENCE


class Migration(migrations.Migration):
    dependencies = [("tickets", "0001_initial")]

    operations = [
        migrations.RunSQL(
            f"CREATE SEQUENCE IF NOT EXISTS {WORK_ORDER_NUMBER_SEQUENCE} START 1",
            f"DROP SEQUENCE IF EXISTS {WORK_ORDER_NUMBER_SEQUENCE}",
        )
    ]
