"""Where a version's evaluation stands: the newest report, an evaluate job under way, who may start one."""

from __future__ import annotations

from access import policy
from catalog.models import Dataset, DatasetVersion
from jobs.models import Job

UNDER_WAY = (Job.State.QUEUED, Job.State.RUNNING)


def annotate(versions: list[DatasetVersion], user) -> None:
    """Set ``latest_evaluation``, ``evaluating`` and ``can_evaluate`` on each version (evaluations prefetched)."""
    if not versions:
        return
    busy = set(DatasetVersion.objects.filter(pk__in=[v.pk for v in versions], consumer_jobs__type="evaluate",
                                             consumer_jobs__state__in=UNDER_WAY).values_list("pk", flat=True))
    usable = may_evaluate(user, versions[0].dataset)
    for version in versions:
        version.latest_evaluation = max(version.evaluations.all(), key=lambda e: e.created_at, default=None)
        version.evaluating = version.pk in busy
        version.can_evaluate = usable and not version.evaluating and version.status == DatasetVersion.Status.READY


def may_evaluate(user, dataset: Dataset) -> bool:
    """Whether the user could start an evaluation of the dataset's versions: they see it and may use its reference."""
    reference = dataset.reference
    return (user.is_authenticated and dataset.kind == Dataset.Kind.SYNTHETIC and reference is not None
            and policy.can_view(user, dataset) and policy.can_use_as_input(user, reference))
