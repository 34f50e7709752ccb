"""`manage.py seed`: register the built-in reference datasets and generators (idempotent).

It lives in the jobs app, the lowest layer that may use all it touches: the catalog, the
demo user's grants (access) and the demo job.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand

from access.models import Grant
from catalog.generator_rows import sync_all_generators
from catalog.models import Dataset
from catalog.publish import publish_version
from catalog.references import BUILTIN_REFERENCES
from jobs import service

SYSTEM_USER = "synthreg"
DEMO_DATASET = "digits-demo"


class Command(BaseCommand):
    help = "Register the built-in reference datasets (restricted) and generators. Safe to run again."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--demo-user", help="Also create this login (a local superuser) with the demo password.")
        parser.add_argument("--demo-password", default="synthreg-demo")
        parser.add_argument("--demo-jobs", action="store_true",
                            help="With --demo-user: queue a first generation job for a public demo dataset.")

    def handle(self, *args, demo_user: str | None = None, demo_password: str = "", demo_jobs: bool = False,
               **options) -> None:
        User = get_user_model()
        system, _ = User.objects.get_or_create(username=SYSTEM_USER, defaults={"is_active": False})
        for generator in sync_all_generators():
            self.stdout.write(f"generator {generator.slug} {generator.code_version}")
        for reference in BUILTIN_REFERENCES:
            dataset, _ = Dataset.objects.update_or_create(
                slug=reference.slug,
                defaults={
                    "title": reference.title, "modality": reference.modality, "format": reference.format,
                    "kind": Dataset.Kind.REFERENCE, "access": Dataset.Access.RESTRICTED,
                    "owner": system, "license": reference.license, "card": reference.card,
                    "tags": list(reference.tags), "privacy_thresholds": reference.privacy_thresholds or {},
                },
            )
            if dataset.latest_ready_version() is None:
                self._publish_reference(dataset, reference)
            self.stdout.write(f"reference {dataset.slug} v{dataset.latest_ready_version().number}")
        if demo_user:
            user, created = User.objects.get_or_create(username=demo_user, defaults={"is_staff": True, "is_superuser": True})
            if created:
                user.set_password(demo_password)
                user.save()
            for dataset in Dataset.objects.filter(kind=Dataset.Kind.REFERENCE):
                Grant.objects.get_or_create(dataset=dataset, user=user, defaults={"granted_by": system})
            self.stdout.write(f"login {demo_user} ({'created' if created else 'exists'})")
            if demo_jobs:
                self._queue_demo_job(user)

    def _queue_demo_job(self, user) -> None:
        if Dataset.objects.filter(slug=DEMO_DATASET).exists():
            return
        job = service.submit(user, "generate", {
            "generator": "digits", "dataset": DEMO_DATASET, "access": "public", "reference": "sklearn-digits",
            "title": "Rendered digits (demo)", "params": {"n": 2000, "seed": 0},
        })
        self.stdout.write(f"demo job {job.pk} queued: it becomes {DEMO_DATASET} v1 once the worker runs it")

    def _publish_reference(self, dataset: Dataset, reference) -> None:
        staging = Path(tempfile.mkdtemp(prefix="synthreg-seed-"))
        try:
            records = reference.write(staging)
            publish_version(
                dataset=dataset, staging=staging, key="builtin-v1", claim=lambda: None,
                samples=records, summary={"source": "built-in"},
            )
        finally:
            shutil.rmtree(staging, ignore_errors=True)
