"""Reasons and failures as a code and parameters, rendered when read (scheduling.reasons).

An assignment's reason was a line of English; it becomes {"code", "params"}. Rows written
before keep their line as {"code": "text", "params": {"text": ...}}, shown as it was.
"""

from typing import Any

from django.db import migrations, models


def reasons_to_data(apps: Any, schema_editor: Any) -> None:
    Assignment = apps.get_model("scheduling", "Assignment")
    for pk, text in Assignment.objects.exclude(old_reason="").values_list("pk", "old_reason").iterator():
        Assignment.objects.filter(pk=pk).update(reason={"code": "text", "params": {"text": text}})


def data_to_reasons(apps: Any, schema_editor: Any) -> None:
    """Back to text: the rows that had text get it back; newer ones are left empty."""
    Assignment = apps.get_model("scheduling", "Assignment")
    for pk, reason in Assignment.objects.values_list("pk", "reason").iterator():
        if isinstance(reason, dict) and reason.get("code") == "text":
            Assignment.objects.filter(pk=pk).update(old_reason=str(reason["params"]["text"])[:300])


class Migration(migrations.Migration):
    dependencies = [
        ("scheduling", "0003_defaults_from_business_clock"),
    ]

    operations = [
        migrations.AddField(
            model_name="schedulerun",
            name="error_code",
            field=models.CharField(blank=True, max_length=40, verbose_name="error code"),
        ),
        migrations.AddField(
            model_name="schedulerun",
            name="error_params",
            field=models.JSONField(blank=True, default=dict, verbose_name="error parameters"),
        ),
        migrations.RenameField(model_name="assignment", old_name="reason", new_name="old_reason"),
        migrations.AddField(
            model_name="assignment",
            name="reason",
            field=models.JSONField(blank=True, default=dict, verbose_name="reason"),
        ),
        migrations.RunPython(reasons_to_data, data_to_reasons),
        migrations.RemoveField(model_name="assignment", name="old_reason"),
    ]
