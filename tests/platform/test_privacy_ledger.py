"""The privacy ledger: reads of restricted data are recorded; overspending is refused up front."""

import pytest

from access import ledger
from access.models import PrivacySpend
from catalog.models import Dataset
from jobs import service
from jobs.models import Job
from tests.platform.test_evaluate_job import noise_table, publish_table

pytestmark = pytest.mark.django_db


@pytest.fixture
def budgeted(user):
    return Dataset.objects.create(slug="people", title="People", modality="tabular", kind="reference",
                                  access="restricted", owner=user, epsilon_budget=1.0)


def a_job(user):
    return Job.objects.create(type="generate", owner=user)


def test_spends_add_up_until_the_budget_refuses(user, budgeted):
    ledger.reserve(a_job(user), budgeted, 0.4)
    ledger.reserve(a_job(user), budgeted, 0.6)
    assert ledger.spent(budgeted) == pytest.approx(1.0)
    with pytest.raises(ledger.BudgetExceeded, match="epsilon budget of 1"):
        ledger.reserve(a_job(user), budgeted, 0.01)
    assert PrivacySpend.objects.count() == 2


def test_a_dataset_without_a_budget_only_records(user, budgeted):
    budgeted.epsilon_budget = None
    budgeted.save()
    ledger.reserve(a_job(user), budgeted, 50.0)
    assert ledger.spent(budgeted) == 50.0


def test_an_evaluation_records_its_read_of_the_restricted_reference(user):
    reference = Dataset.objects.create(slug="real", title="r", modality="tabular", kind="reference",
                                       access="restricted", owner=user, epsilon_budget=0.0)
    publish_table(reference, noise_table(), "v1")
    synthetic = Dataset.objects.create(slug="syn", title="s", modality="tabular", kind="synthetic",
                                       owner=user, reference=reference)
    version = publish_table(synthetic, noise_table(seed=2), "v1")
    job = service.submit(user, "evaluate", {"version": version.pk})
    spend = PrivacySpend.objects.get(job=job)
    assert spend.dataset == reference and spend.epsilon == 0.0
    assert service.cancel(job)  # cancelled before it ran: the reservation is returned
    assert not PrivacySpend.objects.filter(job=job).exists()
