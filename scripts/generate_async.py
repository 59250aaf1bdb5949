#!/usr/bin/env python3
'''Writes ``src/tessera/_async.py``, the async facade, from the sync one, ``_sync.py``.

    .venv/bin/python scripts/generate_async.py           # rewrite _async.py
    .venv/bin/python scripts/generate_async.py --check   # exit 1 when it is out of date

Each method of a class of ``_sync.py`` becomes an ``async def`` with the same name,
parameters, annotations and docstring, in the async class named in ``CLASSES`` (in
``_async.py``, ``Session`` in an annotation is the async one). Its body runs the sync
method on the ``Tessera`` object's worker threads::

    async def revoke_session(self, session_handle: str) -> bool:
        """End one session; False when there was none by that handle."""
        return await self._owner.in_thread(self._owner.syncio.revoke_session, session_handle)

A sync method that returns a ``Session`` (or ``None``) gives back an async ``Session``
of the same state. The async ``Session`` runs the sync ``Session``'s methods with itself
as ``self`` (``in_thread(SyncSession.get_expiry, self)``), and an async function given a
session hands it to the sync function: so that code may use only what ``SessionBase``
has. The generator refuses code that does otherwise.

The exceptions, where the async side differs on purpose, are named here:
``ON_THE_LOOP_WHEN`` (functions that run on the event loop itself when a hand-written
test of ``_async_loop.py`` says they need no store) and ``SYNC_ONLY`` (helpers of a
sync class that get no async twin). The output goes through ruff (import order, then
format), so the file is checked in as ruff leaves it.
'''

from __future__ import annotations

import argparse
import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "src" / "tessera"
SYNC = PACKAGE / "_sync.py"
ASYNC = PACKAGE / "_async.py"
LOOP_MODULE = PACKAGE / "_async_loop.py"
SESSION_BASE = PACKAGE / "_session.py"

#: Each class of ``_sync.py``: the name and docstring of its async twin.
CLASSES = {
    "Session": (
        "Session",
        "A verified session, for async code. Methods that reach the database are awaited.",
    ),
    "SyncSessions": (
        "AsyncSessions",
        "The session functions of one ``Tessera`` object, for async callers.",
    ),
}
#: A sync class's ``__module__`` (its public home), and the async twin's.
PUBLIC_MODULES = {"tessera.syncio": "tessera.asyncio"}

#: Methods whose async twin runs the sync one on the event loop itself when a test of
#: ``_async_loop.py`` says so (given the object and the arguments it names), and on a
#: worker thread otherwise.
ON_THE_LOOP_WHEN = {
    # Verifying an access token usually needs no store: a hop to a thread costs more.
    "SyncSessions.get_session_without_request_response": "verification_needs_no_store",
}

#: Helpers of a sync class that nothing calls from the async side.
SYNC_ONLY = {"SyncSessions._revoke_one"}

HEADER = """\
# Generated from _sync.py by scripts/generate_async.py; do not edit.
# Change _sync.py (or _async_loop.py), then run: .venv/bin/python scripts/generate_async.py
"""

DOCSTRING = '''\
"""The session functions of one ``Tessera`` object, for async callers.

Each function runs the function of the same name in ``_sync.py`` on the ``Tessera``
object's worker threads, so a slow database never stalls the event loop; verifying an
access token stays on the event loop when the engine needs no store for it
(``_async_loop.py``). Signatures and docstrings are those of ``_sync.py``.
"""'''


class GenerationError(Exception):
    """``_sync.py`` holds something the generator cannot turn into async code."""


