"""The sync and async facades are one API in two colours: same functions, same
parameters, defaults, annotations and docstrings; and every public function has a
docstring. The async file is a thin copy of the sync one; this test keeps them equal."""

from __future__ import annotations

import inspect

import pytest

import tessera
import tessera.asyncio
import tessera.syncio

PAIRS = [
    (tessera.syncio.SyncSessions, tessera.asyncio.AsyncSessions),
    (tessera.syncio.Session, tessera.asyncio.Session),
]


def _public_methods(cls: type) -> dict[str, object]:
    return {
        name: member
        for name, member in inspect.getmembers(cls, inspect.isfunction)
        if not name.startswith("_")
    }


@pytest.mark.parametrize(("sync_cls", "async_cls"), PAIRS, ids=lambda c: c.__qualname__)
def test_async_twin_has_the_same_signatures_and_docstrings(sync_cls: type, async_cls: type) -> None:
    sync, async_ = _public_methods(sync_cls), _public_methods(async_cls)
    assert sync.keys() == async_.keys()
    for name, method in sync.items():
        twin = async_[name]
        assert inspect.signature(method) == inspect.signature(twin), name  # type: ignore[arg-type]
        assert inspect.getdoc(method) == inspect.getdoc(twin), name
        # Methods the classes share (the getters) are the same function; the others are
        # awaited in the async twin.
        if twin is not method:
            assert inspect.iscoroutinefunction(twin), name
            assert not inspect.iscoroutinefunction(method), name


@pytest.mark.parametrize("module", [tessera.syncio, tessera.asyncio], ids=lambda m: m.__name__)
def test_module_functions_are_the_facade_methods(module: object) -> None:
    facade = getattr(module, "SyncSessions", None) or module.AsyncSessions  # type: ignore[attr-defined]
    for name in module.__all__:  # type: ignore[attr-defined]
        if name in ("Session", "SyncSessions", "AsyncSessions"):
            continue
        function, method = getattr(module, name), getattr(facade, name)
        bound = inspect.signature(method)
        expected = bound.replace(parameters=list(bound.parameters.values())[1:])
        assert inspect.signature(function) == expected, name
        assert function.__doc__ == method.__doc__, name
        assert function.__module__ == module.__name__  # type: ignore[attr-defined]
        assert inspect.iscoroutinefunction(function) == inspect.iscoroutinefunction(method)


@pytest.mark.parametrize("module", [tessera, tessera.syncio, tessera.asyncio])
def test_every_public_function_has_a_docstring(module: object) -> None:
    undocumented = []
    for name in module.__all__:  # type: ignore[attr-defined]
        value = getattr(module, name)
        members = [(name, value)]
        if isinstance(value, type):
            members += [(f"{name}.{m}", f) for m, f in _public_methods(value).items()]
        undocumented += [n for n, f in members if callable(f) and not inspect.getdoc(f)]
    assert not undocumented
