"""Module-level functions made from the methods of the default object's facade.

``tessera.syncio.revoke_session(h)`` is ``tessera.get_default().syncio.revoke_session(h)``:
one definition (the method) gives both, with the same signature and docstring for
``help()``, IDEs and mypy (``ParamSpec`` carries the parameters through).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any, Concatenate, ParamSpec, TypeVar, cast

__all__ = ["bound_to_default"]

P = ParamSpec("P")
R = TypeVar("R")
Facade = TypeVar("Facade")


def bound_to_default(
    method: Callable[Concatenate[Facade, P], R], default: Callable[[], Facade], module: str
) -> Callable[P, R]:
    """``method`` as a function of module ``module`` that calls it on ``default()``."""

    def call(*args: P.args, **kwargs: P.kwargs) -> R:
        return method(default(), *args, **kwargs)

    async def call_async(*args: Any, **kwargs: Any) -> Any:
        awaitable: Any = method(default(), *args, **kwargs)
        return await awaitable

    # An ``async def`` for async methods, so ``inspect.iscoroutinefunction`` says so.
    function: Any = call_async if inspect.iscoroutinefunction(method) else call
    signature = inspect.signature(method)
    function.__signature__ = signature.replace(parameters=list(signature.parameters.values())[1:])
    function.__name__ = function.__qualname__ = method.__name__
    function.__doc__ = method.__doc__
    function.__module__ = module
    return cast(Callable[P, R], function)
