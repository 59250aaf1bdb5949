"""The sync and async facades are one API in two colours: same functions, same
parameters, defaults, annotations and docstrings; and every public function has a
docstring. ``_async.py`` is generated from ``_sync.py`` by scripts/generate_async.py;
these tests keep the checked-in file what the generator writes, and check the generator.
"""

from __future__ import annotations

import importlib.util
import inspect
from pathlib import Path
from types import ModuleType

import pytest

import tessera
import tessera.asyncio
import tessera.syncio

ROOT = Path(__file__).resolve().parents[1]


def _generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "generate_async", ROOT / "scripts" / "generate_async.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


generator = _generator()


def test_the_async_facade_is_what_the_generator_writes() -> None:
    checked_in = (ROOT / "src" / "tessera" / "_async.py").read_text()
    assert checked_in == generator.generate_from_files(), (
        "src/tessera/_async.py is out of date: run .venv/bin/python scripts/generate_async.py"
    )


def _sources() -> tuple[str, str, str]:
    return (
        generator.SYNC.read_text(),
        generator.LOOP_MODULE.read_text(),
        generator.SESSION_BASE.read_text(),
    )


def test_a_new_sync_method_gets_its_async_twin() -> None:
    sync, loop, base = _sources()
    anchor = "    def get_jwks(self)"
    new = (
        "    def count_devices(\n"
        "        self, user_id: str, *, tenant_id: str | None = None\n"
        "    ) -> int:\n"
        '        """How many devices."""\n'
        "        return 0\n\n"
    )
    output = generator.generate(sync.replace(anchor, new + anchor), loop, base)
    assert (
        "    async def count_devices(self, user_id: str, *, tenant_id: str | None = None) -> int:\n"
        '        """How many devices."""\n'
        "        return await self._owner.in_thread(\n"
        "            self._owner.syncio.count_devices, user_id, tenant_id=tenant_id\n"
        "        )\n"
    ) in output


@pytest.mark.parametrize(
    ("old", "new", "complaint"),
    [
        # The async Session would run this with itself as self: a coroutine, never awaited.
        (
            "return self._information().expiry",
            "return self.get_session_data_from_database()['x']",
            "not SessionBase's",
        ),
        # The async function would hand an async session to the sync one.
        (
            "return session._revoke_others(",
            "return session.revoke_other_sessions(",
            "not SessionBase's",
        ),
        ("session._mark_reauthenticated(amr)", "print(session)", "passed on"),
        # Whether verification can stay on the loop depends on check_database.
        ("        check_database: bool = False,\n", "", "must be the sync function's"),
        ("    ) -> Session:", "    ) -> list[Session]:", "teach the generator"),
    ],
)
def test_the_generator_refuses_what_it_cannot_colour(old: str, new: str, complaint: str) -> None:
    sync, loop, base = _sources()
    assert old in sync
    with pytest.raises(generator.GenerationError, match=complaint):
        generator.generate(sync.replace(old, new, 1), loop, base)


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