def generate(sync_source: str, loop_source: str, session_base_source: str) -> str:
    """The text of ``_async.py`` for these sources of ``_sync.py``, ``_async_loop.py``
    and ``_session.py``, formatted as ruff formats it."""
    sync = ast.parse(sync_source)
    base_members = _members(_class(ast.parse(session_base_source), "SessionBase"))
    tests = {
        node.name: node for node in ast.parse(loop_source).body if isinstance(node, ast.FunctionDef)
    }
    classes = []
    for node in sync.body:
        if isinstance(node, ast.ClassDef):
            classes.append(_async_class(node, sync_source, base_members, tests))
    body = "\n\n".join(classes)
    names = sorted(CLASSES[node.name][0] for node in sync.body if isinstance(node, ast.ClassDef))
    code = "\n\n".join(
        [
            HEADER + DOCSTRING,
            "from __future__ import annotations",
            _imports(sync, body),
            f"__all__ = {names!r}".replace("'", '"'),
            body,
        ]
    )
    return _ruff(code)


# -- classes and methods ---------------------------------------------------------------


def _async_class(
    cls: ast.ClassDef,
    source: str,
    base_members: set[str],
    tests: dict[str, ast.FunctionDef],
) -> str:
    if cls.name not in CLASSES:
        raise GenerationError(f"class {cls.name}: name its async twin in CLASSES")
    name, docstring = CLASSES[cls.name]
    bases = ", ".join(ast.unparse(base) for base in cls.bases)
    lines = [f"class {name}({bases}):", f'    """{docstring}"""', ""]
    for statement in cls.body[1 if ast.get_docstring(cls) is not None else 0 :]:
        where = f"{cls.name}.{getattr(statement, 'name', '')}"
        if isinstance(statement, ast.FunctionDef) and statement.name == "__init__":
            lines.append("    " + _segment(source, statement))
        elif isinstance(statement, ast.FunctionDef) and where not in SYNC_ONLY:
            lines.append(_async_method(cls.name, statement, source, base_members, tests))
        elif isinstance(statement, ast.FunctionDef):
            continue
        elif isinstance(statement, ast.Assign) and _assigns(statement, "__module__"):
            module = ast.literal_eval(statement.value)
            if module not in PUBLIC_MODULES:
                raise GenerationError(f"{cls.name}: name the async home of {module} first")
            lines.append(f'    __module__ = "{PUBLIC_MODULES[module]}"  # its public home')
        elif isinstance(statement, ast.Assign | ast.AnnAssign):
            lines.append("    " + _segment(source, statement))
        else:
            raise GenerationError(f"{cls.name}, line {statement.lineno}: only methods, please")
        if isinstance(statement, ast.FunctionDef):
            lines.append("")
    return "\n".join(lines)


def _async_method(
    class_name: str,
    function: ast.FunctionDef,
    source: str,
    base_members: set[str],
    tests: dict[str, ast.FunctionDef],
) -> str:
    where = f"{class_name}.{function.name}"
    if function.decorator_list or function.name.startswith("__") or function.returns is None:
        raise GenerationError(f"{where}: a plain method with a return annotation, please")
    arguments = function.args
    positional = [a.arg for a in [*arguments.posonlyargs, *arguments.args]]
    if positional[:1] != ["self"] or "work" in {a.arg for a in arguments.kwonlyargs}:
        raise GenerationError(f"{where}: self first, and no work= (in_thread's own)")
    if class_name == "Session":  # run with the async session as self: see the docstring
        _check_session_use(where, function, {"self"}, base_members)
        target, forwarded = f"SyncSession.{function.name}", ["self"]
    else:
        sessions = {a.arg for a in _all_arguments(arguments) if _mentions_session(a.annotation)}
        _check_session_use(where, function, sessions, base_members)
        target, forwarded = f"self._owner.syncio.{function.name}", []
    forwarded += positional[1:]
    if arguments.vararg:
        forwarded.append(f"*{arguments.vararg.arg}")
    forwarded += [f"{a.arg}={a.arg}" for a in arguments.kwonlyargs]
    if arguments.kwarg:
        forwarded.append(f"**{arguments.kwarg.arg}")

    returns = ast.unparse(function.returns)
    lines = [f"async def {function.name}({ast.unparse(arguments)}) -> {returns}:"]
    if ast.get_docstring(function) is not None:
        lines.append("    " + _segment(source, function.body[0]))
    lines += ["    " + line for line in _body(where, function, target, forwarded, tests)]
    return "\n".join("    " + line for line in lines)


