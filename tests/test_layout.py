"""How the tests are laid out: like the modules they test, with helpers apart.

- a test directory is named after the subpackage of ``tessera`` it tests (``browser``,
  the browser conformance suite, is the one exception);
- test directories hold test modules, ``conftest.py`` and ``__init__.py`` only: helper
  modules live in ``tests/_support``;
- fixtures live in ``conftest.py`` files, and nothing imports from one (nor from a test
  module): a helper a test imports lives in ``tests/_support``.
"""

from __future__ import annotations

import ast
from pathlib import Path

TESTS = Path(__file__).resolve().parent
PACKAGE = TESTS.parent / "src" / "tessera"
SUPPORT = TESTS / "_support"


def _test_sources() -> list[Path]:
    return [p for p in TESTS.rglob("*.py") if "node_modules" not in p.relative_to(TESTS).parts]


def test_test_directories_are_named_after_subpackages() -> None:
    directories = {p.parent for p in _test_sources()} - {TESTS, SUPPORT}
    strays = [
        d.name
        for d in directories
        if d.name != "browser" and not (PACKAGE / d.relative_to(TESTS) / "__init__.py").exists()
    ]
    assert not strays


def test_helper_modules_live_in_support() -> None:
    strays = [
        str(p.relative_to(TESTS))
        for p in _test_sources()
        if SUPPORT not in p.parents
        and p.name not in ("conftest.py", "__init__.py")
        and not p.name.startswith("test_")
    ]
    assert not strays


def test_nothing_imports_from_a_conftest_or_a_test_module() -> None:
    importers = []
    for path in _test_sources():
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.ImportFrom):
                names = [node.module or "", *(alias.name for alias in node.names)]
            elif isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            else:
                continue
            last = [name.rpartition(".")[2] for name in names]
            if any(n == "conftest" or n.startswith("test_") for n in last):
                importers.append(str(path.relative_to(TESTS)))
    assert not importers
