"""The Celery app exactly as production runs it, except that a message whose worker died
unacknowledged is redelivered after FAULTS_VISIBILITY_TIMEOUT seconds, not the Redis
transport's default hour. The fault tests' worker subprocesses run `celery -A` this."""

import os

from fieldservice.celery import app

app.conf.broker_transport_options = {
    "visibility_timeout": float(os.environ["FAULTS_VISIBILITY_TIMEOUT"]),
    # Look for such messages twice a second (the default is every 10 × 10 s).
    "unacked_restore_interval": 0.5,
    "unacked_restore_throttle": 1,
}

__all__ = ["app"]
