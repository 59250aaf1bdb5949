"""The running core matches its own OpenAPI document: schemathesis generates requests
from ``/openapi.json`` (a core without API keys, and one with a key and a base path) and
checks every answer: no server error, only documented statuses, content types and
bodies, 405 with ``Allow`` for other methods, and 401 without the key except on the
routes the document marks open."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from .._support.cores import StartCore

API_KEY = "key-for-tests-0123456789"
CHECKS = [
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_headers_conformance",
    "response_schema_conformance",
    "unsupported_method",
    "allow_header_conformance",
    "negative_data_rejection",
]


def _schemathesis(url: str, checks: list[str], workdir: Path, *extra: str) -> subprocess.Popen[str]:
    command = [
        sys.executable,
        "-m",
        "schemathesis.cli",
        "run",
        f"{url}/openapi.json",
        "--checks",
        ",".join(checks),
        "--max-examples",
        "5",
        "--seed",
        "1",
        "--generation-database",
        "none",
        "--request-timeout",
        "10",
        "--no-color",
        *extra,
    ]
    return subprocess.Popen(  # noqa: S603 - our interpreter, fixed arguments
        command, cwd=workdir, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )


def test_the_core_answers_as_its_openapi_document_says(
    start_core: StartCore, tmp_path: Path
) -> None:
    without_key = start_core()
    with_key = start_core(api_keys=API_KEY, base_path="/auth-core")
    runs = {
        "without an API key": _schemathesis(without_key, CHECKS, tmp_path),
        # The app-prefixed forms are the same operations; the first run covers them.
        "with an API key": _schemathesis(
            f"{with_key}/auth-core",
            [*CHECKS, "ignored_auth"],
            tmp_path,
            "--header",
            f"api-key: {API_KEY}",
            "--exclude-path-regex",
            "^/appid-",
        ),
    }
    failures = []
    for name, run in runs.items():
        try:
            output, _ = run.communicate(timeout=150)
        except subprocess.TimeoutExpired:
            run.kill()
            output, _ = run.communicate()
        if run.returncode != 0:
            failures.append(f"--- {name} (exit {run.returncode}) ---\n{output[-8000:]}")
    assert not failures, "\n".join(failures)
