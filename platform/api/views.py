from django.db.models import Prefetch
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action, api_view, permission_classes
from rest_framework.exceptions import ValidationError
from rest_framework.permissions import AllowAny, IsAuthenticated, IsAuthenticatedOrReadOnly
from rest_framework.response import Response

from access import policy
from api.downloads import (
    report_response,
    version_archive_response,
    version_file_response,
    version_format_response,
    webdataset_shard_response,
)
from api.parsers import GuardedJSONParser
from api.schema import generate_request_schema, job_request_schema
from api.serializers import (
    DatasetSerializer,
    EvaluationSerializer,
    GeneratorSerializer,
    JobCreateSerializer,
    JobSerializer,
    LeaderboardEntrySerializer,
    PresetSerializer,
    VersionSerializer,
)
from catalog.exports.registry import FORMATS
from catalog.filters import DatasetFilter, EvaluationFilter, VersionFilter
from catalog.leaderboard import leaderboard
from catalog.models import Dataset, DatasetVersion, Evaluation, Generator
from catalog.presets import DEFAULTS, visible_presets
from generators import registry
from generators.params import fill_defaults
from jobs import service
from jobs.filters import JobFilter
from jobs.types import JobTargetNotFound
from jobs.visibility import visible_jobs


class DatasetViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = DatasetSerializer
    filterset_class = DatasetFilter
    lookup_field = "slug"

    def get_queryset(self):
        # Each item lists its versions' numbers and statuses: not their manifests, which can be large.
        versions = Prefetch("versions", queryset=policy.visible_versions(self.request.user).only(
            "id", "dataset_id", "number", "status"))
        return policy.visible_datasets(self.request.user).select_related("owner", "reference").prefetch_related(
            versions)

    @extend_schema(responses={200: VersionSerializer(many=True)})
    @action(detail=True, pagination_class=None)
    def versions(self, request, slug=None):
        dataset = self.get_object()
        versions = policy.visible_versions(request.user).filter(dataset=dataset).order_by("-number")
        return Response(VersionSerializer(versions, many=True, context={"request": request}).data)

    @extend_schema(responses={200: LeaderboardEntrySerializer(many=True)})
    @action(detail=True, pagination_class=None)
    def leaderboard(self, request, slug=None):
        """Synthetic versions evaluated against this reference dataset, best TSTR first."""
        dataset = self.get_object()
        if dataset.kind != Dataset.Kind.REFERENCE:
            return Response({"detail": f"{dataset.slug} is not a reference dataset: only those have a leaderboard"},
                            status=status.HTTP_404_NOT_FOUND)
        entries = leaderboard(dataset, policy.visible_versions(request.user))
        return Response(LeaderboardEntrySerializer(entries, many=True).data)


class VersionViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = VersionSerializer
    filterset_class = VersionFilter

    def get_queryset(self):
        return policy.visible_versions(self.request.user).select_related("dataset", "generator")

class EvaluationViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = EvaluationSerializer
    filterset_class = EvaluationFilter

    def get_queryset(self):
        return Evaluation.objects.filter(
            version__in=policy.visible_versions(self.request.user)
        ).select_related("version__dataset", "reference__dataset")


@extend_schema(responses={(200, "text/html"): bytes, (200, "application/pdf"): bytes})
@api_view(["GET"])
@permission_classes([AllowAny])  # the access policy decides, per dataset
def evaluation_report(request, pk: int, kind: str):
    """The evaluation's report as HTML or PDF."""
    evaluation = get_object_or_404(Evaluation.objects.select_related("version__dataset"), pk=pk)
    return report_response(request, evaluation.version, evaluation.report_files, kind)


@extend_schema(responses={(200, "text/html"): bytes, (200, "application/pdf"): bytes})
@api_view(["GET"])
@permission_classes([AllowAny])  # the access policy decides, per dataset
def version_job_report(request, pk: int, kind: str):
    """The report of the job that made the version (refine, adapt) as HTML or PDF."""
    version = get_object_or_404(DatasetVersion.objects.select_related("dataset"), pk=pk)
    return report_response(request, version, version.summary.get("report") or {}, kind)


RESTRICTED = OpenApiResponse(description="The dataset is restricted real data: never downloadable.")


NOT_MODIFIED = OpenApiResponse(description="`If-None-Match` names this ETag: you have these bytes already.")
IF_NONE_MATCH = OpenApiParameter("If-None-Match", str, OpenApiParameter.HEADER, description=(
    "An ETag from an earlier download: answered 304 while it still matches (versions never change)."))


def _response_header(name: str, description: str, codes: list[int]) -> OpenApiParameter:
    return OpenApiParameter(name, str, OpenApiParameter.HEADER, response=codes, description=description)


