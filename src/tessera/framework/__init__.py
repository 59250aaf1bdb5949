"""Sessions in web frameworks: the SuperTokens frontend protocol over tessera.

The pieces every adapter shares live here (settings, claim validators, the error
table, the request/response transport); ``tessera.framework.fastapi``,
``.starlette``, ``.flask`` and ``.django`` translate them for one framework each.
Importing this package imports no web framework.
"""

from __future__ import annotations

from .._headers import get_all_cors_headers
from .claims import ClaimValidationError, ClaimValidator, InvalidClaimError, require_fresh
from .config import ErrorHandler, FrameworkConfig
from .messages import Reply, RequestView

__all__ = [
    "ClaimValidationError",
    "ClaimValidator",
    "ErrorHandler",
    "FrameworkConfig",
    "InvalidClaimError",
    "Reply",
    "RequestView",
    "get_all_cors_headers",
    "require_fresh",
]
