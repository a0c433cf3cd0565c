"""Bump the technician's change stamp in the job-change triggers (see TechnicianChangeStamp).

When one statement touches two technicians (a reassignment), their stamp rows are updated
in technician id order, so two opposite reassignments cannot deadlock on them.
"""

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION mobile_api_bump_stamps(technicians integer[], tx bigint) RETURNS void AS $$
    INSERT INTO mobile_api_technicianchangestamp (technician_id, changes, last_txid)
    SELECT t, 1, tx FROM unnest(technicians) AS t WHERE t IS NOT NULL ORDER BY t
    ON CONFLICT (technician_id) DO UPDATE
    SET changes = mobile_api_technicianchangestamp.changes + 1, last_txid = EXCLUDED.last_txid;
$$ LANGUAGE sql;

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
        INSERT INTO mobile_api_jobchange (technician_id, work_order_id, txid, changed_at)
        VALUES (technician, NEW.work_order_id, tx, now());
        PERFORM mobile_api_bump_stamps(ARRAY[technician], tx);
    END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
"""


class Migration(migrations.Migration):
    dependencies = [("mobile_api", "0004_technician_change_stamp")]

    # Reversing leaves the functions of 0002/0003 in their newer form, which still works.
    operations = [migrations.RunSQL(CREATE, migrations.RunSQL.noop)]
