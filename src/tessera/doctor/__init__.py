"""``tessera doctor``: checks a running app's session set-up from outside, the way a
browser would see it, and explains in plain words why a browser would not send or keep
the session cookies.

The rules are plain functions over recorded answers (``cookie_rules`` and
``cookie_keeping``, ``cors_rules``, ``refresh_rules``, ``clock_rules``,
``session_rules``); ``plan`` decides which requests to make (``settings`` says what to
check, ``held`` keeps the test session's tokens) and which rules read each answer;
``probe`` is the only module that does HTTP (with ``httpx``); ``report`` prints the
findings; ``command`` is the CLI's part. Install with the ``doctor`` extra.
"""

from __future__ import annotations

from .findings import Finding, Status, counts, exit_code

__all__ = ["Finding", "Status", "counts", "exit_code"]
