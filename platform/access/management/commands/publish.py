"""`manage.py publish SLUG (--public | --grant USER) [--by USER]`: make a dataset public or share it,
refused (naming the failing metrics) while the release gate holds one of its versions. Audited."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from access import gate, policy
from catalog.models import Dataset


class Command(BaseCommand):
    help = "Make a dataset public or share it with a user; refused while the release gate holds a version."

    def add_arguments(self, parser) -> None:
        parser.add_argument("dataset", help="dataset slug")
        parser.add_argument("--public", action="store_true", help="make it public")
        parser.add_argument("--grant", help="username to share it with")
        parser.add_argument("--by", help="username of the owner or administrator publishing (default: the owner)")

    def handle(self, *args, dataset: str, public: bool, grant: str | None, by: str | None, **options) -> None:
        users = get_user_model().objects
        target = Dataset.objects.filter(slug=dataset).first()
        if target is None:
            raise CommandError(f"no dataset {dataset!r}")
        if not (public or grant):
            raise CommandError("say what to do: --public, or --grant USER")
        if target.access == Dataset.Access.RESTRICTED:
            raise CommandError(f"{target.slug} is restricted real data: it is never published")
        publisher = users.filter(username=by).first() if by else target.owner
        if publisher is None or not policy.can_manage(publisher, target):
            raise CommandError(f"--by {by!r}: only the dataset's owner or a staff user may publish it")
        grantee = users.filter(username=grant).first() if grant else None
        if grant and grantee is None:
            raise CommandError(f"--grant: no user {grant!r}")
        try:
            gate.publish(target, publisher, access=Dataset.Access.PUBLIC if public else None, grantee=grantee)
        except gate.GateRefused as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(f"{target.slug}: " + ", ".join(
            (["public"] if public else []) + ([f"shared with {grant}"] if grant else [])))
