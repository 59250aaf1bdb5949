"""The doctor's findings as text for people or JSON for scripts."""

from __future__ import annotations

import json
import textwrap
from collections.abc import Sequence
from typing import Any

from .findings import Finding, Status, counts, exit_code

__all__ = ["render_json", "render_text"]

_WIDTH = 92
_LABELS = {Status.OK: "ok", Status.WARN: "WARN", Status.FAIL: "FAIL", Status.SKIP: "skip"}
# Failures a browser has and Postman or curl have not.
_BROWSER_ONLY = ("cookie.", "cors.", "site", "session.front-token")


def _wrapped(label: str, text: str) -> list[str]:
    return textwrap.wrap(
        text, _WIDTH, initial_indent=f"      {label}", subsequent_indent=" " * (6 + len(label))
    )


def _lines(finding: Finding, verbose: bool) -> list[str]:
    label = _LABELS[finding.status]
    lines = textwrap.wrap(
        finding.summary, _WIDTH, initial_indent=f"{label:<6}", subsequent_indent=" " * 6
    )
    full = verbose or finding.status in (Status.FAIL, Status.WARN)
    if full:
        lines.append(f"      [{finding.check}]")
        if finding.explanation:
            lines.extend(_wrapped("Why: ", finding.explanation))
    if finding.fix and (full or finding.status is Status.SKIP):
        lines.extend(_wrapped("Fix: ", finding.fix))
    if full:
        lines.append("")
    return lines


def render_text(findings: Sequence[Finding], *, heading: str, verbose: bool = False) -> str:
    """Failures, then warnings, in full (why, fix); then passed and skipped checks, one
    line each (in full with ``verbose``), in the order they were made."""
    lines = [heading, ""]
    problems = [f for f in findings if f.status is Status.FAIL]
    problems += [f for f in findings if f.status is Status.WARN]
    for finding in problems:
        lines.extend(_lines(finding, verbose))
    if problems:
        lines.append("Passed and skipped:")
    for finding in findings:
        if finding.status in (Status.OK, Status.SKIP):
            lines.extend(_lines(finding, verbose))
    tally = counts(findings)
    lines.append("")
    lines.append(
        f"{tally['ok']} ok, {tally['warn']} warning(s), {tally['fail']} failure(s), "
        f"{tally['skip']} skipped"
    )
    if any(f.status is Status.FAIL and f.check.startswith(_BROWSER_ONLY) for f in findings):
        lines.extend(
            textwrap.wrap(
                "Why it can work in Postman or curl and not in a browser: those clients keep "
                "every cookie, send it anywhere and ignore CORS, while browsers enforce "
                "Secure, SameSite, Domain, Path, size limits and CORS, as the failures above "
                "describe.",
                _WIDTH,
            )
        )
    return "\n".join(lines)


def render_json(findings: Sequence[Finding], *, target: dict[str, Any], strict: bool) -> str:
    """One JSON object: what was checked, each finding, the counts and the exit code."""
    return json.dumps(
        {
            "target": target,
            "findings": [f.to_json() for f in findings],
            "counts": counts(findings),
            "exit_code": exit_code(findings, strict=strict),
        },
        indent=2,
    )
