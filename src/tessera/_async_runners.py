"""Where the async facade runs a sync function, when a worker thread is not the place.

``_async.py`` is generated from ``_sync.py`` by ``scripts/generate_async.py``: each
async function runs the sync one of the same name with ``Tessera.in_thread``. A
function named in the generator's ``RUNNERS`` is run by a function of this module
instead, called as ``in_thread`` is: with the ``Tessera`` object, the sync function
and its arguments. The parameters a runner names must be the sync function's, in the
same place; the generator checks that, and passes the rest through.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from ._tessera import Tessera

__all__ = ["verify_on_the_loop_when_it_can"]

T = TypeVar("T")


async def verify_on_the_loop_when_it_can(
    owner: Tessera,
    verify: Callable[..., T],
    access_token: str | None,
    *args: Any,
    check_database: bool,
    **kwargs: Any,
) -> T:
    """Run ``verify`` (``get_session_without_request_response``) on the event loop when
    the engine needs no store for ``access_token``: the common case, a signature check
    and a few dictionary reads, costs less than a hop to a thread. When the token's
    signing key must be loaded, or its revocation asked of the database, it runs on
    the object's worker threads."""
    if access_token and owner.engine.verification_reads_store(
        access_token, now=owner.now(), check_database=check_database
    ):
        return await owner.in_thread(
            verify, access_token, *args, check_database=check_database, **kwargs
        )
    return verify(access_token, *args, check_database=check_database, **kwargs)
