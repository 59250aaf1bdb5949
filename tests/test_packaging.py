"""The package as a user gets it, never the checkout.

``python -m build`` makes the sdist and then the wheel from the sdist, in a copy of the
checkout. The wheel goes into a new virtual environment that holds nothing else, and
that environment's own ``tessera`` command runs from a directory outside the checkout,
with no PYTHONPATH: without the core extra ``tessera start`` says in one line which
extra to install; with it, the core starts and creates and verifies a session.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import urllib.request
import zipfile
from email.parser import Parser
from pathlib import Path
from typing import Any

import pytest

from tests._support.cores import free_port

ROOT = Path(__file__).resolve().parent.parent
DISTRIBUTION = "tessera-sessions"
# What a build must not see: local environments, caches, databases, earlier builds.
_LOCAL = (".git", ".venv*", "node_modules", "build", "dist", "*.egg-info", "*.db", "*.db-*")
_NOT_SOURCE = shutil.ignore_patterns(*_LOCAL, "__pycache__", ".*_cache")


def _source_version() -> str:
    text = (ROOT / "src" / "tessera" / "__init__.py").read_text(encoding="utf-8")
    found = re.search(r'^__version__ = "([^"]+)"$', text, re.MULTILINE)
    assert found, "src/tessera/__init__.py must set __version__"
    return found.group(1)


def _env(**extra: str) -> dict[str, str]:
    """This process's environment minus whatever could lead Python back to the checkout."""
    drop = {"PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP", "VIRTUAL_ENV"}
    env = {k: v for k, v in os.environ.items() if k not in drop and not k.startswith("TESSERA_")}
    env.update(extra)
    return env


