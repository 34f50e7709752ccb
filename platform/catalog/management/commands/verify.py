"""`manage.py verify`: check every ready version's files against its manifest (size and sha256)."""

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from catalog import storage
from catalog.models import DatasetVersion


def problems_of(version: DatasetVersion) -> list[str]:
    problems = []
    for entry in version.manifest.get("files", []):
        try:
            with storage.open_version_file(version.storage_prefix, entry["path"]) as fh:
                digest = storage.sha256_of(fh)
        except FileNotFoundError:
            problems.append(f"{entry['path']}: missing")
            continue
        if digest != entry["sha256"]:
            problems.append(f"{entry['path']}: sha256 {digest[:12]}… does not match the manifest's {entry['sha256'][:12]}…")
    return problems


class Command(BaseCommand):
    help = "Read every file of every ready version and compare it with the manifest; exit 1 if any differ."

    def handle(self, *args, **options) -> None:
        versions = DatasetVersion.objects.filter(status=DatasetVersion.Status.READY).select_related("dataset")
        damaged = 0
        for version in tqdm(versions, desc="verifying", unit="version", file=self.stderr):
            for problem in problems_of(version):
                damaged += 1
                self.stdout.write(f"{version}: {problem}")
        if damaged:
            raise CommandError(f"{damaged} file(s) do not match their manifests")
        self.stdout.write(f"all {versions.count()} ready versions match their manifests")
