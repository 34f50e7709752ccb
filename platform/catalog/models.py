"""The catalog: datasets, their immutable versions, generators, lineage and evaluations."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.urls import reverse


class RestrictionError(ValidationError):
    """A save that would lower a restricted dataset's access (only `manage.py declassify` may)."""

    def __init__(self, slugs) -> None:
        super().__init__(
            {"access": f"{', '.join(sorted(slugs))} is restricted (real data) and stays restricted: "
                       "no save lowers its access. An administrator who knows it holds no real records "
                       "can run `manage.py declassify SLUG --confirm-no-real-data`."})


class DatasetQuerySet(models.QuerySet):
    def update(self, **kwargs):
        # Bulk paths (update, bulk_update) go through here, so they obey the same rule as save().
        lowered = "access" in kwargs and kwargs["access"] != Dataset.Access.RESTRICTED
        if lowered and (slugs := list(self.filter(access=Dataset.Access.RESTRICTED).values_list("slug", flat=True))):
            raise RestrictionError(slugs)
        return super().update(**kwargs)


class Modality(models.TextChoices):
    IMAGE = "image"
    SCENE = "scene"
    TABULAR = "tabular"


# The format a dataset of each modality holds when it names none: every dataset made before
# formats were recorded (migration 0003 fills theirs in) and those created without one.
MODALITY_FORMATS = {Modality.IMAGE: "images/1", Modality.SCENE: "scenes/1", Modality.TABULAR: "table/1"}


class Dataset(models.Model):
    class Kind(models.TextChoices):
        REFERENCE = "reference", "reference (real)"
        SYNTHETIC = "synthetic", "synthetic"
        # A model artifact (safetensors weights and a JSON card) is a version of a model dataset.
        MODEL = "model", "model"

    class Access(models.TextChoices):
        PUBLIC = "public"
        PRIVATE = "private", "private (owner and grantees)"
        RESTRICTED = "restricted", "restricted (content never leaves the platform)"

    slug = models.SlugField(max_length=100, unique=True)
    title = models.CharField(max_length=200)
    card = models.TextField(blank=True, help_text="Dataset card, in Markdown.")
    modality = models.CharField(max_length=16, choices=Modality.choices)
    # The data format its versions hold (contracts.formats): files are validated against it before
    # a version turns ready. Blank: none declared, files are not checked.
    format = models.CharField(max_length=32, blank=True)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    access = models.CharField(max_length=16, choices=Access.choices, default=Access.PRIVATE)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="datasets")
    tags = models.JSONField(default=list, blank=True)
    license = models.CharField(max_length=100, blank=True)
    # The real dataset a synthetic one is evaluated against.
    reference = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="synthetic_datasets",
        limit_choices_to={"kind": "reference"},
    )
    # A reference dataset's own privacy-gate thresholds, overriding the evaluation defaults.
    privacy_thresholds = models.JSONField(default=dict, blank=True)
    # Differential-privacy budget of a restricted dataset (None: no DP accounting).
    epsilon_budget = models.FloatField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = DatasetQuerySet.as_manager()

    class Meta:
        ordering = ["slug"]

    def __str__(self) -> str:
        return self.slug

    def save(self, *args, **kwargs) -> None:
        if self.pk is not None and self.access != self.Access.RESTRICTED and \
                Dataset.objects.filter(pk=self.pk, access=self.Access.RESTRICTED).exists():
            raise RestrictionError([self.slug])
        super().save(*args, **kwargs)

    def get_absolute_url(self) -> str:
        return reverse("portal:dataset", kwargs={"slug": self.slug})

    @property
    def data_format(self) -> str:
        """The format its versions are read as: the declared one, else its modality's."""
        return self.format or MODALITY_FORMATS.get(self.modality, "")

    def latest_ready_version(self) -> DatasetVersion | None:
        return self.versions.filter(status=DatasetVersion.Status.READY).order_by("-number").first()