def _body(
    where: str,
    function: ast.FunctionDef,
    target: str,
    forwarded: list[str],
    tests: dict[str, ast.FunctionDef],
) -> list[str]:
    """Run ``target(*forwarded)`` on a thread (or on the loop when a test says so), and
    give back what it returns, a sync session as an async one."""
    in_thread = f"await self._owner.in_thread({', '.join([target, *forwarded])})"
    returns = ast.unparse(function.returns) if function.returns else ""
    as_async = "Session(sync_session._state, self._owner)"  # the same state, async methods
    if returns == "None":
        result, give_back = "", []
    elif returns == "Session":
        result, give_back = "sync_session = ", [f"return {as_async}"]
    elif returns == "Session | None":
        result, give_back = (
            "sync_session = ",
            [f"return None if sync_session is None else {as_async}"],
        )
    elif _mentions_session(function.returns):
        raise GenerationError(f"{where}: teach the generator to return {returns}")
    else:
        result, give_back = "return ", []

    test = ON_THE_LOOP_WHEN.get(where)
    if test is None:
        return [result + in_thread, *give_back]
    named = _test_arguments(where, function, tests.get(test), test)
    on_the_loop = [
        f"if {test}({', '.join(['self._owner', *named])}):",
        f"    {result}{target}({', '.join(forwarded)})",
    ]
    if result == "return ":  # no else after a return
        return [*on_the_loop, f"return {in_thread}"]
    return [*on_the_loop, "else:", f"    {result}{in_thread}", *give_back]


def _check_session_use(
    where: str, function: ast.FunctionDef, names: set[str], base_members: set[str]
) -> None:
    """``names`` hold an async session when the async side runs ``function``: they may be
    used only for what ``SessionBase`` has (the sync and async sessions' methods of the
    same name differ in colour)."""
    parents = {child: node for node in ast.walk(function) for child in ast.iter_child_nodes(node)}
    for node in ast.walk(function):
        if not (isinstance(node, ast.Name) and node.id in names):
            continue
        parent = parents[node]
        if not isinstance(parent, ast.Attribute):
            raise GenerationError(
                f"{where}, line {node.lineno}: {node.id} is passed on, and the async side "
                "would pass an async session; call a method of SessionBase instead"
            )
        if parent.attr not in base_members:
            raise GenerationError(
                f"{where}, line {node.lineno}: {node.id}.{parent.attr} is not SessionBase's; "
                "the async side would call the async one. Use (or add) a SessionBase method"
            )


def _test_arguments(
    where: str, function: ast.FunctionDef, test: ast.FunctionDef | None, name: str
) -> list[str]:
    """The arguments of ``function`` that ``test`` names after the ``Tessera`` object."""
    if test is None:
        raise GenerationError(f"{where}: {name} is not a function of _async_loop.py")
    named = [a.arg for a in [*test.args.posonlyargs, *test.args.args]][1:]
    ours = {a.arg for a in _all_arguments(function.args)} - {"self"}
    if test.args.vararg or test.args.kwonlyargs or test.args.kwarg or not set(named) <= ours:
        raise GenerationError(
            f"{where}: the parameters {name} names ({', '.join(named)}) must be the sync function's"
        )
    return named


def _assigns(statement: ast.Assign, name: str) -> bool:
    return [ast.unparse(target) for target in statement.targets] == [name]


def _all_arguments(arguments: ast.arguments) -> list[ast.arg]:
    extra = [a for a in (arguments.vararg, arguments.kwarg) if a is not None]
    return [*arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs, *extra]


