"""When the async facade runs a sync function on the event loop itself.

``_async.py`` is generated from ``_sync.py`` by ``scripts/generate_async.py``: each
async function runs the sync one of the same name on the ``Tessera`` object's worker
threads, so a slow database never stalls the event loop. A function named in the
generator's ``ON_THE_LOOP_WHEN`` runs on the loop instead when the test of this module
named there says it can. A test is given the ``Tessera`` object, then the sync
function's arguments it names (the generator checks they are the sync function's).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ._tessera import Tessera

__all__ = ["verification_needs_no_store"]


def verification_needs_no_store(
    owner: Tessera, access_token: str | None, check_database: bool
) -> bool:
    """Whether verifying ``access_token`` can run on the event loop: the engine needs no
    store for it (the common case: a signature check and a few dictionary reads cost
    less than a hop to a thread), or there is no token at all. When its signing key
    must be loaded, or its revocation asked of the database, it cannot."""
    return not access_token or not owner.engine.verification_reads_store(
        access_token, now=owner.now(), check_database=check_database
    )
