"""Fixtures of the platform tests: a restricted real table and a synthetic dataset evaluated against it."""

import pytest

from access.models import Grant
from catalog.models import Dataset
from tests.support.tables import publish_table, real_table


@pytest.fixture
def reference(user, django_user_model):
    owner = django_user_model.objects.create_user("keeper")
    dataset = Dataset.objects.create(slug="real-table", title="Real", modality="tabular", kind="reference",
                                     access="restricted", owner=owner)
    publish_table(dataset, real_table(), "v1")
    Grant.objects.create(dataset=dataset, user=user)
    return dataset


@pytest.fixture
def synthetic(user, reference):
    return Dataset.objects.create(slug="syn-table", title="Synthetic", modality="tabular", kind="synthetic",
                                  access="private", owner=user, reference=reference)
