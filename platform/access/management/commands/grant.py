"""`manage.py grant DATASET USER [--revoke]`: give (or take back) a user's access to a private or
restricted dataset. Restricted content still never leaves: a grant lets the user see the
metadata and use the data as a job input on the platform."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from access import gate
from access.models import AuditEvent, Grant
from catalog.models import Dataset


class Command(BaseCommand):
    help = "Grant or revoke a user's access to a private or restricted dataset. Audited."

    def add_arguments(self, parser) -> None:
        parser.add_argument("dataset", help="dataset slug")
        parser.add_argument("user", help="username of the grantee")
        parser.add_argument("--revoke", action="store_true", help="take the grant back")
        parser.add_argument("--by", help="username of the owner or administrator granting (default: the owner)")

    def handle(self, *args, dataset: str, user: str, revoke: bool, by: str | None, **options) -> None:
        users = get_user_model().objects
        target = Dataset.objects.filter(slug=dataset).first()
        if target is None:
            raise CommandError(f"no dataset {dataset!r}")
        grantee = users.filter(username=user).first()
        if grantee is None:
            raise CommandError(f"no user {user!r}; create one first (manage.py createsuperuser, or the admin)")
        granter = users.filter(username=by).first() if by else target.owner
        if granter is None or not (granter.is_staff or granter.pk == target.owner_id):
            raise CommandError(f"--by {by!r}: only the dataset's owner or a staff user may grant access")
        if not revoke:
            try:  # sharing is publishing: not while the release gate holds a version
                gate.check_publishable(target, "grant")
            except gate.GateRefused as exc:
                raise CommandError(str(exc)) from None
        with transaction.atomic():
            if revoke:
                changed = Grant.objects.filter(dataset=target, user=grantee).delete()[0] > 0
            else:
                changed = Grant.objects.get_or_create(dataset=target, user=grantee,
                                                      defaults={"granted_by": granter})[1]
            if changed:
                AuditEvent.objects.create(user=granter, action="revoke" if revoke else "grant",
                                          target=target.slug, details={"user": grantee.username})
        verb = "revoked from" if revoke else "granted to"
        self.stdout.write(f"{target.slug}: access {verb} {grantee.username}" + ("" if changed else " (no change)"))
