"""An upload becomes a reference dataset's version: checked whole first, then published at once.

A refused upload leaves nothing: no dataset row, no version, no file (the staging folder is
removed whatever happens, and the dataset row is created in the transaction that publishes).
"""

from __future__ import annotations

import shutil
import tempfile
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_slug
from django.db import IntegrityError, transaction

from catalog.models import Dataset, DatasetVersion
from catalog.publish import publish_version
from catalog.uploads.errors import Limits, UploadRefused
from catalog.uploads.inspection import Inspection, inspect
from catalog.usage import stored_bytes
from contracts import formats
from contracts.formats import FormatError

ACCESS_CHOICES = (Dataset.Access.RESTRICTED, Dataset.Access.PRIVATE)
MODALITIES = {"table/1": "tabular", "images/1": "image"}


def limits() -> Limits:
    return Limits(max_bytes=settings.SYNTHREG_UPLOAD_MAX_BYTES, max_members=settings.SYNTHREG_UPLOAD_MAX_MEMBERS,
                  max_uncompressed=settings.SYNTHREG_UPLOAD_MAX_UNCOMPRESSED,
                  max_table_bytes=settings.SYNTHREG_UPLOAD_MAX_TABLE_BYTES,
                  max_image_side=settings.SYNTHREG_UPLOAD_MAX_IMAGE_SIDE)


@dataclass
class Registration:
    """What the owner says about the dataset an upload makes (checked by :func:`check_registration`)."""

    slug: str
    title: str = ""
    card: str = ""
    access: str = Dataset.Access.RESTRICTED  # real data: restricted unless the owner says otherwise
    epsilon_budget: float | None = None
    privacy_thresholds: dict[str, float] = field(default_factory=dict)
    columns: Any = None  # the owner's column types, overriding the inferred ones


def _number(value: Any, name: str) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise UploadRefused(name, "must be a number") from None
    if not 0 <= number < float("inf"):
        raise UploadRefused(name, "must be a finite number, 0 or more")
    return number


def check_registration(owner, reg: Registration) -> None:
    """Refuse a bad slug, access, budget or thresholds, naming the field, before any file is read."""
    try:
        validate_slug(reg.slug)
    except ValidationError:
        raise UploadRefused("slug", "use lower-case letters, digits, - and _ only") from None
    if len(reg.slug) > 100 or len(reg.title) > 200:
        raise UploadRefused("slug" if len(reg.slug) > 100 else "title", "is too long")
    if Dataset.objects.filter(slug=reg.slug).exists():
        raise UploadRefused("slug", f"a dataset {reg.slug!r} exists already; choose another slug")
    if reg.access not in ACCESS_CHOICES:
        raise UploadRefused("access", f"must be {' or '.join(ACCESS_CHOICES)} (uploads are real data; "
                                      "restricted is the default)")
    if reg.epsilon_budget not in (None, ""):
        reg.epsilon_budget = _number(reg.epsilon_budget, "epsilon_budget")
    else:
        reg.epsilon_budget = None
    if not isinstance(reg.privacy_thresholds, dict):
        raise UploadRefused("privacy_thresholds", "must be a JSON object of metric name to threshold")
    reg.privacy_thresholds = {str(k): _number(v, f"privacy_thresholds.{k}") for k, v in reg.privacy_thresholds.items()}


def check_quota(owner, size: int, pending: int = 0) -> None:
    """Refuse an upload of ``size`` bytes that would take the owner past their storage quota
    (``pending``: bytes of their other uploads still open)."""
    stored, quota = stored_bytes(owner), settings.SYNTHREG_USER_STORAGE_BYTES
    if stored + pending + size > quota:
        raise UploadRefused("quota", f"your datasets hold {stored:,} bytes and your open uploads {pending:,}; "
                                     f"{size:,} more is past your storage quota of {quota:,} bytes "
                                     "(SYNTHREG_USER_STORAGE_BYTES)", status=403)


def check_upload(fh: BinaryIO, filename: str, format: str) -> Inspection:
    return inspect(fh, filename, format, limits())


def register(owner, reg: Registration, fh: BinaryIO, filename: str, format: str) -> DatasetVersion:
    """Check the upload and publish it as version 1 of a new reference dataset ``reg.slug``."""
    check_registration(owner, reg)
    inspection = check_upload(fh, filename, format)
    check_quota(owner, inspection.size)
    settings.SYNTHREG_STAGING_DIR.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix="upload-", dir=settings.SYNTHREG_STAGING_DIR))
    try:
        summary = inspection.write(staging, reg.columns)
        fmt = formats.get(format)
        with transaction.atomic():
            dataset = Dataset.objects.create(
                slug=reg.slug, title=reg.title or Path(filename).name, card=reg.card, modality=MODALITIES[format],
                format=format, kind=Dataset.Kind.REFERENCE, access=reg.access, owner=owner,
                tags=["uploaded", "real"], epsilon_budget=reg.epsilon_budget,
                privacy_thresholds=reg.privacy_thresholds)
            return publish_version(dataset=dataset, staging=staging, key=f"upload-{uuid.uuid4().hex}",
                                   claim=lambda: None, samples=inspection.samples, summary=summary,
                                   parameters={"uploaded": filename}, format=fmt.name)
    except FormatError as exc:
        raise UploadRefused("file", f"does not hold valid {format}: {exc}") from None
    except IntegrityError:  # another upload took the slug since it was checked
        raise UploadRefused("slug", f"a dataset {reg.slug!r} exists already; choose another slug") from None
    finally:
        shutil.rmtree(staging, ignore_errors=True)
