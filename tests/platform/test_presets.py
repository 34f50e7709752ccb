"""Generator presets: registered and checked once, visible to their owner (or everyone when public),
and the base of a generate job from the API, the portal and the command line."""

import numpy as np
import pytest
from django.core.management import CommandError, call_command

from catalog.loaders import load_arrays
from catalog.models import DatasetVersion, GeneratorPreset, VersionParent
from catalog.presets import PresetError, UnknownPreset, register_preset, resolve_preset
from generators.registry import UnknownGenerator
from jobs import runner, service
from jobs.models import Job
from jobs.types import JobParameterError

pytestmark = pytest.mark.django_db

# Only 1s and 7s, always slanted the same way: visible in what the generator draws.
SEVENS = {"classes": [1, 7], "slant": {"distribution": "constant", "value": 0.2}, "n": 500}


def run(job: Job) -> DatasetVersion:
    runner.execute(str(job.pk))
    job.refresh_from_db()
    assert job.state == "succeeded", job.error
    return DatasetVersion.objects.get(job=job)


def test_a_preset_is_checked_against_its_generator_schema(user, other_user):
    with pytest.raises(PresetError) as refused:
        register_preset("digits", "bad", {"classes": [12]}, user)
    assert refused.value.field == "parameters.classes.0"
    with pytest.raises(PresetError, match="not a known parameter"):
        register_preset("digits", "bad", {"colour": "red"}, user)
    for name in ("Not A Slug", "defaults"):
        with pytest.raises(PresetError) as refused:
            register_preset("digits", name, {}, user)
        assert refused.value.field == "name"
    with pytest.raises(UnknownGenerator):
        register_preset("no-such-generator", "x", {}, user)
    assert not GeneratorPreset.objects.exists()

    first = register_preset("digits", "sevens", SEVENS, user)
    again = register_preset("digits", "sevens", {**SEVENS, "n": 40}, user)  # its owner replaces it
    assert again.pk == first.pk and GeneratorPreset.objects.get().parameters["n"] == 40
    with pytest.raises(PresetError, match="another user"):
        register_preset("digits", "sevens", SEVENS, other_user)


def test_presets_are_visible_to_their_owner_and_public_ones_to_all(user, other_user, django_user_model):
    from django.contrib.auth.models import AnonymousUser

    register_preset("digits", "mine", SEVENS, user)
    register_preset("digits", "shared", {"classes": [3]}, other_user, public=True)
    assert resolve_preset("digits", "mine", user) == SEVENS
    with pytest.raises(UnknownPreset):
        resolve_preset("digits", "mine", other_user)
    assert resolve_preset("digits", "shared", AnonymousUser()) == {"classes": [3]}
    assert resolve_preset("digits", "defaults", AnonymousUser()) == {}
    with pytest.raises(UnknownPreset):  # presets belong to one generator
        resolve_preset("shapes", "shared", user)


def test_a_preset_tuned_on_restricted_data_is_never_public_nor_what_it_makes_until_it_passes(user, reference):
    from rest_framework.test import APIClient

    tuned_on = reference.latest_ready_version()
    with pytest.raises(PresetError) as refused:
        register_preset("digits", "learnt", SEVENS, user, tuned_on=tuned_on, public=True)
    assert refused.value.field == "public"
    register_preset("digits", "learnt", SEVENS, user, tuned_on=tuned_on)
    job = service.submit(user, "generate", {"generator": "digits", "preset": "learnt", "access": "public",
                                            "dataset": "learnt-digits", "params": {"n": 12}})
    version = run(job)
    assert version.gate == "held"  # the release gate: its parameters were learnt from real records
    assert APIClient().get(f"/api/versions/{version.pk}/").status_code == 404


def test_a_generate_job_starts_from_the_preset_and_its_own_parameters_win(client, user, reference):
    tuned_on = reference.latest_ready_version()
    finder = Job.objects.create(type="generate", owner=user, state="succeeded")
    register_preset("digits", "sevens", SEVENS, user, job=finder, tuned_on=tuned_on)
    job = service.submit(user, "generate", {"generator": "digits", "preset": "sevens", "dataset": "from-preset",
                                            "params": {"n": 24, "seed": 5}})
    params = job.parameters["params"]
    assert params["n"] == 24 and params["seed"] == 5 and params["classes"] == [1, 7]
    assert job.parameters["preset"] == "sevens"
    version = run(job)
    assert set(np.unique(load_arrays(version, ("labels",))["labels"])) <= {1, 7}
    # Lineage: the version was tuned on what the preset was tuned on.
    assert VersionParent.objects.filter(child=version, parent=tuned_on, relation="tuned-on").exists()
    client.force_login(user)
    graph = client.get("/datasets/from-preset/").content.decode()
    assert "preset sevens" in graph and "started from" in graph and "tuned-on" in graph

    with pytest.raises(JobParameterError) as refused:
        service.submit(user, "generate", {"generator": "digits", "preset": "nope"})
    assert refused.value.field == "parameters.preset" and "nope" in str(refused.value)


def test_the_api_lists_the_presets_you_can_use_defaults_first(api, user, other_user):
    register_preset("digits", "mine", SEVENS, user)
    register_preset("digits", "theirs", SEVENS, other_user)
    register_preset("digits", "open", {"classes": [3]}, other_user, public=True)
    response = api.get("/api/generators/digits/presets/")
    assert response.status_code == 200
    names = [p["name"] for p in response.json()]
    assert names == ["defaults", "mine", "open"]
    assert response.json()[0]["parameters"]["n"] == 1000 and response.json()[0]["builtin"] is True
    assert api.get("/api/generators/nope/presets/").status_code == 404
    body = api.post("/api/generators/digits/generate/", {"preset": "open", "params": {"n": 10}}, format="json")
    assert body.status_code == 201 and body.json()["parameters"]["params"]["classes"] == [3]
    refused = api.post("/api/generators/digits/generate/", {"preset": "theirs"}, format="json")
    assert refused.status_code == 400 and "preset" in refused.content.decode()


def test_the_portal_lists_presets_and_the_form_starts_from_one(client, user):
    register_preset("digits", "sevens", SEVENS, user, description="Ones and sevens")
    client.force_login(user)
    page = client.get("/generators/digits/").content.decode()
    assert 'id="preset-sevens"' in page and "Ones and sevens" in page
    assert "/jobs/new/?generator=digits&amp;preset=sevens" in page
    form = client.get("/jobs/new/?generator=digits&preset=sevens").content.decode()
    assert '<option value="sevens" selected>' in form
    assert 'name="p.n" value="500"' in form  # the fields hold the preset's values
    response = client.post("/jobs/new/", {"generator": "digits", "preset": "sevens", "p.n": "30"})
    assert response.status_code == 302
    job = Job.objects.get(type="generate")
    assert job.parameters["preset"] == "sevens" and job.parameters["params"]["n"] == 30
    assert client.get("/jobs/new/?generator=digits&preset=nope").status_code == 400


def test_the_command_line_submits_with_a_preset(user):
    user.is_superuser = True
    user.save()
    register_preset("digits", "sevens", SEVENS, user)
    call_command("submit", "generate", '{"generator": "digits", "params": {"n": 12}}', "--preset", "sevens",
                 "--no-follow")
    job = Job.objects.get(type="generate")
    assert job.parameters["preset"] == "sevens" and job.parameters["params"]["classes"] == [1, 7]
    with pytest.raises(CommandError, match="takes no preset"):
        call_command("submit", "evaluate", "{}", "--preset", "sevens", "--no-follow")
