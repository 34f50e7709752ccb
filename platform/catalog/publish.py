"""Turning a job's staged files into an immutable, ready DatasetVersion."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from django.db import transaction
from django.db.models import Max

from catalog import storage
from catalog.formats import check_files
from catalog.lineage import born_held
from catalog.models import Dataset, DatasetVersion, Generator, VersionParent
from synthreg.revision import code_revision


def publish_version(
    *,
    dataset: Dataset,
    staging: Path,
    key: str,
    claim: Callable[[], None],
    samples: int,
    summary: dict[str, Any] | None = None,
    preview: str | None = None,
    generator: Generator | None = None,
    parameters: dict[str, Any] | None = None,
    seed: int | None = None,
    job=None,
    parents: Iterable[tuple[DatasetVersion, str]] = (),
    on_published: Callable[[DatasetVersion], None] | None = None,
    format: str | None = None,
    report_size: int = 0,
) -> DatasetVersion:
    """Publish ``staging`` as the dataset's next version.

    ``claim`` runs inside the transaction that creates the row and must raise if this
    process no longer holds the job (cancelled, or taken over): then nothing is created
    and the published files are removed again. ``on_published`` runs in the same
    transaction (e.g. to queue the version's evaluation, so it is never missed).

    The files are first validated against ``format`` (default: the dataset's; neither: not
    checked): a mismatch raises ``FormatError`` with the reason, before anything is published.
    A dataset that declared no format takes ``format`` as its own. ``report_size`` is the bytes of
    a job report already stored beside the version (counted in the owner's storage).
    """
    parents = list(parents)
    format = check_files(dataset, staging, format)
    manifest = storage.build_manifest(staging)
    prefix = f"{dataset.slug}/{key}"
    storage.publish_tree(staging, prefix, manifest)
    try:
        with transaction.atomic():
            claim()
            Dataset.objects.select_for_update().get(pk=dataset.pk)
            if format and not dataset.format:
                Dataset.objects.filter(pk=dataset.pk).update(format=format)
                dataset.format = format
            number = (dataset.versions.aggregate(m=Max("number"))["m"] or 0) + 1
            version = DatasetVersion.objects.create(
                dataset=dataset, number=number, status=DatasetVersion.Status.READY,
                manifest=manifest, total_size=manifest["total_size"], report_size=report_size, samples=samples,
                summary=summary or {}, preview=preview or "", storage_prefix=prefix,
                job=job, generator=generator, parameters=parameters or {}, seed=seed,
                code_revision=code_revision(),
                gate=DatasetVersion.Gate.HELD if born_held(dataset, parents) else DatasetVersion.Gate.NONE,
            )
            VersionParent.objects.bulk_create(
                VersionParent(child=version, parent=parent, relation=relation) for parent, relation in parents
            )
            if on_published:
                on_published(version)
    except BaseException:
        storage.remove_tree(prefix)
        raise
    return version
