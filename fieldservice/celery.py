"""The Celery app. Its configuration is the CELERY_* part of fieldservice/settings.py,
including the beat scheduler (`fieldservice.beat.LockedScheduler`): whatever number of
`celery beat` processes run, only the one holding the beat lock sends periodic tasks."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fieldservice.settings")

app = Celery("fieldservice")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
