"""`manage.py declassify SLUG --to private --confirm-no-real-data`: the one way to lower a
restricted dataset's access. Every other save path refuses it (catalog.models)."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import models, transaction

from access.models import AuditEvent
from catalog.models import Dataset


class Command(BaseCommand):
    help = "Lower a restricted dataset's access, after confirming it holds no real records. Audited."

    def add_arguments(self, parser) -> None:
        parser.add_argument("slug")
        parser.add_argument("--to", choices=[Dataset.Access.PRIVATE, Dataset.Access.PUBLIC],
                            default=Dataset.Access.PRIVATE, help="the new access level (default: private)")
        parser.add_argument("--confirm-no-real-data", action="store_true",
                            help="required: you confirm the dataset holds no real (personal or confidential) records")
        parser.add_argument("--reason", required=True, help="why, for the audit trail")
        parser.add_argument("--by", required=True, help="username of the administrator responsible")

    def handle(self, *args, slug: str, to: str, confirm_no_real_data: bool, reason: str, by: str, **options) -> None:
        if not confirm_no_real_data:
            raise CommandError(
                f"{slug}: declassifying makes its records downloadable by whoever may see it. "
                "Run again with --confirm-no-real-data once you are sure it holds no real records.")
        admin = get_user_model().objects.filter(username=by, is_staff=True).first()
        if admin is None:
            raise CommandError(f"--by {by!r}: no staff user with that name")
        with transaction.atomic():
            dataset = Dataset.objects.select_for_update().filter(slug=slug).first()
            if dataset is None:
                raise CommandError(f"no dataset {slug!r}")
            if dataset.access != Dataset.Access.RESTRICTED:
                raise CommandError(f"{slug} is {dataset.access}, not restricted: nothing to declassify")
            # A plain QuerySet: the catalog's guarded manager refuses this change by design.
            models.QuerySet(Dataset).filter(pk=dataset.pk).update(access=to)
            AuditEvent.objects.create(user=admin, action="declassify", target=slug,
                                      details={"from": Dataset.Access.RESTRICTED, "to": to, "reason": reason})
        self.stdout.write(f"{slug}: restricted -> {to} (audited)")