class Generator(models.Model):
    """The catalog's mirror of one entry of the generator registry (generators.registry)."""

    class Kind(models.TextChoices):
        RENDERER = "renderer"
        REFINER = "refiner"
        ADAPTER = "adapter"
        FEEDBACK = "feedback"
        TABULAR = "tabular"

    slug = models.SlugField(max_length=100, unique=True)
    title = models.CharField(max_length=200)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    modality = models.CharField(max_length=16, choices=Modality.choices)
    description = models.TextField(blank=True)
    parameter_schema = models.JSONField(default=dict)
    code_version = models.CharField(max_length=64)
    source = models.CharField(max_length=200, default="builtin", help_text="builtin, or the plugin's distribution")

    class Meta:
        ordering = ["slug"]

    def __str__(self) -> str:
        return self.slug


class ImmutableVersionError(ValidationError):
    def __init__(self, fields) -> None:
        super().__init__({name: "a ready version is immutable; publish a new version instead" for name in fields})


# What a ready version's files are and where they live, by attribute name: never changed once
# ready (a changed dataset or storage prefix would serve one dataset's files under another's access).
FROZEN_VERSION_FIELDS = ("dataset_id", "number", "status", "manifest", "storage_prefix", "total_size", "report_size")


class DatasetVersionQuerySet(models.QuerySet):
    def update(self, **kwargs):
        named = {"dataset_id" if name == "dataset" else name for name in kwargs}
        frozen = [name for name in FROZEN_VERSION_FIELDS if name in named]
        if frozen and self.filter(status=DatasetVersion.Status.READY).exists():
            raise ImmutableVersionError(frozen)
        return super().update(**kwargs)


class Gate(models.TextChoices):
    """A version's standing with the release gate (a plain value: it changes after the version is ready)."""

    NONE = "", "not gated (made from no restricted data)"
    HELD = "held", "held: private to its owner until its evaluation passes"
    PASSED = "passed", "released: its evaluation passed the reference's thresholds"
    OVERRIDDEN = "overridden", "released by an administrator's audited override"


class DatasetVersion(models.Model):
    """One immutable version. Rows turn ``ready`` only after the manifest is written."""

    objects = DatasetVersionQuerySet.as_manager()
    Gate = Gate

    class Status(models.TextChoices):
        PENDING = "pending"
        READY = "ready"
        FAILED = "failed"

    dataset = models.ForeignKey(Dataset, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    # {"files": [{"path", "size", "sha256"}], "created_by": ...}; written last.
    manifest = models.JSONField(default=dict, blank=True)
    total_size = models.BigIntegerField(default=0)
    # Bytes of the job report stored beside the version (``summary["report"]``), not in its manifest.
    report_size = models.BigIntegerField(default=0)
    # The whole-version zip's member CRCs and SHA-256, computed once from the files (catalog/archives.py).
    archive_index = models.JSONField(default=dict, blank=True)
    # Digests of exports a description names (catalog/exports/digests.py), each computed once.
    export_digests = models.JSONField(default=dict, blank=True)
    samples = models.BigIntegerField(default=0)
    summary = models.JSONField(default=dict, blank=True)
    preview = models.CharField(max_length=300, blank=True, help_text="Path of a preview image inside the version.")
    storage_prefix = models.CharField(max_length=300, blank=True)
    # Lineage.
    job = models.OneToOneField("jobs.Job", null=True, blank=True, on_delete=models.SET_NULL, related_name="output_version")
    generator = models.ForeignKey(Generator, null=True, blank=True, on_delete=models.SET_NULL, related_name="versions")
    parameters = models.JSONField(default=dict, blank=True)
    seed = models.BigIntegerField(null=True, blank=True)
    code_revision = models.CharField(max_length=64, blank=True)
    # The release gate (access/gate.py): a version fitted on, tuned on or refined from restricted
    # data is born "held" (owner and staff only) until its evaluation passes or an admin overrides.
    gate = models.CharField(max_length=16, choices=Gate.choices, default=Gate.NONE, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["dataset__slug", "-number"]
        constraints = [models.UniqueConstraint(fields=["dataset", "number"], name="unique_version_number")]

    def __str__(self) -> str:
        return f"{self.dataset.slug}@v{self.number}"

    def save(self, *args, **kwargs) -> None:
        if self.pk is not None:
            stored = DatasetVersion.objects.filter(pk=self.pk, status=self.Status.READY).values(
                *FROZEN_VERSION_FIELDS).first() or {}
            if changed := [name for name, value in stored.items() if getattr(self, name) != value]:
                raise ImmutableVersionError(changed)
        super().save(*args, **kwargs)

    def manifest_entry(self, path: str) -> dict | None:
        return next((f for f in self.manifest.get("files", []) if f["path"] == path), None)


class VersionParent(models.Model):
    class Relation(models.TextChoices):
        GENERATED_BY = "generated-by"
        REFINED_FROM = "refined-from"
        FITTED_ON = "fitted-on"
        TUNED_ON = "tuned-on"
        BACKGROUNDS_FROM = "backgrounds-from"

    child = models.ForeignKey(DatasetVersion, on_delete=models.CASCADE, related_name="parent_links")
    parent = models.ForeignKey(DatasetVersion, on_delete=models.PROTECT, related_name="child_links")
    relation = models.CharField(max_length=16, choices=Relation.choices)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["child", "parent", "relation"], name="unique_version_parent")
        ]


