"""One registry pattern for everything declared once: generators, metrics, data formats, job types.

A :class:`Registry` holds items by key, in registration order. Built-ins are named by dotted path
(``"package.module.NAME"``, a declaration or a sequence of them) and imported on first use, so a
declaration's module may import whatever it needs without import cycles; third parties publish
theirs under an entry-point group, and deployments may name more by dotted path
(:meth:`Registry.register_path`). The first read loads the rest and freezes the registry: registering
afterwards is an error, so every process of a deployment sees the same set (NetBox's
``registry`` works the same way). Tests and notebooks add items for a block with
:meth:`Registry.temporarily_registered`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from importlib import import_module
from importlib.metadata import entry_points
from typing import Generic, TypeVar

T = TypeVar("T")


class Unknown(LookupError):
    """No item of that key; the message lists the known ones."""

    def __init__(self, what: str, key: str, known: Sequence[str]) -> None:
        super().__init__(f"unknown {what} {key!r}; known {what}s: {', '.join(known) or 'none'}")
        self.key = key


class Registry(Generic[T]):
    """Items of type ``kind`` by ``key(item)``; ``what`` names them in errors ("generator")."""

    def __init__(self, what: str, kind: type, key: Callable[[T], str], *, builtins: Sequence[str] = (),
                 entry_point_group: str | None = None, unknown: type[Unknown] = Unknown) -> None:
        self.what, self.kind, self.key = what, kind, key
        self.builtins, self.entry_point_group, self.unknown = tuple(builtins), entry_point_group, unknown
        self._items: dict[str, T] = {}
        # Where each item came from: "builtin", a plugin's distribution name, or an entry point's value.
        self._sources: dict[str, str] = {}
        self._builtins_loaded = self._loading = self._frozen = False

    def register(self, item: T, source: str = "builtin") -> T:
        if self._frozen:
            raise RuntimeError(f"{self.what} registry is frozen; cannot register {self.key(item)!r}")
        self._load_builtins()  # built-ins come first: registration order is the registry's order
        if not isinstance(item, self.kind):
            raise TypeError(f"a {self.what} must be a {self.kind.__name__}, got {type(item).__name__}")
        name = self.key(item)
        if name in self._items and self._items[name] is not item:
            raise ValueError(f"{self.what} {name!r} is registered twice")
        self._items[name] = item
        self._sources[name] = source
        return item

    def register_path(self, path: str) -> None:
        """Register the declaration (or sequence of them) at dotted ``path``, recorded as its source."""
        for item in _declarations(path):
            self.register(item, source=path)

    def _load_builtins(self) -> None:
        if self._builtins_loaded or self._loading:
            return
        self._loading = True
        try:
            for path in self.builtins:
                for item in _declarations(path):
                    self.register(item)
        finally:
            self._loading = False
        self._builtins_loaded = True

    def freeze(self) -> None:
        """Load the built-ins and the plugins, then close the registry (done on first read)."""
        if self._frozen or self._loading:
            return
        self._load_builtins()
        for entry in entry_points(group=self.entry_point_group) if self.entry_point_group else ():
            self.register(entry.load(), source=entry.dist.name if entry.dist else entry.value)
        self._frozen = True

    @property
    def frozen(self) -> bool:
        return self._frozen

    def get(self, key: str) -> T:
        self.freeze()
        try:
            return self._items[key]
        except KeyError:
            raise self.unknown(self.what, key, list(self._items)) from None

    def __contains__(self, key: object) -> bool:
        self.freeze()
        return key in self._items

    def all(self) -> list[T]:
        """Every item, in registration order."""
        self.freeze()
        return list(self._items.values())

    def source_of(self, key: str) -> str:
        return self._sources.get(key, "builtin")

    @contextmanager
    def temporarily_registered(self, item: T) -> Iterator[T]:
        """Make ``item`` available inside the block, even once frozen (tests, notebooks)."""
        self.freeze()
        name = self.key(item)
        if name in self._items:
            raise ValueError(f"{self.what} {name!r} is already registered")
        self._items[name] = item
        try:
            yield item
        finally:
            del self._items[name]


def _declarations(path: str) -> Sequence:
    module, _, attribute = path.replace(":", ".").rpartition(".")
    if not module:
        raise ValueError(f"dotted path {path!r} must be 'package.module.NAME'")
    declared = getattr(import_module(module), attribute)
    return declared if isinstance(declared, (list, tuple)) else (declared,)
