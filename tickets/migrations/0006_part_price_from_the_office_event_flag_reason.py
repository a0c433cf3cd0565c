"""Issue 14: a part's price comes from the office, never the phone (NULL until priced); a
resolution code as long as every other code (fieldservice.ranges.CODE_LENGTH); and the reason
an event is flagged for review, now that not only far arrivals are flagged. Every event
flagged before this was flagged for its distance from the site."""

from django.db import migrations, models


def flagged_events_were_far_from_the_site(apps, schema_editor):
    WorkOrderEvent = apps.get_model("tickets", "WorkOrderEvent")
    WorkOrderEvent.objects.filter(flagged=True).update(flag_reason="far_from_site")


class Migration(migrations.Migration):
    dependencies = [
        ("tickets", "0005_defaults_from_business_clock"),
    ]

    operations = [
        migrations.AddField(
            model_name="workorderevent",
            name="flag_reason",
            field=models.CharField(
                blank=True,
                choices=[
                    ("far_from_site", "Far from the site"),
                    ("device_clock", "Phone clock wrong"),
                    ("meter_jump", "Implausible meter reading"),
                ],
                default="",
                max_length=16,
                verbose_name="flag reason",
            ),
        ),
        migrations.RunPython(flagged_events_were_far_from_the_site, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="partusage",
            name="unit_cost",
            field=models.DecimalField(
                blank=True, decimal_places=2, max_digits=12, null=True, verbose_name="unit cost"
            ),
        ),
        migrations.AlterField(
            model_name="workorder",
            name="resolution_code",
            field=models.CharField(blank=True, max_length=64, verbose_name="resolution code"),
        ),
    ]
