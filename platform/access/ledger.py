"""The privacy ledger: every job that reads restricted data records what it spends.

Spends are reserved when the job is submitted, in the transaction that creates it, with
the dataset's row locked, so two jobs cannot both squeeze under the budget; a job that
would overspend is refused before it exists. A job cancelled before it ran gets its
reservation back.
"""

from __future__ import annotations

from django.db.models import Sum

from access.models import PrivacySpend
from catalog.models import Dataset


class BudgetExceeded(ValueError):
    def __init__(self, dataset: Dataset, spent: float, epsilon: float) -> None:
        super().__init__(
            f"{dataset.slug} has an epsilon budget of {dataset.epsilon_budget:g}, {spent:g} is spent; "
            f"this job asks for {epsilon:g}. Lower epsilon or ask the dataset's owner for more budget."
        )


def spent(dataset: Dataset) -> float:
    return PrivacySpend.objects.filter(dataset=dataset).aggregate(total=Sum("epsilon"))["total"] or 0.0


def reserve(job, dataset: Dataset, epsilon: float) -> PrivacySpend:
    """Record ``job``'s spend on ``dataset``; call inside the transaction that creates the job."""
    locked = Dataset.objects.select_for_update().get(pk=dataset.pk)
    already = spent(locked)
    if locked.epsilon_budget is not None and already + epsilon > locked.epsilon_budget + 1e-12:
        raise BudgetExceeded(locked, already, epsilon)
    return PrivacySpend.objects.create(dataset=locked, job=job, epsilon=epsilon)


def settle(job, epsilon: float) -> None:
    """Lower ``job``'s booked spend to what its accountant reports it spent (never raise it)."""
    PrivacySpend.objects.filter(job=job, epsilon__gt=epsilon).update(epsilon=epsilon)


def refund(job) -> None:
    PrivacySpend.objects.filter(job=job).delete()
