"""`manage.py upload PATH --slug SLUG --owner USER`: register real data from a file, in chunks,
with a progress bar; the checks and the publication are the API's (catalog.uploads.sessions)."""

from __future__ import annotations

import json
from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from catalog.uploads import sessions
from catalog.uploads.errors import UploadRefused
from catalog.uploads.register import Registration, check_registration
from catalog.uploads.sniff import UPLOAD_FORMATS, default_format


class Command(BaseCommand):
    help = "Upload a table (CSV, Parquet) or image archive (zip/tar of PNGs + labels.csv, NPZ) as a reference dataset."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", type=Path)
        parser.add_argument("--slug", required=True)
        parser.add_argument("--owner", required=True, help="username of the dataset's owner")
        parser.add_argument("--access", choices=["restricted", "private"], default="restricted",
                            help="restricted (default: real data never leaves) or private")
        parser.add_argument("--format", choices=UPLOAD_FORMATS, help="default: from the file's extension")
        parser.add_argument("--title", default="")
        parser.add_argument("--epsilon-budget", type=float)
        parser.add_argument("--privacy-thresholds", default="{}", help="JSON: metric name to threshold")
        parser.add_argument("--columns", default="{}", help='JSON: column to type or "drop", e.g. {"id": "drop"}')
        parser.add_argument("--chunk-bytes", type=int, default=4 * 2**20)

    def handle(self, *args, path: Path, **options) -> None:
        owner = get_user_model().objects.filter(username=options["owner"]).first()
        if owner is None:
            raise CommandError(f"no user {options['owner']!r}")
        if not path.is_file():
            raise CommandError(f"{path}: no such file")
        try:
            reg = Registration(slug=options["slug"], title=options["title"], access=options["access"],
                               epsilon_budget=options["epsilon_budget"],
                               privacy_thresholds=json.loads(options["privacy_thresholds"]),
                               columns=json.loads(options["columns"]))
        except json.JSONDecodeError as exc:
            raise CommandError(f"--privacy-thresholds and --columns take JSON ({exc})") from None
        session = None
        try:
            check_registration(owner, reg)
            size = path.stat().st_size
            session = sessions.create(owner, path.name, size, options["format"] or default_format(path.name))
            with path.open("rb") as fh, tqdm(total=size, unit="B", unit_scale=True, desc=path.name,
                                             file=self.stderr._out) as bar:
                while chunk := fh.read(options["chunk_bytes"]):
                    first = session.received
                    session = sessions.append(session, f"bytes {first}-{first + len(chunk) - 1}/{size}", chunk)
                    bar.update(len(chunk))
            version = sessions.finish(session, reg)
        except UploadRefused as exc:
            if session is not None:
                sessions.discard(session, str(exc))
            raise CommandError(str(exc)) from None
        dataset = version.dataset
        self.stdout.write(f"{dataset.slug} v{version.number}: {version.samples:,} samples, {dataset.format}, "
                          f"{dataset.access}")
        for column in version.summary.get("schema", []):
            flag = f"  identifier-like: {column['reason']}" if column["identifier"] else ""
            self.stdout.write(f"  {column['name']:<24} {column['type']:<12} missing {column['missing']:,}{flag}")