def _run(command: list[str], cwd: Path, timeout: float = 120, **env: str) -> str:
    done = subprocess.run(  # noqa: S603 - our own interpreter and files
        command,
        cwd=cwd,
        env=_env(**env),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    assert done.returncode == 0, f"{command} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done.stdout


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(sdist, wheel), the wheel built from the sdist."""
    work = tmp_path_factory.mktemp("build")
    source = work / "source"
    shutil.copytree(ROOT, source, ignore=_NOT_SOURCE, symlinks=True)
    out = work / "dist"
    _run([sys.executable, "-m", "build", "--outdir", str(out), str(source)], cwd=work)
    (sdist,) = out.glob("*.tar.gz")
    (wheel,) = out.glob("*.whl")
    return sdist, wheel


def _wheel_metadata(wheel: Path) -> Any:
    with zipfile.ZipFile(wheel) as archive:
        (name,) = [n for n in archive.namelist() if n.endswith(".dist-info/METADATA")]
        return Parser().parsestr(archive.read(name).decode())


def test_wheel_and_sdist_hold_the_package(built: tuple[Path, Path]) -> None:
    sdist, wheel = built
    version = _source_version()
    assert wheel.name == f"tessera_sessions-{version}-py3-none-any.whl"
    assert sdist.name == f"tessera_sessions-{version}.tar.gz"

    metadata = _wheel_metadata(wheel)
    assert metadata["Name"] == DISTRIBUTION
    assert metadata["Version"] == version
    extras_of_all = [r for r in metadata.get_all("Requires-Dist") if r.endswith('extra == "all"')]
    assert len(extras_of_all) == 1
    assert "core" in extras_of_all[0].split("[", 1)[1].split("]", 1)[0].split(",")

    # Every module and data file of src/tessera, and nothing else, is in the wheel.
    package = ROOT / "src" / "tessera"
    in_source = {
        "tessera/" + path.relative_to(package).as_posix()
        for path in package.rglob("*")
        if path.is_file() and "__pycache__" not in path.parts
    }
    assert "tessera/py.typed" in in_source
    with zipfile.ZipFile(wheel) as archive:
        in_wheel = {n for n in archive.namelist() if ".dist-info/" not in n}
    assert in_wheel == in_source

    with tarfile.open(sdist) as archive:
        names = {n.split("/", 1)[1] for n in archive.getnames() if "/" in n}
    assert {"README.md", "CHANGELOG.md", "pyproject.toml", "src/tessera/py.typed"} <= names
    assert "docs/core.md" in names
    assert not any(n.startswith("tests/") for n in names)


def test_installed_wheel_runs_the_core_from_a_clean_venv(
    built: tuple[Path, Path], tmp_path: Path
) -> None:
    _, wheel = built
    venv = tmp_path / "venv"
    python = str(venv / "bin" / "python")
    tessera = str(venv / "bin" / "tessera")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    home = str(tmp_path / "home")
    pip = [sys.executable, "-m", "pip", "--python", python, "install", "--quiet"]

    _run([sys.executable, "-m", "venv", "--without-pip", str(venv)], cwd=elsewhere)
    _run([*pip, str(wheel)], cwd=elsewhere)

    found = json.loads(
        _run(
            [
                python,
                "-I",
                "-c",
                "import json, pathlib, importlib.metadata as m, tessera;"
                "print(json.dumps([tessera.__file__, tessera.__version__,"
                f" m.version({DISTRIBUTION!r}),"
                " (pathlib.Path(tessera.__file__).parent / 'py.typed').is_file()]))",
            ],
            cwd=elsewhere,
        )
    )
    assert found[0].startswith(str(venv)), f"tessera imported from {found[0]}"
    assert found[1] == found[2] == _source_version()
    assert found[3], "py.typed is missing from the installed package"
    assert _run([tessera, "--version"], cwd=elsewhere).strip() == f"tessera {found[1]}"

    # Without the core extra: one line that names it, no traceback, nothing started.
    port = str(free_port())
    refused = subprocess.run(  # noqa: S603 - the venv's own command
        [tessera, "start", "--port", port],
        cwd=elsewhere,
        env=_env(TESSERA_HOME=home, WORKERS="1"),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert refused.returncode == 2
    assert refused.stderr.count("\n") == 1, refused.stderr
    assert f"pip install '{DISTRIBUTION}[core]'" in refused.stderr
    # The doctor's extra likewise.
    refused = subprocess.run(  # noqa: S603 - the venv's own command
        [tessera, "doctor", f"http://127.0.0.1:{port}"],
        cwd=elsewhere,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert refused.returncode == 2
    assert refused.stderr.count("\n") == 1, refused.stderr
    assert f"pip install '{DISTRIBUTION}[doctor]'" in refused.stderr

    _run([*pip, f"{wheel}[core]"], cwd=elsewhere)
    _run([tessera, "start", "--port", port], cwd=elsewhere, TESSERA_HOME=home, WORKERS="1")
    try:
        url = f"http://127.0.0.1:{port}"
        create = {"userId": "user-1", "userDataInJWT": {"role": "admin"}, "enableAntiCsrf": False}
        created = _post(f"{url}/recipe/session", {**create, "userDataInDatabase": {}})
        assert created["status"] == "OK"
        token = created["accessToken"]["token"]
        verify = {"accessToken": token, "doAntiCsrfCheck": False, "enableAntiCsrf": False}
        verified = _post(f"{url}/recipe/session/verify", {**verify, "checkDatabase": True})
        assert verified["status"] == "OK"
        assert verified["session"]["handle"] == created["session"]["handle"]
        assert verified["session"]["userId"] == "user-1"
        assert verified["session"]["userDataInJWT"] == {"role": "admin"}
    finally:
        _run([tessera, "stop", "--port", port], cwd=elsewhere, timeout=60, TESSERA_HOME=home)


def _post(url: str, body: dict[str, Any]) -> Any:
    request = urllib.request.Request(  # noqa: S310 - a loopback URL built above
        url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=10) as answer:  # noqa: S310
        return json.loads(answer.read())
