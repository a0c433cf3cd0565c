"""Bump change stamps with UPDATE, not INSERT … ON CONFLICT.

Two transactions upserting the same technician's stamp deadlocked under load: each upsert
makes a speculative index entry, and a transaction that bumps the same stamp twice (a status
change and its event) waited for the other's speculative entry while the other waited for
its row. Rows are now locked in technician id order and updated in place; an INSERT happens
only the first time a technician has a change.
"""

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION mobile_api_bump_stamps(technicians integer[], tx bigint) RETURNS void AS $$
BEGIN
    PERFORM 1 FROM mobile_api_technicianchangestamp
    WHERE technician_id = ANY(technicians) ORDER BY technician_id FOR UPDATE;
    UPDATE mobile_api_technicianchangestamp
    SET changes = changes + 1, last_txid = tx
    WHERE technician_id = ANY(technicians);
    INSERT INTO mobile_api_technicianchangestamp (technician_id, changes, last_txid)
    SELECT t, 1, tx FROM unnest(technicians) AS t
    WHERE t IS NOT NULL
      AND NOT EXISTS (SELECT 1 FROM mobile_api_technicianchangestamp s WHERE s.technician_id = t)
    ORDER BY t
    ON CONFLICT (technician_id) DO NOTHING;
END;
$$ LANGUAGE plpgsql;
"""


class Migration(migrations.Migration):
    dependencies = [("mobile_api", "0005_change_stamp_triggers")]

    operations = [migrations.RunSQL(CREATE, migrations.RunSQL.noop)]
