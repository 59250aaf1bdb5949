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

The exceptions, where the async side differs on purpose, are named here: ``RUNNERS``
(run by a hand-written function of ``_async_runners.py`` instead of on a thread) and
``SYNC_ONLY`` (helpers of a sync class that get no async twin). The output goes through
ruff (import order, then format), so the file is checked in as ruff leaves it.
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
RUNNERS_MODULE = PACKAGE / "_async_runners.py"
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

#: Methods whose async twin does not run on a worker thread: instead a hand-written
#: function of ``_async_runners.py`` runs the sync method, called as ``in_thread`` is.
RUNNERS = {
    # Verifying an access token usually needs no store: it then stays on the event loop.
    "SyncSessions.get_session_without_request_response": "verify_on_the_loop_when_it_can",
}

#: Helpers of a sync class that nothing calls from the async side.
SYNC_ONLY = {"SyncSessions._revoke_one"}

HEADER = """\
# Generated from _sync.py by scripts/generate_async.py; do not edit.
# Change _sync.py (or _async_runners.py), then run: .venv/bin/python scripts/generate_async.py
"""

DOCSTRING = '''\
"""The session functions of one ``Tessera`` object, for async callers.

Each function runs the function of the same name in ``_sync.py`` on the ``Tessera``
object's worker threads, so a slow database never stalls the event loop; verifying an
access token stays on the event loop when the engine needs no store for it
(``_async_runners.py``). Signatures and docstrings are those of ``_sync.py``.
"""'''


class GenerationError(Exception):
    """``_sync.py`` holds something the generator cannot turn into async code."""


def generate(sync_source: str, runners_source: str, session_base_source: str) -> str:
    """The text of ``_async.py`` for these sources of ``_sync.py``, ``_async_runners.py``
    and ``_session.py``, formatted as ruff formats it."""
    sync = ast.parse(sync_source)
    base_members = _members(_class(ast.parse(session_base_source), "SessionBase"))
    runners = {
        node.name: node
        for node in ast.parse(runners_source).body
        if isinstance(node, ast.AsyncFunctionDef)
    }
    classes = []
    for node in sync.body:
        if isinstance(node, ast.ClassDef):
            classes.append(_async_class(node, sync_source, base_members, runners))
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
    runners: dict[str, ast.AsyncFunctionDef],
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
            lines.append(_async_method(cls.name, statement, source, base_members, runners))
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
    runners: dict[str, ast.AsyncFunctionDef],
) -> str:
    where = f"{class_name}.{function.name}"
    if function.decorator_list or function.name.startswith("__") or function.returns is None:
        raise GenerationError(f"{where}: a plain method with a return annotation, please")
    arguments = function.args
    positional = [a.arg for a in [*arguments.posonlyargs, *arguments.args]]
    if not positional or positional[0] != "self":
        raise GenerationError(f"{where}: its first parameter must be self")
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
    if "work" in {a.arg for a in arguments.kwonlyargs}:
        raise GenerationError(f"{where}: in_thread(work, ...) takes no other work=")
    runner = RUNNERS.get(where)
    if runner is None:
        call = f"await self._owner.in_thread({', '.join([target, *forwarded])})"
    else:
        _check_runner(where, function, runners.get(runner), runner)
        call = f"await {runner}({', '.join(['self._owner', target, *forwarded])})"

    returns = ast.unparse(function.returns)
    if returns == "None":
        body = [call]
    elif returns == "Session":
        body = [f"sync_session = {call}", "return Session(sync_session._state, self._owner)"]
    elif returns == "Session | None":
        body = [
            f"sync_session = {call}",
            "return None if sync_session is None else Session(sync_session._state, self._owner)",
        ]
    elif _mentions_session(function.returns):
        raise GenerationError(f"{where}: teach the generator to return {returns}")
    else:
        body = [f"return {call}"]

    lines = [f"    async def {function.name}({ast.unparse(arguments)}) -> {returns}:"]
    if ast.get_docstring(function) is not None:
        lines.append("        " + _segment(source, function.body[0]))
    lines += ["        " + line for line in body]
    return "\n".join(lines)


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


def _check_runner(
    where: str, function: ast.FunctionDef, runner: ast.AsyncFunctionDef | None, name: str
) -> None:
    """A runner is called as ``runner(owner, sync_function, *arguments)``: the parameters
    it names must be the sync function's, in the same place."""
    if runner is None:
        raise GenerationError(f"{where}: {name} is not an async def of _async_runners.py")
    ours, theirs = function.args, runner.args
    named = [a.arg for a in [*theirs.posonlyargs, *theirs.args]][2:]
    positional = [a.arg for a in [*ours.posonlyargs, *ours.args]][1:]
    keywords = {a.arg for a in ours.kwonlyargs}
    runner_keywords = {a.arg for a in theirs.kwonlyargs}
    fits = (
        positional[: len(named)] == named
        and runner_keywords <= keywords
        and (theirs.vararg is not None or len(positional) == len(named))
        and (theirs.kwarg is not None or keywords <= runner_keywords)
    )
    if not fits:
        raise GenerationError(
            f"{where}: the parameters {name} names ({', '.join(named)}; "
            f"{', '.join(sorted(runner_keywords))}) no longer fit the sync function's"
        )


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
    runners = sorted(name for name in set(RUNNERS.values()) if name in used)
    if runners:
        lines.append(f"from ._async_runners import {', '.join(runners)}")
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
        code = subprocess.run(  # noqa: S603 (our own interpreter, fixed arguments)
            [sys.executable, "-m", "ruff", *command, "--stdin-filename", str(ASYNC), "-"],
            input=code,
            capture_output=True,
            text=True,
            check=True,
            cwd=ROOT,
        ).stdout
    return code


def generate_from_files() -> str:
    """What ``_async.py`` should hold, from the files as they are now."""
    return generate(SYNC.read_text(), RUNNERS_MODULE.read_text(), SESSION_BASE.read_text())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.partition("\n")[0])
    parser.add_argument("--check", action="store_true", help="only say whether it is current")
    wanted = generate_from_files()
    if parser.parse_args().check:
        if ASYNC.read_text() != wanted:
            print(f"{ASYNC} is out of date: run scripts/generate_async.py", file=sys.stderr)
            return 1
        return 0
    ASYNC.write_text(wanted)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except GenerationError as exc:
        sys.exit(f"generate_async: {exc}")