def _mentions_session(annotation: ast.expr | None) -> bool:
    return annotation is not None and any(
        isinstance(node, ast.Name) and node.id == "Session" for node in ast.walk(annotation)
    )


# -- the module around them ------------------------------------------------------------


def _imports(sync: ast.Module, body: str) -> str:
    """The imports of ``_sync.py`` that ``body`` uses, and those of the async side."""
    used = {node.id for node in ast.walk(ast.parse(body)) if isinstance(node, ast.Name)}
    checking = [
        kept
        for node in sync.body
        if isinstance(node, ast.If) and ast.unparse(node.test) == "TYPE_CHECKING"
        for statement in node.body
        if (kept := _kept_import(statement, used))
    ]
    if checking:
        used.add("TYPE_CHECKING")
    lines = [
        kept
        for node in sync.body
        if not (isinstance(node, ast.ImportFrom) and node.module == "__future__")
        if (kept := _kept_import(node, used))
    ]
    if "SyncSession" in used:
        lines.append("from ._sync import Session as SyncSession")
    tests = sorted(name for name in set(ON_THE_LOOP_WHEN.values()) if name in used)
    if tests:
        lines.append(f"from ._async_loop import {', '.join(tests)}")
    if checking:
        lines += ["", "if TYPE_CHECKING:", *("    " + line for line in checking)]
    return "\n".join(lines)


def _kept_import(statement: ast.stmt, used: set[str]) -> str | None:
    if not isinstance(statement, ast.Import | ast.ImportFrom):
        return None
    names = [a for a in statement.names if (a.asname or a.name).partition(".")[0] in used]
    if not names:
        return None
    if isinstance(statement, ast.Import):
        return ast.unparse(ast.Import(names=names))
    return ast.unparse(ast.ImportFrom(module=statement.module, names=names, level=statement.level))


def _class(module: ast.Module, name: str) -> ast.ClassDef:
    for node in module.body:
        if isinstance(node, ast.ClassDef) and node.name == name:
            return node
    raise GenerationError(f"no class {name}")


def _members(cls: ast.ClassDef) -> set[str]:
    """What instances of ``cls`` have: its methods, slots and class attributes."""
    members: set[str] = set()
    for node in cls.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            members.add(node.name)
        elif isinstance(node, ast.Assign):
            for target in node.targets:
                if isinstance(target, ast.Name) and target.id == "__slots__":
                    members.update(ast.literal_eval(node.value))
                elif isinstance(target, ast.Name):
                    members.add(target.id)
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            members.add(node.target.id)
    return members


def _segment(source: str, node: ast.AST) -> str:
    segment = ast.get_source_segment(source, node)
    assert segment is not None
    return segment


def _ruff(code: str) -> str:
    """``code`` with its imports sorted and formatted, as the project's ruff does."""
    for command in (["check", "--fix-only", "--select", "I"], ["format"]):
        ruff = subprocess.run(  # noqa: S603 (our own interpreter, fixed arguments)
            [sys.executable, "-m", "ruff", *command, "--stdin-filename", str(ASYNC), "-"],
            input=code,
            capture_output=True,
            text=True,
            cwd=ROOT,
        )
        if ruff.returncode:
            raise GenerationError(f"ruff {command[0]} refused the output:\n{ruff.stderr}")
        code = ruff.stdout
    return code


def generate_from_files() -> str:
    """What ``_async.py`` should hold, from the files as they are now."""
    return generate(SYNC.read_text(), LOOP_MODULE.read_text(), SESSION_BASE.read_text())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.partition("\n")[0])
    parser.add_argument("--check", action="store_true", help="only say whether it is current")
    check = parser.parse_args().check
    wanted = generate_from_files()
    if check:
        if ASYNC.read_text() != wanted:
            print(f"{ASYNC} is out of date: run {sys.argv[0]}", file=sys.stderr)
            return 1
        return 0
    ASYNC.write_text(wanted)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except GenerationError as exc:
        sys.exit(f"generate_async: {exc}")
