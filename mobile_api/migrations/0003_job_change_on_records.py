"""Log a job change for every event of a work order too (checklist answers, parts, photos,
signature, meter readings): they change what the technician's app shows without touching
the work order row itself. Sync returns such jobs, and cached job lists are refreshed."""

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION mobile_api_log_job_event() RETURNS trigger AS $$
BEGIN
    INSERT INTO mobile_api_jobchange (technician_id, work_order_id, txid, changed_at)
    SELECT w.assigned_technician_id, w.id, pg_current_xact_id()::text::bigint, now()
    FROM tickets_workorder w
    WHERE w.id = NEW.work_order_id AND w.assigned_technician_id IS NOT NULL;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER mobile_api_job_event
AFTER INSERT ON tickets_workorderevent
FOR EACH ROW EXECUTE FUNCTION mobile_api_log_job_event();
"""

DROP = """
DROP TRIGGER IF EXISTS mobile_api_job_event ON tickets_workorderevent;
DROP FUNCTION IF EXISTS mobile_api_log_job_event();
"""


class Migration(migrations.Migration):
    dependencies = [("mobile_api", "0002_job_change_trigger")]

    operations = [migrations.RunSQL(CREATE, DROP)]
