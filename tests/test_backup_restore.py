"""deploy/backup.sh and deploy/restore.sh, for real: seed a private database (and render a
service report into a private MEDIA_ROOT), back it up, restore into a fresh database and an
empty media directory, and find the same rows, the same geometry and the same files.

The two databases are this run's own (named after its pid) and are always dropped."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import time_machine

from fieldservice import clock
from tests.clock_pin import pinned_command

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"

# Rows whose content must come back identical, not just as many.
CHECKSUMS = {
    "work orders": "SELECT md5(string_agg(number || ':' || status || ':' || version, ',' ORDER BY number)) "
    "FROM tickets_workorder",
    "equipment serials": "SELECT md5(string_agg(serial_number, ',' ORDER BY id)) FROM assets_equipment",
    "site locations": "SELECT md5(string_agg(ST_AsText(location), ',' ORDER BY id)) FROM assets_site",
    "territory boundaries": "SELECT md5(string_agg(ST_AsText(boundary), ',' ORDER BY id)) "
    "FROM scheduling_territory",
    "logins": "SELECT md5(string_agg(username || password, ',' ORDER BY id)) FROM auth_user",
    "report files": "SELECT string_agg(pdf, ',' ORDER BY id) FROM tickets_servicereport",
    "sequences": "SELECT string_agg(sequencename || '=' || coalesce(last_value, 0), ',' "
    "ORDER BY sequencename) FROM pg_sequences WHERE schemaname = 'public'",
}
# Every table's row count in one query.
ROW_COUNTS = """
    SELECT table_name || '=' || (xpath('/row/n/text()', query_to_xml(
        format('SELECT count(*) AS n FROM %I.%I', table_schema, table_name), false, true, '')))[1]::text
    FROM information_schema.tables
    WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY table_name
"""

SEED_AND_REPORT = """
import io
from django.core.management import call_command
from fieldservice import clock
from tickets.models import WorkOrder
from tickets.reports import service_report_ensure
call_command("seed_demo", scale="small", seed=7, today=clock.today().isoformat(), stdout=io.StringIO())
job = WorkOrder.objects.filter(status__in=WorkOrder.DONE_STATUSES).order_by("-completed_at", "pk").first()
print(service_report_ensure(work_order=job).pdf.name)
"""


def psql(database: str, sql: str) -> str:
    result = subprocess.run(
        ["psql", "-d", database, "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-c", sql],
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout.strip()


def files(root: Path) -> dict[str, str]:
    return {
        str(path.relative_to(root)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }


def run(command: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    if command[0] == sys.executable:
        command = pinned_command(command)
    return subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)


@pytest.fixture
def databases() -> Iterator[tuple[str, str]]:
    source, target = f"fs_backup_source_{os.getpid()}", f"fs_backup_target_{os.getpid()}"
    try:
        for name in (source, target):
            subprocess.run(["createdb", name], check=True)
        yield source, target
    finally:
        for name in (source, target):
            subprocess.run(["dropdb", "--if-exists", "--force", name], check=False)


def test_a_backup_restores_into_a_fresh_database_with_the_same_rows_and_files(
    databases: tuple[str, str], tmp_path: Path
) -> None:
    source, target = databases
    media, backups, restored_media = tmp_path / "media", tmp_path / "backups", tmp_path / "restored-media"
    env = {
        **os.environ,
        "DEBUG": "1",
        "DATABASE_URL": f"postgres:///{source}",
        "MEDIA_ROOT": str(media),
        "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
    }

    # The source: the small demo world, one rendered service report and an upload with an
    # awkward name (spaces, Chinese, '#').
    migrated = run([sys.executable, "manage.py", "migrate", "--noinput", "-v0"], env)
    assert migrated.returncode == 0, migrated.stderr
    seeded = run([sys.executable, "manage.py", "shell", "-c", SEED_AND_REPORT], env)
    assert seeded.returncode == 0, seeded.stderr
    report_name = seeded.stdout.strip().splitlines()[-1]
    assert (media / report_name).read_bytes().startswith(b"%PDF")
    upload = media / "attachments" / f"{clock.today():%Y}" / f"{clock.today():%m}" / "压缩机 photo #1.jpg"
    upload.parent.mkdir(parents=True)
    upload.write_bytes(os.urandom(4096))

    # Retention: an old backup goes, a recent one and anything not named like a backup stay.
    backups.mkdir()
    expired, recent, unrelated = (
        backups / "fieldservice-expiredZ",  # named like a backup; only its age counts
        backups / "fieldservice-recentZ",
        backups / "notes",
    )
    # backup.sh ages backups by the files' times against the operating system's clock, which
    # no test pins: the ages are set from the machine's real time.
    machine_now = time_machine.escape_hatch.time.time()
    for directory, age_days in ((expired, 8), (recent, 6), (unrelated, 30)):
        directory.mkdir()
        then = machine_now - age_days * 86400
        os.utime(directory, (then, then))

    backed_up = run(
        ["bash", str(DEPLOY / "backup.sh")],
        {**env, "BACKUP_DIR": str(backups), "BACKUP_RETENTION_DAYS": "7"},
    )
    assert backed_up.returncode == 0, backed_up.stderr
    backup = Path(backed_up.stdout.strip().splitlines()[-1])
    assert backup.parent == backups and backup.name.startswith("fieldservice-")
    assert sorted(p.name for p in backup.iterdir()) == ["SHA256SUMS", "database.dump", "media.tar"]
    assert sorted(p.name for p in backups.iterdir()) == sorted([backup.name, recent.name, unrelated.name])

    restore = [
        "bash",
        str(DEPLOY / "restore.sh"),
        "--backup",
        str(backup),
        "--database-url",
        f"postgres:///{target}",
        "--media-root",
        str(restored_media),
    ]
    restored = run(restore, env)
    assert restored.returncode == 0, restored.stderr

    counts = psql(source, ROW_COUNTS)
    assert "tickets_workorder=0" not in counts and "tickets_servicereport=1" in counts
    assert psql(target, ROW_COUNTS) == counts
    for name, sql in CHECKSUMS.items():
        assert psql(target, sql) == psql(source, sql), name
    assert files(restored_media) == files(media)
    assert (restored_media / report_name).is_file()

    # Never over a database that has data.
    again = run([*restore[:-1], str(tmp_path / "elsewhere")], env)
    assert again.returncode != 0
    assert "not fresh" in again.stderr
