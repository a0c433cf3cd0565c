"""The change log's triggers no longer stamp rows with the database's clock (which a test that
pins the business clock cannot move): rows carry only their transaction id, and the
housekeeping task ages them by the transaction ids it records each business day
(ChangeLogMark)."""

from django.db import migrations, models

CREATE = """
CREATE OR REPLACE FUNCTION mobile_api_log_job_change() RETURNS trigger AS $$
DECLARE
    tx bigint := pg_current_xact_id()::text::bigint;
BEGIN
    IF NEW.assigned_technician_id IS NOT NULL THEN
        INSERT INTO mobile_api_jobchange (technician_id, work_order_id, txid)
        VALUES (NEW.assigned_technician_id, NEW.id, tx);
    END IF;
    IF TG_OP = 'UPDATE' AND OLD.assigned_technician_id IS NOT NULL
       AND OLD.assigned_technician_id IS DISTINCT FROM NEW.assigned_technician_id THEN
        INSERT INTO mobile_api_jobchange (technician_id, work_order_id, txid)
        VALUES (OLD.assigned_technician_id, NEW.id, tx);
        PERFORM mobile_api_bump_stamps(ARRAY[NEW.assigned_technician_id, OLD.assigned_technician_id], tx);
    ELSE
        PERFORM mobile_api_bump_stamps(ARRAY[NEW.assigned_technician_id], tx);
    END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE OR REPLACE FUNCTION mobile_api_log_job_event() RETURNS trigger AS $$
DECLARE
    tx bigint := pg_current_xact_id()::text::bigint;
    technician integer;
BEGIN
    SELECT w.assigned_technician_id INTO technician FROM tickets_workorder w WHERE w.id = NEW.work_order_id;
    IF technician IS NOT NULL THEN
        INSERT INTO mobile_api_jobchange (technician_id, work_order_id, txid)
        VALUES (technician, NEW.work_order_id, tx);
        PERFORM mobile_api_bump_stamps(ARRAY[technician], tx);
    END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
"""


class Migration(migrations.Migration):
    dependencies = [("mobile_api", "0006_change_stamp_without_upsert")]

    # Not reversible: the older functions write a column this migration drops.
    operations = [
        migrations.RunSQL(CREATE),
        migrations.RemoveField(model_name="jobchange", name="changed_at"),
        migrations.CreateModel(
            name="ChangeLogMark",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("day", models.DateField(unique=True)),
                ("txid", models.BigIntegerField()),
            ],
            options={"verbose_name": "change log mark", "verbose_name_plural": "change log marks"},
        ),
    ]
