from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from access import policy, requests
from catalog import presets
from catalog.leaderboard import leaderboard
from catalog.models import Dataset, DatasetVersion, Evaluation
from generators import registry
from generators.params import ParameterError, fill_defaults
from jobs import service
from jobs.types import JobParameterError, JobTargetNotFound, get_job_type, submittable
from jobs.visibility import visible_jobs
from portal import evaluations, gate_views, lineage_graph
from portal.access_views import access_needed
from portal.schema_form import fields_for, read_values
from portal.version_views import mark_visible_jobs


def dataset_detail(request, slug):
    dataset = get_object_or_404(Dataset.objects.select_related("reference", "owner"), slug=slug)
    if not policy.can_view(request.user, dataset):
        if policy.is_known_to(request.user, dataset):
            return access_needed(request, dataset)
        raise Http404("No such dataset.")
    versions = list(policy.visible_versions(request.user).filter(dataset=dataset)
                    .select_related("generator", "job", "dataset")
                    .prefetch_related("evaluations", "parent_links__parent__dataset").order_by("-number"))
    evaluations.annotate(versions, request.user)
    mark_visible_jobs(versions, request.user)
    board = leaderboard(dataset, policy.visible_versions(request.user)) if dataset.kind == Dataset.Kind.REFERENCE else []
    reference = dataset.reference
    return render(request, "portal/dataset.html", {
        "dataset": dataset, "versions": versions, "leaderboard": board,
        "downloadable": policy.can_download(request.user, dataset),
        "reference_visible": reference is not None and policy.can_view(request.user, reference),
        "reference_requestable": reference is not None and policy.can_request_access(request.user, reference),
        "lineage": lineage_graph.render_svg(lineage_graph.build(versions[:8], request.user)),
        "access_requests": requests.pending_for(request.user, dataset),
        **gate_views.dataset_context(dataset, request.user),
    })


def evaluation_detail(request, pk):
    evaluation = get_object_or_404(Evaluation.objects.select_related("version__dataset", "reference__dataset"), pk=pk)
    if not policy.can_view_version(request.user, evaluation.version):
        raise Http404("No such evaluation.")
    return render(request, "portal/evaluation.html", {
        "evaluation": evaluation, "results": evaluation.results,
        "reference_visible": policy.can_view(request.user, evaluation.reference.dataset)})


@login_required
def job_list(request):
    jobs = visible_jobs(request.user).filter(parent__isnull=True).select_related("dataset")[:200]
    return render(request, "portal/jobs.html", {"jobs": jobs, "job_types": submittable()})


def _visible_job(request, pk):
    job = visible_jobs(request.user).filter(pk=pk).select_related("dataset").first()
    if job is None:
        raise Http404("No such job.")
    return job


def _job_context(request, job) -> dict:
    """What the job page and its polled fragment show: the job, its version, its follow-up jobs."""
    published = DatasetVersion.objects.filter(job=job).select_related("dataset").first()
    follow_ups = list(visible_jobs(request.user).filter(type="evaluate", inputs=published).exclude(pk=job.pk)
                      .select_related("evaluation").order_by("-created_at")) if published else []
    # Polling goes on while the job or one of its follow-ups (its evaluation) still runs.
    live = not job.finished or any(not f.finished for f in follow_ups)
    return {"job": job, "published": published, "follow_ups": follow_ups, "live": live,
            "log_tail": job.progress_log[-JOB_LOG_LINES:]}


# Lines of the progress log the job page shows (the row keeps up to JobRun.LOG_TAIL).
JOB_LOG_LINES = 20


@login_required
def job_detail(request, pk):
    return render(request, "portal/job.html", _job_context(request, _visible_job(request, pk)))


@login_required
def job_progress(request, pk):
    """The live progress fragment, polled by htmx while the job or its follow-ups run."""
    return render(request, "portal/_job_progress.html", _job_context(request, _visible_job(request, pk)))


