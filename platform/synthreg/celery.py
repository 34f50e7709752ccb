"""The Celery app. Configuration comes from Django settings (CELERY_* names)."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "synthreg.settings")

app = Celery("synthreg")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks(["jobs"])
# Every worker sweeps for jobs whose broker message was lost (a restarted Redis, a killed worker).
app.steps["consumer"].add("jobs.sweep:SweepStep")
