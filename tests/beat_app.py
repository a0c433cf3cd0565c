"""The project's Celery app with one extra beat entry that falls due every second, for
tests/test_beat_lock.py: `celery -A tests.beat_app beat`. Its messages go to the queue
named by BEAT_PROBE_QUEUE, which no worker consumes; the test reads them from Redis."""

import os

from fieldservice.celery import app

app.conf.beat_schedule = {
    "beat-lock-probe": {
        "task": "tests.beat_lock_probe",
        "schedule": float(os.environ.get("BEAT_PROBE_SECONDS", "1")),
        "options": {"queue": os.environ["BEAT_PROBE_QUEUE"]},
    }
}