@login_required
@require_POST
def job_cancel(request, pk):
    job = _visible_job(request, pk)
    if service.cancel(job):
        messages.info(request, "Job cancelled.")
    return redirect(job)




@login_required
def job_new_of_type(request, job_type):
    """Submit a job of any type users submit, from a form drawn from its parameter schema."""
    declared = next((t for t in submittable() if t.name == job_type), None)
    if declared is None:
        raise Http404(f"No job type {job_type!r}.")
    if declared.name == "generate":  # its form adds the generator's own parameters
        return job_new(request)
    error = None
    if request.method == "POST":
        try:
            job = service.submit(request.user, declared.name, read_values(declared.schema, request.POST))
        except (ParameterError, JobParameterError, JobTargetNotFound) as exc:
            error = str(exc) if not isinstance(exc, ParameterError) else f"parameters.{exc.field}: {exc.message}"
        else:
            return redirect(job)
    posted = request.POST if request.method == "POST" else None
    fields = fields_for(declared.schema, fill_defaults(declared.schema, {}), posted)
    return render(request, "portal/job_new.html", {"job_type": declared, "fields": fields, "error": error},
                  status=400 if error else 200)


@login_required
def job_new(request):
    """Submit a generate job from a form drawn from the generator's parameter schema, started from a preset."""
    specs = registry.all_specs()
    slug = request.POST.get("generator") or request.GET.get("generator") or (specs[0].slug if specs else "")
    if slug not in {spec.slug for spec in specs}:
        raise Http404(f"No generator {slug!r}.")
    spec = registry.get(slug)
    preset = request.POST.get("preset") or request.GET.get("preset") or presets.DEFAULTS
    error = None
    if request.method == "POST":
        try:
            values = read_values(spec.schema, request.POST)
            body = {"generator": slug, "params": values}
            for key in ("dataset", "reference", "preset"):
                if value := request.POST.get(key, "").strip():
                    body[key] = value
            job = service.submit(request.user, "generate", body)
        except (ParameterError, JobParameterError, JobTargetNotFound) as exc:
            error = str(exc) if not isinstance(exc, ParameterError) else f"parameters.params.{exc.field}: {exc.message}"
        else:
            return redirect(job)
    try:  # the fields start from the preset's values, so what the form posts is the preset unless edited
        base = presets.resolve_preset(slug, preset, request.user)
    except presets.UnknownPreset as exc:
        base, error, preset = {}, error or f"parameters.preset: {exc}", presets.DEFAULTS
    posted = request.POST if request.method == "POST" else None
    fields = fields_for(spec.schema, fill_defaults(spec.schema, base), posted)
    template = "portal/_generator_fields.html" if request.htmx else "portal/job_new.html"
    references = [d for d in policy.visible_datasets(request.user).filter(kind=Dataset.Kind.REFERENCE)
                  if d.modality == spec.modality]
    context = {"specs": specs, "spec": spec, "fields": fields, "error": error, "references": references,
               "job_type": get_job_type("generate"),
               "presets": list(presets.visible_presets(slug, request.user)), "preset": preset,
               "dataset": request.POST.get("dataset", ""),
               "reference": request.POST.get("reference", references[0].slug if references else "")}
    return render(request, template, context, status=400 if error else 200)


@login_required
@require_POST
def version_evaluate(request, pk):
    """Queue an evaluation of one version against its dataset's reference."""
    version = get_object_or_404(DatasetVersion.objects.select_related("dataset"), pk=pk)
    if not policy.can_view_version(request.user, version):
        raise Http404("No such version.")
    evaluations.annotate([version], request.user)
    if version.evaluating:  # a second click while one runs would only duplicate it
        messages.info(request, f"{version} is being evaluated already.")
        return redirect("portal:version", pk=version.pk)
    try:
        job = service.submit(request.user, "evaluate", {"version": version.pk})
    except (JobParameterError, JobTargetNotFound) as exc:
        messages.error(request, f"Cannot evaluate {version}: {exc}")
        return redirect(version.dataset)
    return redirect(job)
