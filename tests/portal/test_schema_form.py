"""The schema-driven form: every registered generator's defaults survive a round trip."""

import pytest
from django.http import QueryDict

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
    assert read_values(schema, QueryDict("p.n=")) == {"on": False, "box": {}}  # empty: default applies
