import io

import pytest
from django.core.management import call_command

from catalog.models import Dataset, DatasetVersion, Generator

pytestmark = pytest.mark.django_db


def test_seed_registers_restricted_references_and_generators_idempotently():
    call_command("seed", stdout=io.StringIO())
    call_command("seed", "--demo-user", "demo", stdout=io.StringIO())
    references = Dataset.objects.filter(kind="reference")
    assert sorted(references.values_list("slug", flat=True)) == ["breast-cancer", "fair", "sklearn-digits", "wine"]
    assert set(references.values_list("access", flat=True)) == {"restricted"}
    assert DatasetVersion.objects.filter(dataset__in=references).count() == 4
    digits = DatasetVersion.objects.get(dataset__slug="sklearn-digits")
    assert digits.samples == 1797
    assert DatasetVersion.objects.get(dataset__slug="fair").samples == 6366
    assert Generator.objects.filter(slug="digits").exists()
    assert Dataset.objects.get(slug="fair").privacy_thresholds == {}  # the gate judges exact matches against real repeats
