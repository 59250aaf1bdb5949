"""Sessions for async Django views: the same names as ``tessera.framework.django``,
awaited, with the session in ``request.tessera``."""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar, cast

from django.http import HttpRequest  # type: ignore[import-untyped]

from ...asyncio import Session
from ...errors import TesseraError
from ..claims import ClaimValidator
from ..flows import VerifyOptions, create_flow, run_async, verify_flow
from . import TesseraMiddleware, exchange_of, to_response

__all__ = ["Session", "TesseraMiddleware", "create_new_session", "get_session", "verify_session"]

F = TypeVar("F", bound=Callable[..., Any])


def verify_session(
    *,
    session_required: bool = True,
    anti_csrf_check: bool | None = None,
    check_database: bool = False,
    claim_validators: Sequence[ClaimValidator] = (),
) -> Callable[[F], F]:
    """Decorator for async views: the session is in ``request.tessera``."""
    options = VerifyOptions(
        session_required=session_required,
        anti_csrf_check=anti_csrf_check,
        check_database=check_database,
        claim_validators=tuple(claim_validators),
    )

    def decorate(view: F) -> F:
        @functools.wraps(view)
        async def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
            exchange = exchange_of(request)
            try:
                request.tessera = await run_async(verify_flow(exchange, options), exchange)
                return await view(request, *args, **kwargs)
            except TesseraError as error:
                return to_response(exchange.fail(error))

        return cast(F, wrapper)

    return decorate


async def get_session(
    request: HttpRequest,
    *,
    session_required: bool = True,
    anti_csrf_check: bool | None = None,
    check_database: bool = False,
    claim_validators: Sequence[ClaimValidator] = (),
) -> Session | None:
    """The request's session. Raises the session errors; never refreshes or clears tokens."""
    options = VerifyOptions(
        session_required=session_required,
        anti_csrf_check=anti_csrf_check,
        check_database=check_database,
        claim_validators=tuple(claim_validators),
    )
    exchange = exchange_of(request)
    session: Session | None = await run_async(verify_flow(exchange, options), exchange)
    return session


async def create_new_session(
    request: HttpRequest,
    user_id: str,
    access_token_payload: Mapping[str, Any] | None = None,
    session_data_in_database: Mapping[str, Any] | None = None,
    tenant_id: str = "public",
    *,
    amr: Sequence[str] | None = None,
) -> Session:
    """Start a session; its tokens go onto this request's response."""
    exchange = exchange_of(request)
    flow = create_flow(
        exchange, user_id, access_token_payload, session_data_in_database, tenant_id, amr
    )
    session: Session = await run_async(flow, exchange)
    return session
