"""The schema-driven form: every registered generator's defaults survive a round trip."""

import pytest
from django.http import QueryDict
from django.template.loader import render_to_string

from generators import registry
from generators.params import ParameterError, fill_defaults
from portal.schema_form import fields_for, read_values


def post_of(fields, data: QueryDict) -> QueryDict:
    for item in fields:
        if item.widget == "group":
            post_of(item.children, data)
        elif item.widget == "checkbox":
            if item.value:
                data[item.name] = "on"
        else:
            data[item.name] = item.display
    return data


@pytest.mark.parametrize("spec", registry.all_specs(), ids=lambda s: s.slug)
def test_defaults_round_trip_through_the_form(spec):
    defaults = registry.validate(spec.slug, {})
    fields = fields_for(spec.schema, fill_defaults(spec.schema, {}))
    posted = post_of(fields, QueryDict(mutable=True))
    assert registry.validate(spec.slug, read_values(spec.schema, posted)) == defaults


def test_typed_inputs_are_converted_and_bad_ones_named():
    schema = {"type": "object", "properties": {
        "n": {"type": "integer"}, "rate": {"type": "number"}, "mode": {"enum": ["a", 2]},
        "on": {"type": "boolean"}, "box": {"type": "object", "properties": {"low": {"type": "number"}}},
        "items": {"type": "array"}}}
    posted = QueryDict("p.n=3&p.rate=0.5&p.mode=2&p.on=on&p.box.low=-1&p.items=[1,2]")
    assert read_values(schema, posted) == {"n": 3, "rate": 0.5, "mode": 2, "on": True, "box": {"low": -1.0},
                                           "items": [1, 2]}
    with pytest.raises(ParameterError) as bad:
        read_values(schema, QueryDict("p.box.low=lots"))
    assert bad.value.field == "box.low"
    with pytest.raises(ParameterError, match="not valid JSON"):
        read_values(schema, QueryDict("p.items=[1,"))
    for infinite in ("nan", "1e400", "-inf"):  # float() takes them; no schema bound stops a NaN
        with pytest.raises(ParameterError, match="not a finite number") as bad:
            read_values(schema, QueryDict(f"p.rate={infinite}"))
        assert bad.value.field == "rate"
    assert read_values(schema, QueryDict("p.n=")) == {"on": False}  # empty: the default applies


def test_distributions_render_as_a_kind_and_its_parameters_and_read_back():
    spec = registry.get("scenes")
    fields = fields_for(spec.schema, fill_defaults(spec.schema, {}))
    camera = next(f for f in fields if f.path == "camera")
    fov = next(f for f in camera.children if f.path == "camera.fov_deg")
    assert fov.widget == "group"
    kind = fov.children[0]
    assert kind.widget == "select" and kind.value == "uniform" and {"normal", "constant"} <= set(kind.choices)
    assert {f.path.rsplit(".", 1)[1]: f.widget for f in fov.children[1:]} == {
        "low": "number", "high": "number", "mean": "number", "std": "number", "value": "number"}
    texture = next(f for f in next(f for f in fields if f.path == "background").children
                   if f.path == "background.texture")
    weights = next(f for f in texture.children if f.path == "background.texture.weights")
    assert [f.path for f in weights.children] == [f"background.texture.weights.{o}"
                                                  for o in ("checker", "stripes", "noise", "plain")]
    # A user switches the field of view to a normal and clears one texture weight.
    posted = post_of(fields, QueryDict(mutable=True))
    posted["p.camera.fov_deg.distribution"] = "normal"
    posted["p.camera.fov_deg.mean"], posted["p.camera.fov_deg.std"] = "60", "4"
    posted["p.background.texture.weights.noise"] = ""
    params = registry.validate("scenes", read_values(spec.schema, posted))
    found = {item.path: item.distribution for item in spec.tunable(params)}
    assert (found["camera.fov_deg"].kind, found["camera.fov_deg"].mean, found["camera.fov_deg"].std) == ("normal", 60, 4)
    assert found["background.texture"].weights == {"checker": 1.0, "stripes": 1.0, "noise": 0.0, "plain": 0.5}
    # Every weight cleared: the choice's default weights apply, as for any field left empty.
    for option in ("checker", "stripes", "noise", "plain"):
        posted[f"p.background.texture.weights.{option}"] = ""
    params = registry.validate("scenes", read_values(spec.schema, posted))
    assert params["background"]["texture"] == registry.validate("scenes", {})["background"]["texture"]


def test_a_type_list_is_a_nullable_field_of_its_first_non_null_type():
    schema = {"type": "object", "properties": {
        "rate": {"type": ["number", "null"], "default": 0.5, "minimum": 0},
        "k": {"type": ["null", "integer"], "default": None},
        "name": {"type": ["string"]}}}
    fields = fields_for(schema, fill_defaults(schema, {}))
    assert [(f.widget, f.nullable, f.display) for f in fields] == [
        ("number", True, "0.5"), ("integer", True, ""), ("text", False, "")]
    html = render_to_string("portal/_schema_field.html", {"field": fields[0]})
    assert 'name="p.rate" value="0.5"' in html and "leave empty for none" in html
    assert read_values(schema, post_of(fields, QueryDict(mutable=True))) == {"rate": 0.5, "k": None}
    assert read_values(schema, QueryDict("p.rate=&p.k=3&p.name=x")) == {"rate": None, "k": 3, "name": "x"}
    with pytest.raises(ParameterError, match="not an integer") as bad:
        read_values(schema, QueryDict("p.k=many"))
    assert bad.value.field == "k"
