"""The one registry pattern: built-ins by dotted path, plugins by entry point, frozen on first read."""

from __future__ import annotations

from dataclasses import dataclass
from importlib.metadata import EntryPoint

import pytest

import contracts.registry
from contracts.registry import Registry, Unknown


@dataclass(frozen=True)
class Thing:
    name: str


BUILTIN = [Thing("first"), Thing("second")]
EXTRA = Thing("extra")
PLUGIN = Thing("plugin")


def things(**kwargs) -> Registry[Thing]:
    return Registry("thing", Thing, lambda t: t.name, builtins=[f"{__name__}.BUILTIN"], **kwargs)


def test_builtins_load_on_first_read_in_order_and_then_it_is_frozen():
    registry = things()
    assert [t.name for t in registry.all()] == ["first", "second"]
    assert registry.frozen
    with pytest.raises(RuntimeError, match="thing registry is frozen; cannot register 'late'"):
        registry.register(Thing("late"))


def test_items_registered_before_freezing_come_after_the_builtins():
    registry = things()
    registry.register_path(f"{__name__}:EXTRA")
    assert [t.name for t in registry.all()] == ["first", "second", "extra"]
    assert registry.source_of("extra") == f"{__name__}:EXTRA"
    assert registry.source_of("first") == "builtin"


def test_plugins_come_from_the_entry_point_group(monkeypatch):
    entry = EntryPoint("plugin", f"{__name__}:PLUGIN", "test.things")
    monkeypatch.setattr(contracts.registry, "entry_points", lambda group: [entry] if group == "test.things" else [])
    registry = things(entry_point_group="test.things")
    assert registry.get("plugin") is PLUGIN
    assert registry.source_of("plugin") == entry.value


def test_unknown_keys_name_the_known_ones_and_a_custom_error_class():
    class UnknownThing(Unknown):
        pass

    with pytest.raises(UnknownThing, match="unknown thing 'nope'; known things: first, second"):
        things(unknown=UnknownThing).get("nope")


def test_wrong_types_and_double_registrations_are_refused():
    registry = things()
    with pytest.raises(TypeError, match="a thing must be a Thing, got str"):
        registry.register("first")
    with pytest.raises(ValueError, match="'first' is registered twice"):
        registry.register(Thing("first"))
    registry.register(BUILTIN[0])  # the same declaration again is harmless


def test_temporarily_registered_items_leave_with_the_block():
    registry = things()
    with registry.temporarily_registered(Thing("tmp")) as tmp:
        assert registry.get("tmp") is tmp and "tmp" in registry
    assert "tmp" not in registry
    with pytest.raises(ValueError, match="already registered"), registry.temporarily_registered(Thing("first")):
        pass


def test_a_bad_dotted_path_says_what_it_must_look_like():
    with pytest.raises(ValueError, match="must be 'package.module.NAME'"):
        Registry("thing", Thing, lambda t: t.name, builtins=["nodots"]).all()
