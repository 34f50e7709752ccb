"""`manage.py gate VERSION_ID [--override --reason "..." --by ADMIN]`: where a version stands with the
release gate (held, passed, overridden; the verdict and failing metrics), and an administrator's
audited override of a held one."""

from __future__ import annotations

import json

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from access import gate
from catalog.models import DatasetVersion


class Command(BaseCommand):
    help = "Show a version's release-gate standing; --override releases a held one (administrators, audited)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("version", type=int, help="version id")
        parser.add_argument("--override", action="store_true", help="release the held version")
        parser.add_argument("--reason", default="", help="why (kept in the audit trail; required with --override)")
        parser.add_argument("--by", help="username of the administrator overriding")

    def handle(self, *args, version: int, override: bool, reason: str, by: str | None, **options) -> None:
        target = DatasetVersion.objects.select_related("dataset").filter(pk=version).first()
        if target is None:
            raise CommandError(f"no version {version}")
        if override:
            admin = get_user_model().objects.filter(username=by).first() if by else None
            if admin is None:
                raise CommandError("--by: name the administrator who overrides the gate")
            try:
                gate.override(target, admin, reason)
            except (gate.GateRefused, gate.NotAdministrator) as exc:
                raise CommandError(str(exc)) from None
            target.refresh_from_db()
        self.stdout.write(json.dumps({"version": str(target), **gate.standing(target)}, indent=1))
