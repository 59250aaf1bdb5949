"""``tessera doctor`` as a user runs it: a subprocess against the example apps, each
started with the command in its docstring."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from .._support.examples import start_example

LOGIN = ["--login-path", "/login", "--login-body", '{"userId": "doctor-test"}']


def doctor(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - our own interpreter
        [sys.executable, "-m", "tessera", "doctor", *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def _localhost(url: str) -> str:
    return url.replace("127.0.0.1", "localhost")


@pytest.mark.parametrize("example", ["fastapi_app", "starlette_app", "flask_app", "django_app"])
def test_the_same_origin_examples_are_all_ok(example: str, tmp_path: Path) -> None:
    with start_example(example, tmp_path) as urls:
        (url,) = urls.values()
        done = doctor(_localhost(url), "--website-domain", _localhost(url), *LOGIN, "--strict")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "0 warning(s), 0 failure(s)" in done.stdout
    assert "the website and the API are one origin: no CORS" in done.stdout


def test_the_cross_origin_example_and_a_mistaken_website_origin(tmp_path: Path) -> None:
    with start_example("cross_origin_app", tmp_path) as urls:
        api, website = _localhost(urls["3005"]), _localhost(urls["3006"])
        right = doctor(api, "--website-domain", website, *LOGIN, "--json")
        # The page opened as http://127.0.0.1:...: another origin, and another site.
        wrong = doctor(api, "--origin", website.replace("localhost", "127.0.0.1"), "--json")
    assert right.returncode == 0, right.stdout + right.stderr
    report: dict[str, Any] = json.loads(right.stdout)
    assert report["exit_code"] == 0
    assert report["counts"]["fail"] == report["counts"]["warn"] == 0
    statuses = {f["check"]: f["status"] for f in report["findings"]}
    assert statuses["cors.expose.login"] == statuses["refresh.rotation"] == "ok"

    assert wrong.returncode == 1, wrong.stdout + wrong.stderr
    failed = {f["check"]: f for f in json.loads(wrong.stdout)["findings"] if f["status"] == "fail"}
    assert "cors.preflight" in failed
    assert "Disallowed CORS origin" in failed["cors.preflight"]["explanation"]


def test_bad_arguments_exit_2_with_one_line() -> None:
    for args in (["localhost:8000"], ["http://localhost:1", "--login-body", "{not json"]):
        done = doctor(*args)
        assert done.returncode == 2
        assert done.stderr.startswith("tessera doctor: ")
        assert done.stderr.count("\n") == 1, done.stderr


def test_help_names_the_options() -> None:
    done = doctor("--help")
    assert done.returncode == 0
    for option in ("--website-domain", "--api-base-path", "--login-path", "--json", "--strict"):
        assert option in done.stdout
