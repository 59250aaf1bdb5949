"""The operator's side of sessions: the admin console and the operations behind it.

``asgi_app`` and ``wsgi_app`` mount the console in an application over its ``Tessera``
object; the core serves the same console at ``/admin`` and the same operations as JSON
under ``/tessera/admin`` (docs/operations.md). ``SessionAdmin`` is the operations
themselves, for a script in Python.
"""

from __future__ import annotations

from .mount import asgi_app, wsgi_app
from .operations import BulkRevoke, Operator, Page, Preview, SessionAdmin, session_match

__all__ = [
    "BulkRevoke",
    "Operator",
    "Page",
    "Preview",
    "SessionAdmin",
    "asgi_app",
    "session_match",
    "wsgi_app",
]
