"""Log every change of a work order for the technician(s) it concerns, in the same transaction.

An update that moves a job from technician A to B logs it for both: A's next sync sees it
as removed, B's as new. The transaction id (xid8 as bigint) is what the sync cursor compares.
"""

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION mobile_api_log_job_change() RETURNS trigger AS $$
DECLARE
    tx bigint := pg_current_xact_id()::text::bigint;
BEGIN
    IF NEW.assigned_technician_id IS NOT NULL THEN
        INSERT INTO mobile_api_jobchange (technician_id, work_order_id, txid, changed_at)
        VALUES (NEW.assigned_technician_id, NEW.id, tx, now());
    END IF;
    IF TG_OP = 'UPDATE' AND OLD.assigned_technician_id IS NOT NULL
       AND OLD.assigned_technician_id IS DISTINCT FROM NEW.assigned_technician_id THEN
        INSERT INTO mobile_api_jobchange (technician_id, work_order_id, txid, changed_at)
        VALUES (OLD.assigned_technician_id, NEW.id, tx, now());
    END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER mobile_api_job_change
AFTER INSERT OR UPDATE ON tickets_workorder
FOR EACH ROW EXECUTE FUNCTION mobile_api_log_job_change();
"""

DROP = """
DROP TRIGGER IF EXISTS mobile_api_job_change ON tickets_workorder;
DROP FUNCTION IF EXISTS mobile_api_log_job_change();
"""


class Migration(migrations.Migration):
    dependencies = [("mobile_api", "0001_initial"), ("tickets", "0003_event_payload_json_encoder")]

    operations = [migrations.RunSQL(CREATE, DROP)]
