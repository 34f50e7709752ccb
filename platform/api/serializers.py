from django.urls import reverse
from rest_framework import serializers

from access import gate, policy
from catalog.exports.registry import formats_for
from catalog.models import Dataset, DatasetVersion, Evaluation, Generator, GeneratorPreset
from jobs.models import Job


class DatasetSerializer(serializers.ModelSerializer):
    owner = serializers.CharField(source="owner.username", read_only=True)
    reference = serializers.SlugRelatedField(slug_field="slug", read_only=True, allow_null=True)
    versions = serializers.SerializerMethodField()

    class Meta:
        model = Dataset
        fields = ["slug", "title", "card", "modality", "format", "kind", "access", "owner", "tags", "license",
                  "reference", "versions", "created_at", "updated_at"]

    def get_versions(self, dataset) -> list[dict]:
        request = self.context["request"]
        return [
            {"id": v.pk, "number": v.number, "status": v.status,
             "url": request.build_absolute_uri(reverse("api:version-detail", args=[v.pk]))}
            for v in sorted(dataset.versions.all(), key=lambda v: -v.number)  # prefetched by the list
        ]


class VersionSerializer(serializers.ModelSerializer):
    dataset = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    generator = serializers.SlugRelatedField(slug_field="slug", read_only=True, allow_null=True)
    parents = serializers.SerializerMethodField()
    files = serializers.SerializerMethodField()
    archive = serializers.SerializerMethodField()
    formats = serializers.SerializerMethodField()
    gate = serializers.SerializerMethodField()

    class Meta:
        model = DatasetVersion
        fields = ["id", "dataset", "number", "status", "samples", "total_size", "summary", "files", "archive", "formats",
                  "job", "generator", "parameters", "seed", "code_revision", "parents", "gate", "created_at"]

    def get_gate(self, version) -> dict:
        """The release gate: `state` (not-gated, held, passed, overridden), the deciding verdict, the failing
        metrics and every administrator's override (who, when, why)."""
        return gate.standing(version)

    def get_parents(self, version) -> list[dict]:
        return [{"version": link.parent_id, "dataset": link.parent.dataset.slug, "number": link.parent.number,
                 "relation": link.relation} for link in version.parent_links.select_related("parent__dataset")]

    def get_archive(self, version) -> str | None:
        request = self.context["request"]
        if version.status != "ready" or not policy.can_download_version(request.user, version):
            return None
        return request.build_absolute_uri(reverse("api:version-archive", args=[version.pk]))

    def get_formats(self, version) -> list[dict]:
        """The export formats of this version; a download link only where the content may leave."""
        request = self.context["request"]
        downloadable = version.status == "ready" and policy.can_download_version(request.user, version)
        return [{"name": f.name, "title": f.title, "media_type": f.media_type,
                 **({"download": request.build_absolute_uri(reverse("api:version-format", args=[version.pk, f.name]))}
                    if downloadable else {})}
                for f in formats_for(version)]

    def get_files(self, version) -> list[dict]:
        """Sizes and checksums always; a download link only where the content may leave."""
        request = self.context["request"]
        downloadable = policy.can_download_version(request.user, version)
        files = []
        for entry in version.manifest.get("files", []):
            item = dict(entry)
            if downloadable:
                item["download"] = request.build_absolute_uri(
                    reverse("api:version-file", args=[version.pk, entry["path"]]))
            files.append(item)
        return files


class PresetSerializer(serializers.ModelSerializer):
    """A generator preset; ``tuned_on`` shows only to who can see that version's dataset."""

    owner = serializers.CharField(source="owner.username", read_only=True, allow_null=True)
    generator = serializers.CharField(source="generator.slug", read_only=True)
    builtin = serializers.SerializerMethodField()
    tuned_on = serializers.SerializerMethodField()
    # Null for the implicit `defaults`, which no one created.
    created_at = serializers.DateTimeField(read_only=True, allow_null=True)

    class Meta:
        model = GeneratorPreset
        fields = ["name", "generator", "description", "parameters", "owner", "public", "builtin", "created_by",
                  "tuned_on", "created_at"]
        read_only_fields = fields

    def get_builtin(self, preset) -> bool:
        return False

    def get_tuned_on(self, preset) -> int | None:
        version = preset.tuned_on
        if version is None or not policy.can_view(self.context["request"].user, version.dataset):
            return None
        return version.pk


class GeneratorSerializer(serializers.ModelSerializer):
    class Meta:
        model = Generator
        fields = ["slug", "title", "kind", "modality", "description", "code_version", "source", "parameter_schema"]


class JobSerializer(serializers.ModelSerializer):
    owner = serializers.CharField(source="owner.username", read_only=True)
    dataset = serializers.SlugRelatedField(slug_field="slug", read_only=True, allow_null=True)
    output_version = serializers.SerializerMethodField()

    class Meta:
        model = Job
        fields = ["id", "type", "state", "progress", "progress_message", "progress_log", "parameters", "queue", "owner",
                  "dataset", "output_version", "parent", "attempts", "error", "created_at", "started_at",
                  "finished_at"]
        read_only_fields = fields

    def get_output_version(self, job) -> int | None:
        version = getattr(job, "output_version", None)
        return version.pk if version else None


class JobCreateSerializer(serializers.Serializer):
    type = serializers.CharField()
    parameters = serializers.JSONField(default=dict)


class EvaluationSerializer(serializers.ModelSerializer):
    version = serializers.PrimaryKeyRelatedField(read_only=True)
    dataset = serializers.CharField(source="version.dataset.slug", read_only=True)
    reference = serializers.CharField(source="reference.dataset.slug", read_only=True)
    report = serializers.SerializerMethodField()

    class Meta:
        model = Evaluation
        fields = ["id", "version", "dataset", "reference", "job", "evaluation_version", "created_at", "results", "report"]

    def get_report(self, evaluation) -> dict[str, str]:
        request = self.context["request"]
        return {kind: request.build_absolute_uri(reverse("api:evaluation-report", args=[evaluation.pk, kind]))
                for kind in evaluation.report_files if kind in ("html", "pdf")}


class LeaderboardEntrySerializer(serializers.Serializer):
    evaluation = serializers.IntegerField(source="evaluation.pk")
    dataset = serializers.CharField(source="evaluation.version.dataset.slug")
    version = serializers.IntegerField(source="evaluation.version.number")
    metric = serializers.CharField(allow_null=True)
    tstr = serializers.FloatField(allow_null=True)
    trtr = serializers.FloatField(allow_null=True)
    ratio = serializers.FloatField(allow_null=True)
    quality_score = serializers.FloatField(allow_null=True)
    privacy_score = serializers.FloatField(allow_null=True)
    privacy_gate = serializers.CharField(allow_null=True)
