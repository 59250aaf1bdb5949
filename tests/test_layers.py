"""The layer rules, read from the source with ``ast``: imports point downward only.

    framework adapters (starlette/fastapi, flask, django)    core (the CDI service)
                 \\                                           /       |
          framework (flows, transport, error table)         /   admin (the console)
                         \\                                 /       /
            tessera, syncio, asyncio (facades), _tessera, revocation
                                    |
                                  engine  (sans-I/O: no HTTP, no driver, no clock)
                                    |     (errors, error_answers, housekeeping: shared by all)
                                    |
                      storage.base (the store interface)  <-  storage backends

Imports under ``if TYPE_CHECKING:`` are ignored (they never run); imports inside
functions count.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"
PACKAGE = SRC / "tessera"
DRIVERS = ("sqlite3", "psycopg", "psycopg2", "pymysql", "MySQLdb", "redis", "asyncpg")
ADAPTERS = ("starlette", "fastapi", "flask", "django")


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULES = {_module_name(p): p for p in PACKAGE.rglob("*.py")}


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _import_nodes(tree: ast.AST) -> Iterator[ast.Import | ast.ImportFrom]:
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.If) and _is_type_checking(node):
            yield from (n for s in node.orelse for n in _import_nodes_of(s))
            continue
        yield from _import_nodes_of(node)


def _import_nodes_of(node: ast.AST) -> Iterator[ast.Import | ast.ImportFrom]:
    if isinstance(node, ast.Import | ast.ImportFrom):
        yield node
    else:
        yield from _import_nodes(node)


def imports_of(module: str) -> set[str]:
    """The modules ``module`` imports (absolute names; ``tessera.x`` or third-party)."""
    path = MODULES[module]
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: set[str] = set()
    for node in _import_nodes(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
            continue
        base = node.module or ""
        if node.level:
            anchor = package.split(".")
            anchor = anchor[: len(anchor) - node.level + 1]
            base = ".".join(anchor + ([node.module] if node.module else []))
        for alias in node.names:
            submodule = f"{base}.{alias.name}"
            found.add(submodule if submodule in MODULES else base)
    return found


def _inside(name: str, *packages: str) -> bool:
    return any(name == p or name.startswith(p + ".") for p in packages)


def _broken(
    of: str, forbidden: tuple[str, ...], allowed: tuple[str, ...] = ()
) -> list[tuple[str, str]]:
    """The imports by modules inside ``of`` of modules inside ``forbidden``."""
    return [
        (module, imported)
        for module in MODULES
        if _inside(module, of)
        for imported in imports_of(module)
        if _inside(imported, *forbidden) and not _inside(imported, *allowed)
    ]


def test_engine_imports_no_framework_core_feed_driver_or_facade() -> None:
    assert not _broken(
        "tessera.engine",
        (
            *("tessera.framework", "tessera.core", "tessera.revocation", "tessera.storage"),
            *("tessera._tessera", "tessera.syncio", "tessera.asyncio", "tessera._sync"),
            *("tessera._async", "tessera.cli"),
            *DRIVERS,
        ),
        allowed=("tessera.storage.base",),
    )


def test_storage_imports_no_engine_and_nothing_above_it() -> None:
    above = ("tessera.engine", "tessera.framework", "tessera.core", "tessera.revocation")
    assert not _broken("tessera.storage", above)


def test_core_imports_no_framework() -> None:
    assert not _broken("tessera.core", ("tessera.framework",))


def test_the_admin_console_imports_no_core_framework_or_driver() -> None:
    """One console over the store and engine: the core and the embedded mounts serve it,
    so it leans on neither, nor on a web framework."""
    assert not _broken("tessera.admin", ("tessera.core", "tessera.framework", *ADAPTERS, *DRIVERS))


def test_nothing_below_the_framework_imports_it() -> None:
    below = [m for m in MODULES if not _inside(m, "tessera.framework")]
    assert not [(m, i) for m in below for i in imports_of(m) if _inside(i, "tessera.framework")]


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_adapters_do_not_import_each_other(adapter: str) -> None:
    others = tuple(f"tessera.framework.{a}" for a in ADAPTERS if a != adapter)
    # FastAPI runs on Starlette: its adapter is the Starlette one under FastAPI's name.
    allowed = ("tessera.framework.starlette",) if adapter == "fastapi" else ()
    assert not _broken(f"tessera.framework.{adapter}", others, allowed)


@pytest.mark.parametrize(
    "module", ["tessera.errors", "tessera.error_answers", "tessera.housekeeping"]
)
def test_shared_modules_at_the_root_import_only_the_error_tree(module: str) -> None:
    """The error tree, its table of answers and the purge job serve the framework and the
    core alike: they must not lean on either (nor on the engine or storage)."""
    inner = {i for i in imports_of(module) if _inside(i, "tessera")}
    assert inner <= {"tessera.errors"}


def test_the_doctor_stands_outside_and_only_the_cli_uses_it() -> None:
    """``tessera doctor`` looks at an app from outside, over HTTP: it shares no code with
    the layers it checks (only the package's version), and nothing but the CLI imports it."""
    inner = {
        i
        for m in MODULES
        if _inside(m, "tessera.doctor")
        for i in imports_of(m)
        if _inside(i, "tessera") and not _inside(i, "tessera.doctor")
    }
    assert inner <= {"tessera"}
    users = {
        m
        for m in MODULES
        if not _inside(m, "tessera.doctor")
        for i in imports_of(m)
        if _inside(i, "tessera.doctor")
    }
    assert users == {"tessera.cli"}


def test_no_import_cycle() -> None:
    graph = {m: {i for i in imports_of(m) if i in MODULES and i != m} for m in MODULES}
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []
    cycles: list[list[str]] = []

    def visit(module: str) -> None:
        state[module] = 1
        path.append(module)
        for nxt in sorted(graph[module]):
            if state.get(nxt) == 1:
                cycles.append([*path[path.index(nxt) :], nxt])
            elif nxt not in state:
                visit(nxt)
        path.pop()
        state[module] = 2

    for module in sorted(graph):
        if module not in state:
            visit(module)
    assert not cycles


def test_the_checker_sees_imports() -> None:
    """The rules above are only worth something if imports are found at all."""
    assert "tessera.engine.keyring" in imports_of("tessera.engine._base")
    assert "tessera._tessera" in imports_of("tessera")
    assert "tessera" in imports_of("tessera.syncio")  # ``from . import get_default``
