"""``tessera doctor``: checks a running app's session set-up from outside, the way a
browser would see it, and explains in plain words why a browser would not send or keep
the session cookies.

The rules are plain functions over recorded answers (``cookie_rules``, ``cors_rules``,
``refresh_rules``, ``clock_rules``, ``session_rules``); ``plan`` decides which requests
to make and which rules apply; ``probe`` is the only module that does HTTP (with
``httpx``); ``report`` prints the findings. Install with the ``doctor`` extra.
"""

from __future__ import annotations

from .findings import Finding, Status, counts, exit_code

__all__ = ["Finding", "Status", "counts", "exit_code"]