RANGE = OpenApiParameter("Range", str, OpenApiParameter.HEADER, description=(
    "One range, `bytes=a-b`, `bytes=a-` or `bytes=-n`, answered 206; several ranges get the whole file."))
IF_RANGE = OpenApiParameter("If-Range", str, OpenApiParameter.HEADER, description=(
    "The ETag of the partial download: if it no longer matches, the whole file comes back (200)."))
UNSATISFIABLE = OpenApiResponse(description="`Range` starts past the end; `Content-Range: bytes */<size>`.")


@extend_schema(
    responses={(200, "application/zip"): bytes,
               (206, "application/zip"): OpenApiResponse(bytes, description="The one byte range asked for in `Range`."),
               304: NOT_MODIFIED, 403: RESTRICTED, 416: UNSATISFIABLE},
    parameters=[RANGE, IF_RANGE, IF_NONE_MATCH,
                _response_header("ETag", "Strong, from the version's manifest.", [200, 206, 304]),
                _response_header("Content-Length", "Known in advance: the zip is stored, sized from the manifest.",
                                 [200, 206]),
                _response_header("Repr-Digest", "RFC 9530: `sha-256=:<base64>:` of the whole archive.", [200, 206]),
                _response_header("X-Checksum-SHA256", "The whole archive's sha256, hex.", [200, 206]),
                _response_header("Accept-Ranges", "`bytes`.", [200, 206]),
                _response_header("Content-Range", "`bytes a-b/size` (206) or `bytes */size` (416).", [206, 416])],
)
@api_view(["GET", "HEAD"])
@permission_classes([AllowAny])  # the access policy decides, per dataset
def version_archive(request, pk: int):
    """The whole version (its files and manifest) as one streamed zip; `HEAD` gives its headers.

    Stored (no compression), so its bytes are fixed: `Content-Length` from the manifest, a digest
    of the whole archive, and an interrupted download resumes with `Range` and `If-Range: <ETag>`."""
    version = get_object_or_404(DatasetVersion.objects.select_related("dataset"), pk=pk)
    return version_archive_response(request, version)


@extend_schema(
    responses={(200, "application/x-tar"): bytes, 304: NOT_MODIFIED, 403: RESTRICTED,
               404: OpenApiResponse(description="No such version, or no such shard of it.")},
    parameters=[IF_NONE_MATCH, _response_header("ETag", "Strong: the manifest and the shard's writer.", [200, 304])],
)
@api_view(["GET", "HEAD"])
@permission_classes([AllowAny])  # the access policy decides, per dataset
def version_webdataset_shard(request, pk: int, name: str):
    """One WebDataset shard of an image version, `<slug>-v<n>-000000.tar` and on, 10,000 samples each;
    the `webdataset-shards` format lists them (a `wids` shard index with a brace-expanded URL)."""
    version = get_object_or_404(DatasetVersion.objects.select_related("dataset"), pk=pk)
    return webdataset_shard_response(request, version, name)


@extend_schema(
    responses={(200, "application/ld+json"): OpenApiTypes.OBJECT, (200, "application/json"): OpenApiTypes.OBJECT,
               (200, "*/*"): bytes, 304: NOT_MODIFIED, 403: RESTRICTED,
               404: OpenApiResponse(description="No such version, or no such export of it: the message lists them.")},
    parameters=[OpenApiParameter("name", str, OpenApiParameter.PATH, enum=sorted(FORMATS),
                                 description="An export format; each version lists those it has under `formats`."),
                IF_NONE_MATCH, _response_header("ETag", "Strong: the manifest and the writer's revision.", [200, 304]),
                _response_header("Accept-Ranges", "`none`: converted as it streams.", [200])],
)
@api_view(["GET", "HEAD"])
@permission_classes([AllowAny])  # the access policy decides, per dataset
def version_format(request, pk: int, name: str):
    """The version converted to an export format (listed under `formats` in the version), streamed.

    `png` (zip of images and labels.csv), `webdataset` (one tar), `webdataset-shards` (JSON shard
    index of tars of 10,000 samples), `coco` (one file across shards),
    `parquet`, `csv`, `huggingface` (zip: README.md card and Parquet), `croissant` (JSON-LD)."""
    version = get_object_or_404(DatasetVersion.objects.select_related("dataset__owner", "generator"), pk=pk)
    return version_format_response(request, version, name, request.build_absolute_uri(reverse("api:version-list")))