class Evaluation(models.Model):
    version = models.ForeignKey(DatasetVersion, on_delete=models.CASCADE, related_name="evaluations")
    reference = models.ForeignKey(DatasetVersion, on_delete=models.PROTECT, related_name="+")
    job = models.OneToOneField("jobs.Job", null=True, blank=True, on_delete=models.SET_NULL, related_name="evaluation")
    evaluation_version = models.CharField(max_length=32, blank=True)
    results = models.JSONField(default=dict, blank=True)
    # Paths (in dataset storage) of the rendered report files: {"html": ..., "pdf": ...}.
    report_files = models.JSONField(default=dict, blank=True)
    report_size = models.BigIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]


class GeneratorPreset(models.Model):
    """A named set of a generator's parameters: hand-picked, or found by a tuning job.

    A generate job names one as the base its own parameters override (catalog/presets.py).
    Visible to its owner, and to everyone when public; one tuned on restricted data stays private.
    """

    generator = models.ForeignKey(Generator, on_delete=models.CASCADE, related_name="presets")
    name = models.SlugField(max_length=100)
    description = models.TextField(blank=True)
    # Validated against the generator's schema when registered; a request's own parameters
    # replace these key by key.
    parameters = models.JSONField(default=dict)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="generator_presets")
    public = models.BooleanField(default=False)
    # Lineage: the job that found it (a tuning job) and the version it was tuned on.
    created_by = models.ForeignKey("jobs.Job", null=True, blank=True, on_delete=models.SET_NULL, related_name="presets")
    tuned_on = models.ForeignKey(DatasetVersion, null=True, blank=True, on_delete=models.PROTECT,
                                 related_name="tuned_presets")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["generator__slug", "name"]
        constraints = [models.UniqueConstraint(fields=["generator", "name"], name="unique_generator_preset")]

    def __str__(self) -> str:
        return f"{self.generator.slug}:{self.name}"


class UploadSession(models.Model):
    """A chunked, resumable upload: its bytes gather in ``SYNTHREG_UPLOAD_DIR`` until it is finished
    (checked, published, removed), abandoned or expired. It belongs to one user."""

    class State(models.TextChoices):
        OPEN = "open"
        DONE = "done"
        FAILED = "failed"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="upload_sessions")
    filename = models.CharField(max_length=255)
    format = models.CharField(max_length=32)
    size = models.BigIntegerField()
    received = models.BigIntegerField(default=0)
    state = models.CharField(max_length=16, choices=State.choices, default=State.OPEN)
    error = models.TextField(blank=True)
    version = models.ForeignKey(DatasetVersion, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"upload {self.pk} ({self.filename})"