@extend_schema(
    responses={
        (200, "*/*"): bytes,
        (206, "*/*"): OpenApiResponse(bytes, description="The one byte range asked for in `Range`."),
        304: NOT_MODIFIED,
        403: RESTRICTED,
        416: UNSATISFIABLE,
    },
    parameters=[
        OpenApiParameter("min_visible", {"type": "number", "minimum": 0, "maximum": 1}, description=(
            "COCO files only: leave out objects less visible than this fraction (streamed; no `Range`, "
            "`ETag` or digest, since the bytes are not the stored ones).")),
        RANGE,
        IF_RANGE,
        IF_NONE_MATCH,
        _response_header("ETag", "Strong: the file's sha256 from the manifest, quoted.", [200, 206, 304]),
        _response_header("Repr-Digest", "RFC 9530: `sha-256=:<base64>:` of the whole file.", [200, 206]),
        _response_header("X-Checksum-SHA256", "The whole file's sha256, hex.", [200, 206]),
        _response_header("Accept-Ranges", "`bytes`.", [200, 206]),
        _response_header("Content-Length", "The bytes in this answer: the whole file, or the range.", [200, 206]),
        _response_header("Content-Range", "`bytes a-b/size` (206) or `bytes */size` (416).", [206, 416]),
    ],
)
@api_view(["GET", "HEAD"])
@permission_classes([AllowAny])  # the access policy decides, per dataset
def version_file(request, pk: int, path: str):
    """Stream one file of a version, if its dataset's content may leave the platform.

    `HEAD` gives the same headers without the body; an interrupted download resumes with `Range`
    and `If-Range: <ETag>`, and is checked against `Repr-Digest`."""
    version = get_object_or_404(DatasetVersion.objects.select_related("dataset"), pk=pk)
    return version_file_response(request, version, path)


class GeneratorViewSet(viewsets.ReadOnlyModelViewSet):
    job_submitting_actions = ("generate",)
    request_schemas = {"generate": generate_request_schema}
    serializer_class = GeneratorSerializer
    queryset = Generator.objects.all()
    lookup_field = "slug"

    @extend_schema(responses={201: JobSerializer})
    @action(detail=True, methods=["post"], permission_classes=[IsAuthenticated], parser_classes=[GuardedJSONParser])
    def generate(self, request, slug=None):
        """Submit a `generate` job; the body holds `params` and optionally `dataset`, `title`, `access`."""
        if not isinstance(request.data, dict):
            raise ValidationError({"body": ["must be a JSON object of the generate job's parameters"]})
        body = request.data
        job = service.submit(request.user, "generate", {**body, "generator": slug})
        return Response(JobSerializer(job, context={"request": request}).data, status=status.HTTP_201_CREATED)

    @extend_schema(responses={200: PresetSerializer(many=True)})
    @action(detail=True, pagination_class=None)
    def presets(self, request, slug=None):
        """The generator's presets you can use: first its own defaults (implicit), then yours and the public ones."""
        generator = self.get_object()
        try:
            spec = registry.get(generator.slug)
        except registry.UnknownGenerator:  # a plugin's row outlived its uninstall
            raise JobTargetNotFound(f"generator {generator.slug!r} is no longer installed") from None
        builtin = {"name": DEFAULTS, "generator": spec.slug, "description": "The generator's own defaults.",
                   "parameters": fill_defaults(spec.schema, {}), "owner": None,
                   "public": True, "builtin": True, "created_by": None, "tuned_on": None, "created_at": None}
        rows = PresetSerializer(visible_presets(generator.slug, request.user), many=True, context={"request": request})
        return Response([builtin, *rows.data])

    def get_object(self):
        try:
            return super().get_object()
        except Http404:
            raise JobTargetNotFound(f"unknown generator {self.kwargs.get('slug')!r}") from None


class JobViewSet(mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    job_submitting_actions = ("create",)
    request_schemas = {"create": job_request_schema}
    permission_classes = [IsAuthenticatedOrReadOnly]
    parser_classes = [GuardedJSONParser]
    filterset_class = JobFilter

    def get_queryset(self):
        jobs = visible_jobs(self.request.user).select_related("owner", "dataset", "output_version")
        if self.action == "list" and "parent" not in self.request.query_params:
            # Shards are listed under their job only: ?parent=<id>.
            jobs = jobs.filter(parent__isnull=True)
        return jobs

    def get_serializer_class(self):
        return JobCreateSerializer if self.action == "create" else JobSerializer

    @extend_schema(responses={201: JobSerializer})
    def create(self, request, *args, **kwargs):
        payload = JobCreateSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        job = service.submit(request.user, payload.validated_data["type"], payload.validated_data["parameters"])
        policy.audit(request.user, "submit", f"job {job.pk}", type=job.type)
        return Response(JobSerializer(job, context={"request": request}).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses={
        200: JobSerializer, 409: OpenApiResponse(description="The job has already finished: nothing to cancel.")})
    @action(detail=True, methods=["post"], permission_classes=[IsAuthenticated])
    def cancel(self, request, pk=None):
        job = self.get_object()
        if not service.cancel(job):
            return Response({"detail": f"job is already {job.state}"}, status=status.HTTP_409_CONFLICT)
        policy.audit(request.user, "cancel", f"job {job.pk}")
        return Response(JobSerializer(job, context={"request": request}).data)
